"""The pandas baseline (benchmarks/pandas_baseline.py) gives the engine's numbers.

Why: the benchmark reports how much faster the SQL engine is than the pandas an analyst would
write; the ratio means something only if both compute the same thing.
"""

from __future__ import annotations

from datetime import date, time

import polars as pl
import pytest

from benchmarks import pandas_baseline
from metrics.params import Params
from metrics.pipeline.engine import compute_tables
from metrics.sample import SampleConfig, generate
from tests.builders import appt, extract, visits

WINDOW = Params(date(2024, 1, 1), date(2024, 12, 31))
INDEX_COLUMNS = ["contacts", "clinicians", "upc", "coc", "secon", "mmci", "hhi", "kpc"]


def baseline(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, pl.DataFrame]:
    frames = pandas_baseline.run({k: v.to_pandas() for k, v in tables.items()}, params)
    return {k: pl.from_pandas(v) for k, v in frames.items()}


def by_patient(frame: pl.DataFrame) -> dict[str, dict]:
    return {r["patient_id"]: r for r in frame.select("patient_id", *INDEX_COLUMNS)
            .iter_rows(named=True)}


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key in ours:
        for column, value in ours[key].items():
            expected = theirs[key][column]
            if value is None or expected is None or value != value:  # NaN is blank
                assert (expected is None or expected != expected) and (
                    value is None or value != value), (key, column, value, expected)
            elif not isinstance(value, float):  # ids and counts compare exactly
                assert value == expected, (key, column, value, expected)
            else:
                assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), (key, column)


def test_hand_worked_sequences_give_the_published_values() -> None:
    tables = extract(visits("p1", "AABBC") + visits("p2", "ABAB") + visits("p3", "A"))
    patients = by_patient(baseline(tables, WINDOW)["patients"])
    assert patients["p1"]["upc"] == pytest.approx(0.4)
    assert patients["p1"]["coc"] == pytest.approx(0.2)
    assert patients["p1"]["secon"] == pytest.approx(0.5)
    assert patients["p1"]["mmci"] == pytest.approx(0.5122, abs=5e-5)
    assert patients["p1"]["hhi"] == pytest.approx(0.36)
    assert patients["p2"]["secon"] == 0
    assert patients["p2"]["coc"] == pytest.approx(1 / 3)
    assert patients["p3"]["contacts"] == 1 and patients["p3"]["upc"] is None  # N below 2


def test_conventions_match_the_engine_on_awkward_rows() -> None:
    # same-day repeat (collapsed), DNA and blank clinician (not counted), a nurse (not GP),
    # a look-back contact that makes A known for KPC, and a patient missing from the patients
    # file (placed at the practice of their latest appointment)
    rows = [
        appt("p1", date(2023, 6, 1), "A"),
        appt("p1", date(2024, 2, 1), "A", at=time(9, 0)),
        appt("p1", date(2024, 2, 1), "A", at=time(11, 0)),
        appt("p1", date(2024, 3, 1), "B", status="did_not_attend"),
        appt("p1", date(2024, 4, 1), None),
        appt("p1", date(2024, 5, 1), "N1", role="nurse"),
        appt("p1", date(2024, 6, 1), "B", mode="telephone"),
        appt("p2", date(2024, 3, 5), "C", practice="B82002"),
        appt("p2", date(2024, 7, 5), "C", practice="B82002"),
    ]
    patients = [{"patient_id": "p1", "practice_code": "A81001", "usual_gp_id": "A"}]
    tables = extract(rows, patients)
    ours = baseline(tables, WINDOW)
    engine = compute_tables(tables, WINDOW)
    assert_same(by_patient(ours["patients"]), by_patient(engine["patients"]))
    assert by_patient(ours["patients"])["p1"]["kpc"] == pytest.approx(0.5)  # A known, B new
    practice = ours["practices"].filter(pl.col("practice_code") == "A81001").row(0, named=True)
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (1, 2)


def test_a_generated_practice_group_gives_the_engine_numbers() -> None:
    tables = generate(SampleConfig(practices=3, pcns=1, scale=0.02))
    params = Params(date(2024, 11, 1), date(2026, 10, 31))
    ours = baseline(tables, params)
    engine = compute_tables(tables, params)
    assert ours["patients"].height > 400
    assert_same(by_patient(ours["patients"]), by_patient(engine["patients"]))

    columns = ["upc_mean", "coc_mean", "secon_mean", "mmci_mean", "hhi_mean", "kpc_mean",
               "eligible_patients", "slicc_numerator", "slicc_denominator", "slicc"]
    practice_rows = {r["practice_code"]: {c: r[c] for c in columns}
                     for r in ours["practices"].iter_rows(named=True)}
    engine_rows = {r["practice_code"]: {c: r[c] for c in columns}
                   for r in engine["practices"].iter_rows(named=True)
                   if r["eligible_patients"]}  # a merged practice keeps an empty row
    assert_same(practice_rows, engine_rows)

    monthly = {(r["practice_code"], r["month"].strftime("%Y-%m")):
               {"n": r["slicc_numerator"], "d": r["slicc_denominator"]}
               for r in ours["slicc_monthly"].iter_rows(named=True)}
    engine_monthly = {(r["practice_code"], r["month"].strftime("%Y-%m")):
                      {"n": r["slicc_numerator"], "d": r["slicc_denominator"]}
                      for r in engine["slicc_monthly"].iter_rows(named=True)
                      if r["slicc_denominator"]}
    assert monthly == engine_monthly
