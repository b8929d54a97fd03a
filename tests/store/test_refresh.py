"""Incremental refresh (metrics/pipeline/refresh.py): one more month of appointments gives
exactly the tables of a full rebuild, reusing what the earlier months already computed.

The extract is a small generated ICB (4 practices, 27 months to October 2026). The store starts
with the months to August 2026 and a 24-month window ending then; September and October arrive
one at a time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from benchmarks.checks import read_sorted
from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.params import Params
from metrics.pipeline import refresh
from metrics.sample import SampleConfig, generate
from metrics.store import write_store

BASE_WINDOW = Params(date(2024, 9, 1), date(2026, 8, 31))
SEPTEMBER, OCTOBER = date(2026, 9, 1), date(2026, 10, 1)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return generate(SampleConfig(practices=4, pcns=2, scale=0.03))


def month(appointments: pl.DataFrame, first_day: date) -> pl.DataFrame:
    start = pl.lit(first_day)
    return appointments.filter((pl.col("appointment_date") >= start)
                               & (pl.col("appointment_date") < start.dt.offset_by("1mo")))


def before(appointments: pl.DataFrame, day: date) -> pl.DataFrame:
    return appointments.filter(pl.col("appointment_date") < day)


def store(path: Path, tables: dict[str, pl.DataFrame], appointments: pl.DataFrame) -> Path:
    result = IngestResult(tables={**tables, "appointments": appointments}, extras={},
                          rejects=pl.DataFrame(schema=REJECT_SCHEMA), report=IngestReport())
    return write_store(result, path)




def assert_same_tables(ours: Path, full: Path) -> None:
    for table in refresh.table_names():
        a, b = read_sorted(ours, table), read_sorted(full, table)
        assert a.columns == b.columns, table
        assert a.height == b.height, table
        for column in a.columns:
            x, y = a[column], b[column]
            if x.dtype.is_float():  # sums of doubles in another order: equal to 1e-12
                assert ((x - y).abs() <= 1e-12 * y.abs().fill_null(0).clip(1)).fill_null(
                    x.is_null() & y.is_null()).all(), (table, column)
                assert (x.is_null() == y.is_null()).all(), (table, column)
            else:
                assert x.equals(y), (table, column)


@pytest.fixture()
def base(tmp_path: Path, tables: dict[str, pl.DataFrame]) -> Path:
    path = store(tmp_path / "refreshed.duckdb", tables, before(tables["appointments"], SEPTEMBER))
    refresh.full_build(path, BASE_WINDOW)
    return path


def full_rebuild(tmp_path: Path, tables: dict[str, pl.DataFrame], through: date,
                 window: Params) -> Path:
    path = store(tmp_path / "full.duckdb", tables, before(tables["appointments"], through))
    refresh.full_build(path, window)
    return path


def test_two_monthly_refreshes_equal_a_full_rebuild_table_by_table(
        base: Path, tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    for first_day in (SEPTEMBER, OCTOBER):
        refresh.append_appointments(base, month(tables["appointments"], first_day))
        report = refresh.refresh(base)
        assert report.incremental
        assert report.new_appointments == month(tables["appointments"], first_day).height
    assert report.params == Params(date(2024, 11, 1), date(2026, 10, 31))
    full = full_rebuild(tmp_path, tables, date(2026, 11, 1), report.params)
    assert_same_tables(base, full)
    assert read_sorted(base, "result_group_named_gp_monthly")["month_start"].max() == OCTOBER


def test_a_refresh_reuses_stored_months_and_recomputes_the_first_and_last(
        base: Path, tables: dict[str, pl.DataFrame]) -> None:
    # mark a stored row of a middle month and one of the month that becomes the first: the
    # middle one must come back untouched (reused), the first one recomputed
    con = duckdb.connect(str(base))
    con.execute("UPDATE result_appointment_mix SET appointments = -1 "
                "WHERE month_start IN ('2025-06-01', '2024-10-01')")
    con.close()
    refresh.append_appointments(base, month(tables["appointments"], SEPTEMBER))
    refresh.refresh(base)
    mix = read_sorted(base, "result_appointment_mix")
    marked = mix.filter(pl.col("appointments") == -1)["month_start"].unique().to_list()
    assert marked == [date(2025, 6, 1)]
    assert mix["month_start"].min() == date(2024, 10, 1)
    assert mix.filter(pl.col("month_start") == SEPTEMBER).height > 0


def test_an_appointment_added_to_an_earlier_month_needs_a_full_rebuild(
        base: Path, tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    late = month(tables["appointments"], SEPTEMBER)
    back_dated = late.head(1).with_columns(appointment_id=pl.lit("late-entry"),
                                           appointment_date=pl.lit(date(2026, 3, 4)))
    refresh.append_appointments(base, pl.concat([late, back_dated]))
    with pytest.raises(refresh.RefreshError, match="before the new month"):
        refresh.refresh(base)
    report = refresh.refresh_or_rebuild(base)
    assert not report.incremental and "before the new month" in report.reason
    expected = store(tmp_path / "full.duckdb", tables,
                     pl.concat([before(tables["appointments"], OCTOBER), back_dated]))
    refresh.full_build(expected, report.params)
    assert_same_tables(base, expected)


def test_a_refresh_adds_exactly_one_month(base: Path, tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(refresh.RefreshError, match="no appointments after 2026-08-31"):
        refresh.refresh(base)
    two = pl.concat([month(tables["appointments"], SEPTEMBER),
                     month(tables["appointments"], OCTOBER)])
    refresh.append_appointments(base, two)
    with pytest.raises(refresh.RefreshError, match="exactly one month"):
        refresh.refresh(base)


def test_a_store_without_refresh_state_is_refused(tmp_path: Path,
                                                  tables: dict[str, pl.DataFrame]) -> None:
    path = store(tmp_path / "plain.duckdb", tables, tables["appointments"])
    with pytest.raises(refresh.RefreshError, match="no refresh state"):
        refresh.refresh(path)


def test_a_store_with_an_earlier_versions_state_is_rebuilt_in_full(
        base: Path, tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    # stores built before rolling UPC was kept per list kept it per patient
    con = duckdb.connect(str(base))
    con.execute("ALTER TABLE state_list_rolling_upc RENAME TO state_patient_rolling_upc")
    con.close()
    refresh.append_appointments(base, month(tables["appointments"], SEPTEMBER))
    with pytest.raises(refresh.RefreshError, match="no state_list_rolling_upc"):
        refresh.refresh(base)
    report = refresh.refresh_or_rebuild(base)
    assert not report.incremental and "earlier version" in report.reason
    assert_same_tables(base, full_rebuild(tmp_path, tables, OCTOBER, report.params))


def test_an_unlisted_patient_who_moves_practice_needs_a_full_rebuild(
        tmp_path: Path, tables: dict[str, pl.DataFrame]) -> None:
    # A patient missing from the patients extract belongs where their latest appointment was
    # (patient_practice.sql): an appointment at another practice in the new month moves them,
    # and with them the rows of every month already computed.
    earlier = before(tables["appointments"], SEPTEMBER)
    pid = earlier["patient_id"][0]
    home = earlier.filter(pl.col("patient_id") == pid).sort("appointment_date")["practice_code"]
    other = tables["practices"].filter(pl.col("practice_code") != home[-1])["practice_code"][0]
    unlisted = {**tables, "patients": tables["patients"].filter(pl.col("patient_id") != pid)}
    path = store(tmp_path / "refreshed.duckdb", unlisted, earlier)
    refresh.full_build(path, BASE_WINDOW)
    moved = earlier.filter(pl.col("patient_id") == pid).head(1).with_columns(
        appointment_id=pl.lit("moved"), appointment_date=pl.lit(date(2026, 9, 15)),
        practice_code=pl.lit(other))
    new_month = pl.concat([
        month(tables["appointments"], SEPTEMBER).filter(pl.col("patient_id") != pid), moved])
    refresh.append_appointments(path, new_month)
    with pytest.raises(refresh.RefreshError, match="moved practice"):
        refresh.refresh(path)
    report = refresh.refresh_or_rebuild(path)
    assert not report.incremental and "moved practice" in report.reason
    expected = store(tmp_path / "full.duckdb", unlisted, pl.concat([earlier, new_month]))
    refresh.full_build(expected, report.params)
    assert_same_tables(path, expected)


def practice_history(path: Path, practice: str, month_start: date) -> int | None:
    rows = read_sorted(path, "result_group_rolling_upc").filter(
        (pl.col("level") == "practice") & (pl.col("group_code") == practice)
        & (pl.col("month_start") == month_start))
    return rows["history_months"].item()


def test_a_practice_whose_first_month_leaves_the_look_back_is_refreshed_exactly(
        tmp_path: Path, tables: dict[str, pl.DataFrame]) -> None:
    # One counted contact in September 2023, the base window's first look-back month, is its
    # practice's first data; the next refresh's look-back starts in October 2023, so the
    # practice's first month moves to August 2024 and every reused month's history_months with it.
    patients = tables["patients"]
    visit = tables["appointments"].join(patients.select("patient_id", "practice_code"),
                                        on=["patient_id", "practice_code"]).filter(
        (pl.col("status") == "attended") & (pl.col("clinician_role") == "gp")
        & (pl.col("mode") == "face_to_face")).sort("appointment_id").head(1)
    practice = visit["practice_code"].item()
    assert tables["appointments"].filter(pl.col("practice_code") == practice)[
        "appointment_date"].min() == date(2024, 8, 1)
    early = visit.with_columns(appointment_id=pl.lit("early"),
                               appointment_date=pl.lit(date(2023, 9, 15)))
    with_early = {**tables, "appointments": pl.concat([early, tables["appointments"]])}
    path = store(tmp_path / "refreshed.duckdb", with_early,
                 before(with_early["appointments"], SEPTEMBER))
    refresh.full_build(path, BASE_WINDOW)
    assert practice_history(path, practice, date(2024, 11, 1)) == 12  # since September 2023
    refresh.append_appointments(path, month(tables["appointments"], SEPTEMBER))
    report = refresh.refresh(path)
    assert report.incremental
    assert practice_history(path, practice, date(2024, 11, 1)) == 4  # since August 2024
    full = full_rebuild(tmp_path, with_early, OCTOBER, report.params)
    assert_same_tables(path, full)


def test_a_refresh_reports_its_progress_step_by_step(
        base: Path, tables: dict[str, pl.DataFrame]) -> None:
    seen: list[tuple[str, float]] = []
    refresh.append_appointments(base, month(tables["appointments"], SEPTEMBER))
    refresh.refresh(base, progress=lambda label, fraction: seen.append((label, fraction)))
    labels, fractions = [s[0] for s in seen], [s[1] for s in seen]
    assert labels[0] == "refreshing: copy store" and labels[-1] == "refreshing: swap store"
    assert "refreshing: list_rolling_upc" in labels
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] > 0
