"""Building the dashboard's database: the default sample on first run, an upload's column
mapping, and the atomic rebuild the Data page calls."""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from metrics import read
from metrics.mapping import load_mapping
from metrics.pipeline import build, refresh
from metrics.sample import SampleConfig
from tests.store.test_results import hand_extract

TINY = SampleConfig(practices=2, pcns=1, months=3, scale=0.01)


def test_the_database_path_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(build.DB_ENV, "/somewhere/else.duckdb")
    assert build.db_path() == Path("/somewhere/else.duckdb")
    monkeypatch.delenv(build.DB_ENV)
    assert build.db_path() == Path("data/continuity.duckdb")


def test_first_run_builds_the_sample_once_with_stored_results(tmp_path: Path):
    path = tmp_path / "first.duckdb"
    seen: list[float] = []
    assert build.ensure_default_store(path, config=TINY,
                                      progress=lambda label, f: seen.append(f))
    assert seen and min(seen) >= 0 and max(seen) <= 1 and seen == sorted(seen)
    stamp = path.stat().st_mtime_ns
    assert not build.ensure_default_store(path, config=TINY)  # already there: untouched
    assert path.stat().st_mtime_ns == stamp
    source = read.open_results(path)
    assert read.store_counts(source)["practices"] == 2
    assert read.groups(source, "all")["level"].to_list() == ["all"]


def test_the_sample_counts_as_an_ingest_with_nothing_rejected():
    result = build.sample_result(TINY)
    assert result.rejects.height == 0
    counts = result.report.counts["appointments"]
    assert counts.rows_read == counts.loaded == result.tables["appointments"].height
    assert result.report.notes == ["synthetic sample: seed 20261124, 2 practices, 3 months, "
                                   "scale 0.01"]


def test_rebuild_swaps_in_the_new_database_and_keeps_the_old_on_failure(tmp_path: Path):
    path = tmp_path / "swap.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    reader = read.open_results(path)  # a reader holding the old file open
    assert read.store_counts(reader)["appointments"] == 19
    smaller = hand_extract()
    smaller["appointments"] = smaller["appointments"].head(4)
    build.rebuild(build.result_from_tables(smaller, "test"), path)
    assert read.store_counts(read.open_results(path))["appointments"] == 4
    broken = hand_extract()
    broken["appointments"] = broken["appointments"].drop("status")
    with pytest.raises(Exception):  # noqa: B017 - whichever layer notices first
        build.rebuild(build.result_from_tables(broken, "test"), path)
    assert read.store_counts(read.open_results(path))["appointments"] == 4
    # no side files; the replaced database is kept for undo
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swap.duckdb", "swap.duckdb.previous"]


def test_the_preset_finds_columns_by_alias_ignoring_case_and_spacing():
    headers = ["Patient", "Appointment Date", "CLINICIAN", "role", "Status", "mode",
               "practice_code", "appointment_id"]
    found = build.preset_matches("canonical", "appointments", headers)
    assert found["patient_id"] == "Patient"
    assert found["appointment_date"] == "Appointment Date"
    assert found["clinician_id"] == "CLINICIAN"
    assert found["clinician_role"] == "role"
    assert found["appointment_time"] is None


def test_column_choices_become_a_mapping_file_the_loader_accepts(tmp_path: Path):
    text = build.mapping_toml({"appointments": {"patient_id": 'NHS "No"',
                                                "clinician_id": "Session Holder",
                                                "mode": ""}})
    assert text == ('name = "dashboard_upload"\n\n[appointments.columns]\n'
                    'patient_id = "NHS \\"No\\""\nclinician_id = "Session Holder"\n')
    assert tomllib.loads(text)["appointments"]["columns"]["patient_id"] == 'NHS "No"'
    file = tmp_path / "mapping.toml"
    file.write_text(text, "utf-8")
    mapping = load_mapping("canonical", file).table("appointments")
    assert mapping.aliases("clinician_id")[0] == "session_holder"


