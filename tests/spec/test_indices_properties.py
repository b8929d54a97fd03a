"""Random extracts: the SQL pipeline equals the pure-Python reference for every index, and the
statistical facts of docs/methods.md hold."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import reference
from metrics.params import Params
from metrics.schema import MODES
from tests.builders import appt, extract

START = date(2024, 1, 1)
STARTS = (START, date(2024, 1, 17))  # a window may start mid-month: its first month is cut
PRACTICES = ("A81001", "B82002")
CLINICIANS = ("A", "B", "C", "D", "")
ROLES = ("gp", "gp", "gp", "gp_registrar", "locum_gp", "nurse", "pharmacist", "admin", "unknown")
TIMES = (None, time(9), time(9, 30), time(14))


@st.composite
def extracts(draw: st.DrawFn) -> tuple[dict[str, pl.DataFrame], Params]:
    start = draw(st.sampled_from(STARTS))
    n_patients = draw(st.integers(1, 5))
    pids = [f"p{i}" for i in range(n_patients)]
    rows: list[dict] = []
    for k in range(draw(st.integers(0, 40))):
        # Half the rows are a same-day twin of the row before (same patient and day, any
        # clinician and time): usual-provider ties within one day (docs/methods.md s.3) are common.
        twin = bool(rows) and draw(st.booleans())
        rows.append(appt(
            rows[-1]["patient_id"] if twin else draw(st.sampled_from(pids)),
            # look-back, window, after; often the window's first days, which most windows hold
            rows[-1]["appointment_date"] if twin
            else start + timedelta(days=draw(st.one_of(st.integers(0, 3), st.integers(-400, 120)))),
            draw(st.sampled_from(CLINICIANS)),
            role=draw(st.sampled_from(ROLES)),
            status=draw(st.sampled_from(("attended",) * 5 + ("did_not_attend", "cancelled"))),
            mode=draw(st.sampled_from(MODES)),
            at=draw(st.sampled_from(TIMES)),
            practice=draw(st.sampled_from(PRACTICES)),
            appointment_id=f"{draw(st.integers(0, 999)):03d}-{k}",
        ))
    patients = [
        {"patient_id": p, "practice_code": draw(st.sampled_from(PRACTICES)),
         "usual_gp_id": draw(st.sampled_from((None, "A", "B", "C")))}
        for p in pids if draw(st.booleans()) or p == "p0"
    ]
    params = Params(
        start, start + timedelta(days=draw(st.integers(0, 90))),
        min_contacts=draw(st.integers(2, 3)),
        staff_group=draw(st.sampled_from(("gp", "clinical", "all"))),
        modes=tuple(draw(st.sets(st.sampled_from(MODES), min_size=1))),
        collapse_same_day=draw(st.booleans()),
    )
    return extract(rows, patients), params


def month_key(month: date) -> str:
    return f"{month:%Y-%m}"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=extracts())
def test_patient_indices_equal_the_reference(compute, case) -> None:
    tables, params = case
    expected = reference.patient_indices(tables, params)
    got = {r["patient_id"]: r for r in compute(tables, params)["patients"].to_dicts()}
    assert set(got) == set(expected)
    for pid, want in expected.items():
        row = got[pid]
        for column, value in want.items():
            if isinstance(value, float):
                assert row[column] == pytest.approx(value, abs=1e-12), (pid, column)
            else:
                assert row[column] == value, (pid, column)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=extracts())
def test_slicc_and_opr_equal_the_reference(compute, case) -> None:
    tables, params = case
    expected = reference.named_gp_ratios(tables, params)
    out = compute(tables, params)
    got: dict[str, dict] = {}
    for r in out["practices"].to_dicts():
        got[f"practice:{r['practice_code']}"] = r
    for r in out["gp_lists"].to_dicts():
        got[f"list:{r['practice_code']}:{r['usual_gp_id']}"] = r
    for r in out["slicc_monthly"].to_dicts():
        got[f"month:{r['practice_code']}:{month_key(r['month'])}"] = r
    for key, want in expected.items():
        measures = ["slicc_numerator", "slicc_denominator"]
        if not key.startswith("month:"):  # OPR is not broken down by month in the outputs
            measures += ["opr_numerator", "opr_denominator"]
        for measure in measures:
            assert got[key][measure] == want.get(measure, 0), (key, measure)
    for key, row in got.items():  # nothing counted that the reference did not count
        if key not in expected:
            assert row["slicc_denominator"] == 0, key


def patients_drawing_from(probabilities: list[float], contacts: int, patients: int,
                          seed: int) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    clinicians = [chr(ord("A") + i) for i in range(len(probabilities))]
    rows = []
    for p in range(patients):
        for k, c in enumerate(rng.choices(clinicians, probabilities, k=contacts)):
            rows.append(appt(f"p{p}", START + timedelta(days=k), c))
    return extract(rows)


def test_mean_coc_is_unbiased_for_the_sum_of_squared_shares(compute) -> None:
    shares = [0.5, 0.3, 0.2]  # sum p^2 = 0.38
    out = compute(patients_drawing_from(shares, 3, 3000, seed=1),
                  Params(START, START + timedelta(days=30)))
    practice = out["practices"].to_dicts()[0]
    assert practice["coc_mean"] == pytest.approx(0.38, abs=0.015)
    # HHI is not: E[HHI] = (1 + (N - 1) sum p^2) / N = 0.5867 at N = 3
    assert practice["hhi_mean"] == pytest.approx(0.5867, abs=0.015)


def test_upc_is_biased_upward_at_small_n(compute) -> None:
    equal = [0.2] * 5
    window = Params(START, START + timedelta(days=60))
    small = compute(patients_drawing_from(equal, 2, 3000, seed=2), window)
    large = compute(patients_drawing_from(equal, 40, 400, seed=3), window)
    assert small["practices"]["upc_mean"][0] == pytest.approx(0.60, abs=0.02)
    assert large["practices"]["upc_mean"][0] == pytest.approx(0.29, abs=0.015)
