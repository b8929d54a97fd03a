"""SLICC against the inferred regular GP (docs/methods.md s.5), on hand-worked cases and random
extracts.

Inferred regular GP for month m: the GP seen most, at least twice, in the calendar months
m-12..m-1; a tie goes to the GP seen most recently: whose latest contact is later in contact
order (date, then time with a missing time later, then appointment id).
SLICC_inferred(m) = GP contacts in m with that GP / GP contacts in m of patients who have one.
Every case runs on the pure-Python reference and on the SQL pipeline (every engine of the
`compute` fixture); the rolled-up levels are read from the DuckDB pipeline's table.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import reference
from metrics.params import Params
from metrics.pipeline import engine
from metrics.read import ResultSource
from metrics.schema import MODES
from tests.builders import PRACTICE, appt, extract, one_row

MARCH_2024 = Params(date(2024, 3, 1), date(2024, 3, 31))


def month_row(out: dict[str, pl.DataFrame], month: date, practice: str = PRACTICE) -> dict:
    return one_row(out["slicc_inferred_monthly"], practice_code=practice, month=month)


def counts(row: dict) -> tuple[int, int, int]:
    return (row["slicc_inferred_numerator"], row["slicc_inferred_denominator"],
            row["gp_contacts"])


def reference_counts(tables: dict[str, pl.DataFrame], params: Params, month: date,
                     practice: str = PRACTICE) -> tuple[int, int, int]:
    row = reference.inferred_slicc_monthly(tables, params).get((practice, f"{month:%Y-%m}"), {})
    return (row.get("slicc_inferred_numerator", 0), row.get("slicc_inferred_denominator", 0),
            row.get("gp_contacts", 0))


def test_a_gp_seen_exactly_twice_before_the_month_is_the_inferred_gp(compute) -> None:
    rows = [
        # p1: A in January and February -> inferred A for March; March: A then B
        appt("p1", date(2024, 1, 10), "A"), appt("p1", date(2024, 2, 10), "A"),
        appt("p1", date(2024, 3, 5), "A"), appt("p1", date(2024, 3, 12), "B"),
        # p2: A once -> no inferred GP; March's contact counts as a GP contact only
        appt("p2", date(2024, 1, 10), "A"), appt("p2", date(2024, 3, 5), "A"),
    ]
    tables = extract(rows)
    row = month_row(compute(tables, MARCH_2024), date(2024, 3, 1))
    assert counts(row) == (1, 2, 3)
    assert row["slicc_inferred"] == 0.5
    assert reference_counts(tables, MARCH_2024, date(2024, 3, 1)) == (1, 2, 3)


def test_a_tie_goes_to_the_gp_seen_most_recently(compute) -> None:
    rows = [
        appt("p1", date(2023, 6, 1), "A"), appt("p1", date(2023, 7, 1), "A"),
        appt("p1", date(2024, 1, 10), "B"), appt("p1", date(2024, 2, 10), "B"),
        # March: B twice and A once -> 2 of 3 with the inferred GP B (1 of 3 had it been A)
        appt("p1", date(2024, 3, 4), "B"), appt("p1", date(2024, 3, 11), "B"),
        appt("p1", date(2024, 3, 18), "A"),
    ]
    tables = extract(rows)
    assert counts(month_row(compute(tables, MARCH_2024), date(2024, 3, 1))) == (2, 3, 3)
    assert reference.inferred_regular_gp(
        [((date(2023, 6, 1),), "A"), ((date(2023, 7, 1),), "A"), ((date(2024, 1, 10),), "B"),
         ((date(2024, 2, 10),), "B")], date(2024, 3, 1)) == "B"


@pytest.mark.parametrize(("last_a", "last_b", "inferred"), [
    # A and B twice each, both last seen on 10 February
    ((time(9, 0), "x2"), (time(11, 0), "x3"), "B"),   # B at 11:00 is later than A at 9:00
    ((None, "x2"), (time(11, 0), "x3"), "A"),         # A with no time is later than any time
    ((time(9, 0), "x9"), (time(9, 0), "x2"), "A"),    # same time: the larger appointment id
], ids=["later-time", "missing-time-is-later", "same-time-larger-appointment-id"])
def test_a_tie_on_count_and_last_day_goes_to_the_gp_seen_later_that_day(
        compute, last_a: tuple, last_b: tuple, inferred: str) -> None:
    rows = [
        appt("p1", date(2024, 1, 10), "A", appointment_id="a1"),
        appt("p1", date(2024, 1, 11), "B", appointment_id="b1"),
        appt("p1", date(2024, 2, 10), "A", at=last_a[0], appointment_id=last_a[1]),
        appt("p1", date(2024, 2, 10), "B", at=last_b[0], appointment_id=last_b[1]),
        appt("p1", date(2024, 3, 5), inferred, appointment_id="m1"),  # with the inferred GP
        appt("p1", date(2024, 3, 6), "C", appointment_id="m2"),
    ]
    tables = extract(rows)
    assert counts(month_row(compute(tables, MARCH_2024), date(2024, 3, 1))) == (1, 2, 2)
    assert reference_counts(tables, MARCH_2024, date(2024, 3, 1)) == (1, 2, 2)


def test_the_history_is_the_twelve_calendar_months_before_the_month(compute) -> None:
    january_2025 = Params(date(2025, 1, 1), date(2025, 1, 31))
    rows = [
        # p1: both contacts in January 2024 (m-12, its first and last day) -> inferred A.
        # 2025-01-01 minus 365 days is 2024-01-02 (2024 is a leap year): the history must
        # still reach 2024-01-01.
        appt("p1", date(2024, 1, 1), "A"), appt("p1", date(2024, 1, 31), "A"),
        appt("p1", date(2025, 1, 8), "A"),
        # p2: 2023-12-31 is month m-13, outside the history -> A seen once -> no inferred GP
        appt("p2", date(2023, 12, 31), "A"), appt("p2", date(2024, 6, 1), "A"),
        appt("p2", date(2025, 1, 8), "A"),
    ]
    tables = extract(rows)
    assert counts(month_row(compute(tables, january_2025), date(2025, 1, 1))) == (1, 1, 2)
    assert reference_counts(tables, january_2025, date(2025, 1, 1)) == (1, 1, 2)


def test_the_first_months_of_the_data_have_no_history(compute) -> None:
    window = Params(date(2025, 1, 1), date(2025, 2, 28))
    rows = [
        # contacts of the month itself never make its inferred GP: January has none
        appt("p1", date(2025, 1, 5), "A"), appt("p1", date(2025, 1, 20), "A"),
        appt("p1", date(2025, 2, 3), "A"),  # February: A seen twice in January -> 1 of 1
    ]
    out = compute(extract(rows), window)
    january = month_row(out, date(2025, 1, 1))
    assert counts(january) == (0, 0, 2)
    assert january["slicc_inferred"] is None  # missing, never 0
    assert counts(month_row(out, date(2025, 2, 1))) == (1, 1, 1)


def test_same_day_contacts_with_one_gp_count_once_in_the_history(compute) -> None:
    rows = [
        appt("p1", date(2024, 2, 10), "A", at=time(9)),
        appt("p1", date(2024, 2, 10), "A", at=time(15)),
        appt("p1", date(2024, 3, 5), "A"),
    ]
    tables = extract(rows)
    collapsed = compute(tables, MARCH_2024)
    assert counts(month_row(collapsed, date(2024, 3, 1))) == (0, 0, 1)
    each = MARCH_2024.with_(collapse_same_day=False)
    assert counts(month_row(compute(tables, each), date(2024, 3, 1))) == (1, 1, 1)
    assert reference_counts(tables, each, date(2024, 3, 1)) == (1, 1, 1)


def test_only_slicc_contacts_count_and_any_gp_role_can_be_inferred(compute) -> None:
    rows = [
        appt("p1", date(2024, 1, 3), "A"),  # the only counted contact with A
        appt("p1", date(2024, 1, 10), "A", status="did_not_attend"),
        appt("p1", date(2024, 1, 17), "A", mode="unknown"),
        *[appt("p1", date(2024, 2, d), "N", role="nurse") for d in (1, 8, 15)],
        appt("p1", date(2024, 2, 20), "R", role="gp_registrar"),
        appt("p1", date(2024, 2, 27), "R", role="gp_registrar"),
        appt("p1", date(2024, 3, 5), "A"),
        appt("p1", date(2024, 3, 6), "N", role="nurse"),  # not a GP contact
    ]
    tables = extract(rows)
    clinical = MARCH_2024.with_(staff_group="clinical")  # SLICC's contacts are GP contacts
    row = month_row(compute(tables, clinical), date(2024, 3, 1))
    assert counts(row) == (0, 1, 1)  # inferred R (registrar, twice); March's GP contact is A
    assert reference_counts(tables, clinical, date(2024, 3, 1)) == (0, 1, 1)


def test_the_inferred_variant_never_replaces_slicc_against_the_named_gp(compute) -> None:
    rows = [
        appt("p1", date(2024, 1, 10), "A"), appt("p1", date(2024, 2, 10), "A"),
        appt("p1", date(2024, 3, 4), "A"), appt("p1", date(2024, 3, 11), "A"),
        appt("p1", date(2024, 3, 18), "B"),
    ]
    tables = extract(rows, [{"patient_id": "p1", "practice_code": PRACTICE, "usual_gp_id": "B"}])
    out = compute(tables, MARCH_2024)
    named = out["slicc_monthly"].to_dicts()[0]
    assert (named["slicc_numerator"], named["slicc_denominator"]) == (1, 3)
    assert counts(month_row(out, date(2024, 3, 1))) == (2, 3, 3)


def pipeline_table(tables: dict[str, pl.DataFrame], params: Params, name: str) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        backend = engine.DuckDBBackend(con)
        engine.register_tables(backend, tables)
        engine.run_pipeline(backend, params)
        return backend.fetch(f"SELECT * FROM {name}")
    finally:
        con.close()


def test_rolled_up_like_named_gp_slicc_with_inferred_lists() -> None:
    other = "B82002"
    rows = [
        appt("p1", date(2024, 1, 10), "A"), appt("p1", date(2024, 2, 10), "A"),
        appt("p1", date(2024, 3, 5), "A"), appt("p1", date(2024, 3, 12), "B"),  # 1 of 2
        appt("q1", date(2024, 1, 10), "C", practice=other),
        appt("q1", date(2024, 2, 10), "C", practice=other),
        appt("q1", date(2024, 3, 5), "C", practice=other),  # 1 of 1
        appt("q2", date(2024, 3, 5), "C", practice=other),  # no history: GP contact only
    ]
    got = pipeline_table(extract(rows), MARCH_2024, "group_inferred_gp_monthly")
    march = got.filter(pl.col("month_start") == date(2024, 3, 1))

    def at(level: str, code: str, subgroup: str = "") -> tuple[int, int, int]:
        r = march.filter((pl.col("level") == level) & (pl.col("group_code") == code)
                         & (pl.col("subgroup") == subgroup)).to_dicts()
        assert len(r) == 1, (level, code, subgroup)
        return (r[0]["slicc_inferred_numerator"], r[0]["slicc_inferred_denominator"],
                r[0]["gp_contacts"])

    assert at("practice", PRACTICE) == (1, 2, 2)
    assert at("practice", other) == (1, 1, 2)
    assert at("pcn", "U00001") == (2, 3, 4)
    assert at("all", "all") == (2, 3, 4)
    assert at("gp_list", PRACTICE, "A") == (1, 2, 2)
    assert at("gp_list", other, "C") == (1, 1, 1)
    assert march.filter(pl.col("level") == "gp_list").height == 2  # no named-GP lists here


# ---- random extracts: SQL == reference ------------------------------------------------------

STARTS = (date(2024, 1, 1), date(2024, 3, 1), date(2024, 3, 15))  # leap-year look-back, mid-month
CLINICIANS = ("A", "B", "C", "")
ROLES = ("gp", "gp", "gp", "gp_registrar", "locum_gp", "nurse", "admin")


@st.composite
def extracts(draw: st.DrawFn) -> tuple[dict[str, pl.DataFrame], Params]:
    start = draw(st.sampled_from(STARTS))
    pids = [f"p{i}" for i in range(draw(st.integers(1, 4)))]
    rows: list[dict] = []
    for k in range(draw(st.integers(0, 45))):
        # Half the rows are a same-day twin of the row before (same patient and day, any GP and
        # time): GPs tied on count and last day (docs/methods.md s.5) are common.
        twin = bool(rows) and draw(st.booleans())
        rows.append(appt(
            rows[-1]["patient_id"] if twin else draw(st.sampled_from(pids)),
            rows[-1]["appointment_date"] if twin
            else start + timedelta(days=draw(st.integers(-430, 100))),
            draw(st.sampled_from(CLINICIANS)), role=draw(st.sampled_from(ROLES)),
            status=draw(st.sampled_from(("attended",) * 5 + ("did_not_attend",))),
            mode=draw(st.sampled_from(MODES)),
            at=draw(st.sampled_from((None, time(9), time(14)))),
            practice=draw(st.sampled_from((PRACTICE, "B82002"))),
            appointment_id=f"{draw(st.integers(0, 99)):02d}-{k}"))
    params = Params(start, start + timedelta(days=draw(st.integers(0, 80))),
                    staff_group=draw(st.sampled_from(("gp", "clinical"))),
                    modes=tuple(draw(st.sets(st.sampled_from(MODES), min_size=1))),
                    collapse_same_day=draw(st.booleans()))
    return extract(rows), params


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=extracts())
def test_inferred_slicc_equals_the_reference(compute, case) -> None:
    tables, params = case
    expected = reference.inferred_slicc_monthly(tables, params)
    got = {(r["practice_code"], f"{r['month']:%Y-%m}"): r
           for r in compute(tables, params)["slicc_inferred_monthly"].to_dicts()}
    for key, want in expected.items():
        assert counts(got[key]) == (want["slicc_inferred_numerator"],
                                    want["slicc_inferred_denominator"],
                                    want["gp_contacts"]), key
    for key, row in got.items():  # nothing counted that the reference did not count
        if key not in expected:
            assert counts(row) == (0, 0, 0), key
        denominator = row["slicc_inferred_denominator"]
        assert row["slicc_inferred"] == (pytest.approx(row["slicc_inferred_numerator"]
                                                       / denominator) if denominator else None)


GPS = ("A", "B", "C")
SAME_DAY_TIMES = (None, time(9), time(9, 30), time(14))


@st.composite
def same_day_ties(draw: st.DrawFn) -> tuple[dict[str, pl.DataFrame], str]:
    """Three GPs seen twice each before March, all last on 10 February at drawn times and ids,
    and a March contact with one of them; with the GP who should be inferred."""
    rows, last = [], {}
    for n, gp in enumerate(GPS):
        at = draw(st.sampled_from(SAME_DAY_TIMES))
        appointment_id = f"{draw(st.integers(0, 3))}{gp}"
        rows += [appt("p1", date(2024, 1, 10 + n), gp, appointment_id=f"j{gp}"),
                 appt("p1", date(2024, 2, 10), gp, at=at, appointment_id=appointment_id)]
        # contact order: a missing time after any time, then the larger appointment id
        last[gp] = (at is None, at or time(0), appointment_id)
    rows.append(appt("p1", date(2024, 3, 5), draw(st.sampled_from(GPS)), appointment_id="m"))
    return extract(rows), max(GPS, key=last.__getitem__)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=same_day_ties())
def test_gps_tied_on_count_and_last_day_go_to_the_one_seen_later_that_day(compute, case) -> None:
    tables, inferred = case
    march_gp = tables["appointments"]["clinician_id"][-1]
    expected = (int(march_gp == inferred), 1, 1)
    assert counts(month_row(compute(tables, MARCH_2024), date(2024, 3, 1))) == expected
    assert reference_counts(tables, MARCH_2024, date(2024, 3, 1)) == expected


# ---- what the practice page shows -----------------------------------------------------------


def practice_source(tables: dict[str, pl.DataFrame], params: Params) -> ResultSource:

    con = duckdb.connect()
    backend = engine.DuckDBBackend(con, temporary=False)
    engine.register_tables(backend, tables)
    engine.run_pipeline(backend, params)
    return ResultSource(con, params, "")


# March 2024: p1..p9 each saw A in January and February (inferred A) and see A in March;
# p1 also sees B in March: 9 of 10 GP contacts with the inferred GP.
NINE = [r for i in range(1, 10) for r in (
    appt(f"p{i}", date(2024, 1, 10), "A"), appt(f"p{i}", date(2024, 2, 10), "A"),
    appt(f"p{i}", date(2024, 3, 5), "A"))] + [appt("p1", date(2024, 3, 12), "B")]


def test_the_practice_table_in_its_own_view_is_exact() -> None:
    from metrics.access import local_viewer
    from metrics.read import inferred

    source = practice_source(extract(NINE), MARCH_2024)
    table = inferred.practice_monthly(source, PRACTICE, local_viewer())
    row = table.shown().to_dicts()[0]
    assert (row["slicc_inferred_numerator"], row["slicc_inferred_denominator"],
            row["gp_contacts"]) == (9, 10, 10)
    assert row["slicc_inferred"] == pytest.approx(0.9)
    assert row["inferred_gp_coverage"] == 1.0
    assert row["slicc_inferred_lci"] == pytest.approx(0.5958, abs=1e-4)  # Wilson 9/10
    assert "inferred variant" in table.title and "not SLICC" in table.scope
    gps = inferred.gp_lists(source, PRACTICE, local_viewer())
    assert gps.internal
    assert gps.shown().select("inferred_gp", "slicc_inferred_numerator",
                            "slicc_inferred_denominator").rows() == [("A", 9, 10)]


def test_a_shared_view_controls_the_counts_and_shows_no_per_gp_table() -> None:
    from metrics.access import Viewer
    from metrics.read import inferred

    source = practice_source(extract(NINE), MARCH_2024)
    reviewer = Viewer(name="reviewer", role="reviewer", full_practices=frozenset())
    row = inferred.practice_monthly(source, PRACTICE, reviewer).shown().to_dicts()[0]
    # NHS rule: 9 -> 10, 10 -> 10, ratio from the rounded counts
    assert (row["slicc_inferred_numerator"], row["slicc_inferred_denominator"],
            row["slicc_inferred"]) == ("10", "10", "1.0")
    assert inferred.gp_lists(source, PRACTICE, reviewer) is None


def test_the_practice_page_ends_with_the_labelled_inferred_variant(tmp_path, monkeypatch
                                                                   ) -> None:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
    from metrics.pipeline import build

    result = IngestResult(tables=extract(NINE), extras={},
                          rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                          report=IngestReport(preset="test"))
    build.rebuild(result, tmp_path / "s.duckdb")
    monkeypatch.setenv(build.DB_ENV, str(tmp_path / "s.duckdb"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard.py"),
                           default_timeout=60)
    at.query_params["practice"] = PRACTICE
    at.run()
    at.switch_page("views/practice.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader[-1].value == ("SLICC against the inferred regular GP "
                                      "(inferred variant)")
    assert any("reads high in the first months of the data" in w.value for w in at.warning)
