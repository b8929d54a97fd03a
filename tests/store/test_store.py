"""The DuckDB store: atomic rebuilds a running reader never sees half-written, append mode that
never double counts, and a failed build that leaves the previous database exactly as it was."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import duckdb
import pytest

from metrics.store import StoreError, connect_read_only, read_meta, write_store
from tests.extract_files import appointment, canonical, ingest, table_counts, write


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def first(tmp_path: Path):  # noqa: ANN201
    """An ingest of three appointments of two patients."""
    return ingest(canonical(tmp_path / "one", [
        appointment(1, "P1", "2024-03-01"), appointment(2, "P1", "2024-03-08"),
        appointment(3, "P2", "2024-03-08", "GP2")]))


def test_a_store_holds_the_tables_rejects_report_and_meta(tmp_path: Path) -> None:
    result = ingest(canonical(tmp_path, [appointment(1, "P1", "2024-03-01"),
                                         appointment(2, "P1", "2099-03-01")]))
    db = write_store(result, tmp_path / "c.duckdb")
    assert table_counts(db) == {"appointments": 1, "patients": 1, "practices": 2}
    con = connect_read_only(db)
    try:
        rejects = con.sql("SELECT line, \"column\", raw_value FROM ingest_rejects").fetchall()
        report = dict(con.sql("SELECT measure, value FROM ingest_report "
                              "WHERE \"table\" = 'appointments'").fetchall())
        meta = read_meta(con)
    finally:
        con.close()
    assert rejects == [(3, "appointment_date", "2099-03-01")]
    assert (report["rows_read"], report["loaded"], report["rejected"]) == (2, 1, 1)
    assert meta["rows_appointments"] == "1"
    assert meta["preset"] == "canonical"
    assert meta["modes_recorded"] == "true"


def test_no_side_files_are_left_behind(tmp_path: Path, first) -> None:  # noqa: ANN001
    write_store(first, tmp_path / "c.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["c.duckdb"]


def test_a_failed_build_leaves_the_previous_database_byte_identical(tmp_path: Path,
                                                                    first) -> None:  # noqa: ANN001
    db = write_store(first, tmp_path / "c.duckdb")
    before = digest(db)

    def boom(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM appointments")  # half-way through a rebuild...
        raise duckdb.IOException("disk full")     # ...the build fails

    with pytest.raises(StoreError, match="the previous database is unchanged"):
        write_store(first, db, after_load=boom)
    assert digest(db) == before
    assert table_counts(db)["appointments"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["c.duckdb"]


def test_a_reader_keeps_its_snapshot_while_the_database_is_rebuilt(tmp_path: Path,
                                                                   first) -> None:  # noqa: ANN001
    db = write_store(first, tmp_path / "c.duckdb")
    reader = connect_read_only(db)
    try:
        bigger = ingest(canonical(tmp_path / "two", [
            appointment(i, "P1", "2024-03-01") for i in range(10)]))
        write_store(bigger, db)  # a read-only reader does not block the swap
        assert reader.sql("SELECT count(*) FROM appointments").fetchall() == [(3,)]
    finally:
        reader.close()
    assert table_counts(db)["appointments"] == 10  # a fresh connection sees the new build


def test_concurrent_readers_never_see_a_half_written_database(tmp_path: Path) -> None:
    small = ingest(canonical(tmp_path / "s", [appointment(i, "P1", "2024-03-01")
                                              for i in range(5)]))
    large = ingest(canonical(tmp_path / "l", [appointment(i, f"P{i % 50}", "2024-03-01")
                                              for i in range(2000)]))
    db = write_store(small, tmp_path / "c.duckdb")
    seen: set[tuple[int, str]] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_repeatedly() -> None:
        while not stop.is_set():
            try:
                con = connect_read_only(db)
                try:
                    n = con.sql("SELECT count(*) FROM appointments").fetchall()[0][0]
                    seen.add((n, read_meta(con)["rows_appointments"]))
                finally:
                    con.close()
            except BaseException as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(exc)
                return

    thread = threading.Thread(target=read_repeatedly)
    thread.start()
    try:
        for i in range(6):
            write_store(large if i % 2 == 0 else small, db)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    # every read saw a whole database: its row count agrees with its own meta
    assert seen and all(str(n) == rows for n, rows in seen)
    assert {n for n, _ in seen} <= {5, 2000}


def test_append_keeps_old_rows_and_never_double_counts_an_overlap(tmp_path: Path) -> None:
    jan_feb = ingest(canonical(tmp_path / "a", [
        appointment("a1", "P1", "2024-01-10"), appointment("a2", "P1", "2024-02-10"),
        appointment("a3", "P2", "2024-02-20")]))
    feb_mar = ingest(canonical(tmp_path / "b", [
        appointment("a2", "P1", "2024-02-10"), appointment("a3", "P2", "2024-02-20", "GP3"),
        appointment("a4", "P2", "2024-03-05")]))
    db = write_store(jan_feb, tmp_path / "c.duckdb")
    write_store(feb_mar, db, append=True)
    con = connect_read_only(db)
    try:
        ids = con.sql("SELECT appointment_id, clinician_id FROM appointments "
                      "ORDER BY appointment_id").fetchall()
        report = dict(con.sql("SELECT measure, value FROM ingest_report "
                              "WHERE \"table\" = 'appointments'").fetchall())
        meta = read_meta(con)
    finally:
        con.close()
    # a2 and a3 were in both exports: one row each; the newer export's a3 wins
    assert ids == [("a1", "GP1"), ("a2", "GP1"), ("a3", "GP3"), ("a4", "GP1")]
    # 6 rows read over two ingests = 4 loaded + 2 merged duplicates
    assert (report["rows_read"], report["loaded"], report["merged_duplicates"],
            report["rejected"]) == (6, 4, 2, 0)
    assert meta["appended"] == "true"


def test_append_to_a_missing_database_simply_builds_it(tmp_path: Path, first) -> None:  # noqa: ANN001
    db = write_store(first, tmp_path / "new.duckdb", append=True)
    assert table_counts(db)["appointments"] == 3


def test_append_to_a_foreign_duckdb_file_is_refused(tmp_path: Path, first) -> None:  # noqa: ANN001
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE something_else (x INTEGER)")
    con.close()
    before = digest(other)
    with pytest.raises(StoreError, match="it was not built by this tool"):
        write_store(first, other, append=True)
    assert digest(other) == before


def test_a_file_that_is_not_a_database_is_never_replaced(tmp_path: Path, first) -> None:  # noqa: ANN001
    precious = write(tmp_path / "appointments.csv", "my,precious,data\n")
    with pytest.raises(StoreError, match="is not a DuckDB database: refusing to replace it"):
        write_store(first, precious)
    assert precious.read_text() == "my,precious,data\n"


@pytest.mark.parametrize("content", [b"", b"appointment_id,patient_id\n1,P1\n",
                                     b"\x00" * 64])
def test_reading_a_file_that_is_not_a_database_is_one_clear_line(tmp_path: Path,
                                                                  content: bytes) -> None:
    path = write(tmp_path / "c.duckdb", content)
    with pytest.raises(StoreError, match=r"c\.duckdb is not a DuckDB database") as caught:
        connect_read_only(path)
    assert "\n" not in str(caught.value)


def test_reading_a_missing_database_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at .*python -m metrics ingest"):
        connect_read_only(tmp_path / "absent.duckdb")


def test_a_folder_is_not_a_database_file(tmp_path: Path, first) -> None:  # noqa: ANN001
    with pytest.raises(StoreError, match="is a folder"):
        write_store(first, tmp_path)


def test_appending_a_thin_export_keeps_what_earlier_files_said(tmp_path: Path) -> None:
    from metrics.ingest import ExtractFiles, PracticeInfo

    full = ingest(canonical(tmp_path / "full", [appointment(1, "1001", "2024-03-01", "A")],
                            patients=[("1001", "A81001", "A", "2", "65-74", "F")]))
    db = write_store(full, tmp_path / "c.duckdb")
    s1 = write(tmp_path / "s1.csv", "Patient ID,Clinician,Age in years,Appointment date\n"
                                    "1001,Dr B,70,08/03/2024\n")
    thin = ingest(ExtractFiles((s1,)), preset="systmone",
                  practice=PracticeInfo("A81001", "Riverside Surgery (new name)"))
    write_store(thin, db, append=True)
    con = connect_read_only(db)
    try:
        practice = con.sql("SELECT practice_name, pcn_code, imd_decile FROM practices "
                           "WHERE practice_code = 'A81001'").fetchall()
        patient = con.sql("SELECT usual_gp_id, imd_decile, age_band, sex FROM patients").fetchall()
    finally:
        con.close()
    # the new export's name wins; its blanks (PCN, IMD, usual GP, sex) do not erase the old
    assert practice == [("Riverside Surgery (new name)", "U12345", 3)]
    assert patient == [("A", 2, "65-74", "F")]
    assert table_counts(db)["appointments"] == 2


def test_appending_appointments_alone_never_moves_a_known_patient(tmp_path: Path) -> None:
    # Without a patients file, ingest places each patient at their latest appointment's
    # practice: a guess. A month's appointments appended on their own (the monthly routine) must
    # not move a patient the store already knows, e.g. one seen at a PCN hub of another
    # practice; a patient new to the store is placed by the guess. (National ids: a practice's
    # local ids never meet another practice's.)
    from metrics.ingest import ExtractFiles

    first = ingest(canonical(tmp_path / "first", [appointment(1, "P1", "2024-03-01")],
                             patients=[("P1", "A81001", "GP1", "2", "65-74", "F")]),
                   national_ids=True)
    db = write_store(first, tmp_path / "c.duckdb")
    month = canonical(tmp_path / "april", [appointment(2, "P1", "2024-04-02", "GP9",
                                                       practice="B82002"),
                                           appointment(3, "P7", "2024-04-03", "GP9",
                                                       practice="B82002")])
    write_store(ingest(ExtractFiles(month.appointments), national_ids=True), db, append=True)
    con = connect_read_only(db)
    try:
        patients = con.sql("SELECT patient_id, practice_code, usual_gp_id, age_band "
                           "FROM patients ORDER BY patient_id").fetchall()
    finally:
        con.close()
    assert patients == [("P1", "A81001", "GP1", "65-74"), ("P7", "B82002", None, None)]
    # with a patients file, that file's registration stands, as before
    moved = canonical(tmp_path / "moved", [appointment(4, "P1", "2024-05-02")],
                      patients=[("P1", "B82002", "GP9", "2", "65-74", "F")])
    write_store(ingest(moved, national_ids=True), db, append=True)
    con = connect_read_only(db)
    try:
        assert con.sql("SELECT practice_code FROM patients WHERE patient_id = 'P1'"
                       ).fetchall() == [("B82002",)]
    finally:
        con.close()


# ---- what a killed build leaves beside the database -------------------------------------------


def dead_pid() -> int:
    """A process id no process has now (a builder that was killed)."""
    import os

    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def side_file(db: Path, name: str, age_seconds: float) -> Path:
    import os
    import time

    path = write(db.with_name(name), b"half a database")
    when = time.time() - age_seconds
    os.utime(path, (when, when))
    return path


def test_a_build_first_removes_side_files_a_killed_build_left(tmp_path: Path,
                                                              first) -> None:  # noqa: ANN001
    import os

    db = write_store(first, tmp_path / "c.duckdb")
    dead = dead_pid()
    stale = [side_file(db, f"c.duckdb.building-{dead}", 7200),
             side_file(db, f"c.duckdb.building-{dead}.wal", 7200),
             side_file(db, f"c.duckdb.staged-{dead}", 7200)]
    kept = [side_file(db, f"c.duckdb.building-{dead - 1}", 600),  # recent: maybe still going
            side_file(db, f"c.duckdb.staged-{os.getppid()}", 7200),  # its builder still runs
            side_file(db, "c.duckdb.building-notes", 7200),  # not a side file's name
            side_file(db, "other.duckdb.building-1", 7200)]  # another database's
    write_store(first, db)
    assert [p.exists() for p in stale] == [False, False, False]
    assert [p.exists() for p in kept] == [True, True, True, True]
    assert table_counts(db)["appointments"] == 3


def test_a_side_file_another_process_holds_open_is_never_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from metrics.store.swap import clean_stale_side_files

    db = tmp_path / "c.duckdb"
    side = db.with_name(f"c.duckdb.building-{dead_pid()}")  # a builder we cannot see
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "c.execute('CREATE TABLE t AS SELECT 1'); print('open', flush=True); time.sleep(60)",
         str(side)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert clean_stale_side_files(db, older_than=0) == []
        assert side.exists()
    finally:
        holder.kill()
        holder.wait()
    removed = clean_stale_side_files(db, older_than=0)  # now a left-over, with its .wal
    assert side in removed and not side.exists()
    assert not list(tmp_path.glob("c.duckdb.*"))