def test_unknown_tables_or_fields_in_column_choices_are_refused():
    with pytest.raises(ValueError, match="unknown table 'visits'"):
        build.mapping_toml({"visits": {"patient_id": "x"}})
    with pytest.raises(ValueError, match="'colour' is not a field of appointments"):
        build.mapping_toml({"appointments": {"colour": "x"}})


@pytest.mark.parametrize(("name", "safe"), [
    ("appointments.csv", "appointments.csv"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\My Export (2).xlsx", "My_Export_2_.xlsx"),
    ("...", "upload"),
    ("é€.csv", "csv"),
])
def test_uploaded_file_names_are_reduced_to_safe_characters(name: str, safe: str):
    assert build.safe_file_name(name) == safe


def test_a_database_open_for_reading_does_not_block_a_rebuild(tmp_path: Path):
    path = tmp_path / "busy.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        build.rebuild(build.result_from_tables(hand_extract(), "again"), path)
    finally:
        con.close()
    assert read.store_counts(read.open_results(path))["patients"] == 4


def test_an_extract_without_modes_counts_its_unknown_modes_in_the_stored_results(
        tmp_path: Path):
    # A SystmOne report export records no mode: counted by default, it would count nothing.
    # The Data page's rebuild keeps the same results as `python -m metrics ingest`.
    tables = hand_extract()
    tables["appointments"] = tables["appointments"].with_columns(mode=pl.lit("unknown"))
    path = tmp_path / "modeless.duckdb"
    build.rebuild(build.result_from_tables(tables, "test"), path)
    stored = refresh.stored_params(path)
    assert stored is not None and "unknown" in stored.modes
    practices = read.groups(read.open_results(path), "practice")
    assert practices["contacts"].sum() > 0


def test_a_rebuild_keeps_what_an_incremental_refresh_needs(tmp_path: Path):
    path = tmp_path / "stateful.duckdb"
    assert not refresh.has_state(path)  # no file yet
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    assert refresh.has_state(path)
    # appending the same rows again adds no month: computed in full, with the reason
    report = build.rebuild(build.result_from_tables(hand_extract(), "again"), path,
                           append=True)
    assert report is not None and not report.incremental
    assert build.report_lines(report) == [
        f"results: computed in full for {report.params.window_start} to "
        f"{report.params.window_end} ({sum(report.seconds.values()):.1f} s): not "
        f"incrementally, because the window is still {report.params.window_start} to "
        f"{report.params.window_end} (the data's last complete month has not changed)"]
    assert refresh.has_state(path)


def test_an_append_whose_results_fail_leaves_the_store_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # the rows and the results change together or not at all
    path = tmp_path / "atomic.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    before = path.read_bytes()

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("the refresh broke")

    monkeypatch.setattr(refresh, "refresh_or_rebuild", broken)
    more = hand_extract()
    more["appointments"] = more["appointments"].with_columns(
        appointment_id=pl.col("appointment_id") + "-again")
    with pytest.raises(RuntimeError, match="the refresh broke"):
        build.rebuild(build.result_from_tables(more, "more"), path, append=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.duckdb"]


def test_appending_to_a_store_without_refresh_state_computes_in_full_and_keeps_it(
        tmp_path: Path):
    # a store from before this version keeps results but no refresh state: the append computes
    # the results in full with the load, and keeps the state from then on
    from metrics.store import write_store

    path = tmp_path / "older.duckdb"
    write_store(build.result_from_tables(hand_extract(), "older"), path)
    assert not refresh.has_state(path)
    more = hand_extract()
    more["appointments"] = more["appointments"].with_columns(
        appointment_id=pl.col("appointment_id") + "-again")
    assert build.rebuild(build.result_from_tables(more, "more"), path, append=True) is None
    assert refresh.has_state(path)
    assert read.store_counts(read.open_results(path))["appointments"] == 38
