"""No load can silently overwrite another practice.

Practice systems number their patients per practice, so two practices' files both hold a
patient "1"; a practices file may also carry a row for a neighbouring practice. A load keeps
each practice's patients apart, says exactly what it would change of what the database holds
(practices removed, a practice moved to another PCN, sub-ICB or ICB, patients moved to another
practice), changes nothing until that is confirmed, and can be undone.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from metrics.cli import main
from metrics.store import connect_read_only
from tests.extract_files import (
    APPOINTMENT_HEADER,
    PATIENT_HEADER,
    PRACTICE_HEADER,
    appointment,
    csv_text,
    write,
)

RIVERSIDE = ("A81001", "Riverside Surgery", "U12345", "Riverside PCN", "00L", "QOP", "", "", "")
HILL = ("B82002", "Hill Practice", "U99999", "Hill PCN", "00L", "QOP", "", "", "")
# practice B's practices file also lists practice A, in B's PCN
RIVERSIDE_IN_HILL_PCN = ("A81001", "Riverside Surgery", "U99999", "Hill PCN", "00L", "QOP",
                         "", "", "")


def practice_files(folder: Path, practice: str, *, patients: bool = True,
                   practices: tuple[tuple, ...] = ()) -> list[str]:
    """One practice's export as ingest arguments: its patients 1 and 2, one visit each."""
    rows = [appointment(f"{practice}-1", "1", "2024-03-01", practice=practice),
            appointment(f"{practice}-2", "2", "2024-03-04", practice=practice)]
    argv = ["--appointments", str(write(folder / "appointments.csv",
                                        csv_text(APPOINTMENT_HEADER, rows)))]
    if patients:
        listed = [("1", practice, "GP1", "", "", ""), ("2", practice, "GP1", "", "", "")]
        argv += ["--patients", str(write(folder / "patients.csv",
                                         csv_text(PATIENT_HEADER, listed)))]
    if practices:
        argv += ["--practices", str(write(folder / "practices.csv",
                                          csv_text(PRACTICE_HEADER, practices)))]
    return argv


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def held(db: Path, sql: str) -> list[tuple]:
    con = connect_read_only(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def riverside_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database holding practice A81001 (PCN U12345) and its patients 1 and 2."""
    db = tmp_path / "db" / "continuity.duckdb"
    argv = practice_files(tmp_path / "a", "A81001", practices=(RIVERSIDE,))
    assert run(["ingest", *argv, "--db", str(db)], capsys)[0] == 0
    return db


PATIENTS_SQL = "SELECT patient_id, practice_code FROM patients ORDER BY ALL"
PRACTICES_SQL = "SELECT practice_code, pcn_code FROM practices ORDER BY ALL"


# ---- patient identity: (practice, patient) ---------------------------------------------------


def test_appending_another_practices_patients_1_and_2_leaves_the_first_practices_alone(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = practice_files(tmp_path / "b", "B82002", practices=(HILL,))
    code, out, err = run(["ingest", *argv, "--append", "--db", str(riverside_db)], capsys)
    assert (code, err) == (0, "")
    assert "patients: 2 rows read from 1 file = 2 loaded + 0 merged duplicates + 0 rejected" \
        in out
    assert held(riverside_db, PATIENTS_SQL) == [
        ("A81001:1", "A81001"), ("A81001:2", "A81001"),
        ("B82002:1", "B82002"), ("B82002:2", "B82002")]


def test_appended_appointments_without_a_patients_file_never_join_another_practices_patient(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = practice_files(tmp_path / "b", "B82002", patients=False, practices=(HILL,))
    assert run(["ingest", *argv, "--append", "--db", str(riverside_db)], capsys)[0] == 0
    assert held(riverside_db, "SELECT patient_id, practice_code, count(*) FROM appointments "
                              "GROUP BY ALL ORDER BY ALL") == [
        ("A81001:1", "A81001", 1), ("A81001:2", "A81001", 1),
        ("B82002:1", "B82002", 1), ("B82002:2", "B82002", 1)]
    assert held(riverside_db, PATIENTS_SQL)[2:] == [("B82002:1", "B82002"),
                                                   ("B82002:2", "B82002")]


def test_compute_writes_each_practices_patient_1_on_its_own_row_with_the_exported_id(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [appointment(i, "1", day, practice=p) for i, (day, p) in enumerate(
        [("2024-03-01", "A81001"), ("2024-03-08", "A81001"), ("2024-03-01", "B82002"),
         ("2024-03-08", "B82002")])]
    argv = ["--appointments", str(write(tmp_path / "a.csv", csv_text(APPOINTMENT_HEADER, rows))),
            "--practices", str(write(tmp_path / "r.csv",
                                     csv_text(PRACTICE_HEADER, [RIVERSIDE, HILL])))]
    out = tmp_path / "out"
    code, _, err = run(["compute", *argv, "--out", str(out), "--start", "2024-01-01",
                        "--end", "2024-12-31"], capsys)
    assert (code, err) == (0, "")
    with (out / "patients.csv").open(newline="") as fh:
        got = [(r["patient_id"], r["practice_code"], r["contacts"]) for r in csv.DictReader(fh)]
    assert got == [("1", "A81001", "2"), ("1", "B82002", "2")]


def test_practice_system_ids_cannot_be_declared_national(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = practice_files(tmp_path, "A81001", patients=False)
    code, out, err = run(["ingest", *argv, "--preset", "emis", "--national-patient-ids",
                          "--db", str(tmp_path / "c.duckdb")], capsys)
    assert code == 2
    assert err == ("error: the emis preset's patient ids are local to each practice: they "
                   "cannot be treated as national ids\n")


def test_an_append_keeps_the_databases_kind_of_patient_id(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # national ids added to practice-local ones would make one person two patients
    argv = practice_files(tmp_path / "b", "B82002", practices=(HILL,))
    code, _, err = run(["ingest", *argv, "--national-patient-ids", "--append",
                        "--db", str(riverside_db)], capsys)
    assert code == 2
    assert err == ("error: the database holds patient ids local to each practice and this load "
                   "has national patient ids: load it with the same setting "
                   "(--national-patient-ids, a box on the Data page) or replace the database; "
                   "nothing was changed\n")


# ---- changes to other practices need confirmation -------------------------------------------


def test_a_practices_file_that_moves_another_practice_to_its_pcn_needs_confirmation(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(riverside_db)
    argv = [*practice_files(tmp_path / "b", "B82002", practices=(HILL, RIVERSIDE_IN_HILL_PCN)),
            "--append", "--db", str(riverside_db)]
    code, _, err = run(["ingest", *argv], capsys)
    assert code == 2
    assert err.splitlines() == [
        "would change: practice A81001 (Riverside Surgery) would move from PCN U12345 to "
        "PCN U99999",
        "error: this load would change what the database holds for other practices (1 changes "
        "listed above); nothing was changed: check them, then rerun with --confirm-changes to "
        "apply them"]
    assert digest(riverside_db) == before
    assert run(["ingest", *argv, "--confirm-changes"], capsys)[0] == 0
    assert held(riverside_db, PRACTICES_SQL) == [("A81001", "U99999"), ("B82002", "U99999")]


def test_national_ids_moved_to_another_practice_are_counted_and_need_confirmation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.duckdb"
    first = practice_files(tmp_path / "a", "A81001", practices=(RIVERSIDE, HILL))
    assert run(["ingest", *first, "--national-patient-ids", "--db", str(db)], capsys)[0] == 0
    moved = practice_files(tmp_path / "b", "B82002")
    code, _, err = run(["ingest", *moved, "--national-patient-ids", "--append", "--db", str(db)],
                       capsys)
    assert code == 2
    assert err.splitlines()[0] == ("would change: 2 patients of practice A81001 would be "
                                   "reassigned to practice B82002")


def test_replacing_a_database_with_one_practices_files_lists_the_practices_removed(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["ingest", *practice_files(tmp_path / "b", "B82002", practices=(HILL,)),
            "--db", str(riverside_db)]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.splitlines()[0] == ("would change: practice A81001 (Riverside Surgery) would be "
                                   "removed, with its 2 patients and 2 appointments")
    assert held(riverside_db, PRACTICES_SQL) == [("A81001", "U12345")]
    assert run([*argv, "--confirm-changes"], capsys)[0] == 0
    assert held(riverside_db, PRACTICES_SQL) == [("B82002", "U99999")]


def test_an_appointments_only_replace_counts_as_removing_every_practice(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = practice_files(tmp_path / "a2", "A81001", patients=False)
    code, _, err = run(["ingest", *argv, "--db", str(riverside_db)], capsys)
    assert code == 2
    assert err.splitlines()[0] == ("would change: practice A81001 (Riverside Surgery) would be "
                                   "removed, with its 2 patients and 2 appointments")


def test_the_monthly_append_of_a_practices_own_appointments_needs_no_confirmation(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [appointment("A81001-3", "1", "2024-04-01")]
    argv = ["--appointments", str(write(tmp_path / "april.csv",
                                        csv_text(APPOINTMENT_HEADER, rows)))]
    code, _, err = run(["ingest", *argv, "--append", "--db", str(riverside_db)], capsys)
    assert (code, err) == (0, "")


# ---- undo ------------------------------------------------------------------------------------


def test_undo_puts_back_the_database_the_last_load_replaced_and_undo_again_redoes_it(
        tmp_path: Path, riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = practice_files(tmp_path / "b", "B82002", practices=(HILL,))
    assert run(["ingest", *argv, "--append", "--db", str(riverside_db)], capsys)[0] == 0
    reader = connect_read_only(riverside_db)  # a dashboard reading while the undo happens
    code, out, err = run(["undo", "--db", str(riverside_db)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"undone: {riverside_db} is again the database built ")
    assert held(riverside_db, PRACTICES_SQL) == [("A81001", "U12345")]
    assert reader.execute("SELECT count(*) FROM practices").fetchone() == (2,)  # its own file
    reader.close()
    assert run(["undo", "--db", str(riverside_db)], capsys)[0] == 0
    assert held(riverside_db, PRACTICES_SQL) == [("A81001", "U12345"), ("B82002", "U99999")]


def test_undo_with_nothing_to_undo_is_exit_2_and_one_line(
        riverside_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the first load into an empty place has nothing before it
    code, _, err = run(["undo", "--db", str(riverside_db)], capsys)
    assert code == 2
    assert err == (f"error: nothing to undo: there is no earlier database kept at "
                   f"{riverside_db}.previous\n")


def test_a_confirmation_covers_exactly_the_changes_that_were_shown(tmp_path: Path) -> None:
    # the Data page confirms the list it showed: if another load changed the database since,
    # the list differs and nothing is written
    from metrics.pipeline import build
    from metrics.store.changes import LoadNeedsConfirmation
    from tests.builders import extract, visits

    db = tmp_path / "c.duckdb"
    both = extract(visits("p1", "AB") + visits("p2", "AB", practice="B82002"))
    build.rebuild(build.result_from_tables(both, "test"), db)
    alpha = build.result_from_tables(extract(visits("p1", "AB")), "test")
    shown = ["practice B82002 (Practice B82002) would be removed, with its 1 patient and "
             "2 appointments"]
    with pytest.raises(LoadNeedsConfirmation) as refused:
        build.rebuild(alpha, db, confirmed=["practice C83003 (Other) would be removed"])
    assert refused.value.changes == shown
    assert held(db, "SELECT count(*) FROM practices") == [(2,)]
    build.rebuild(alpha, db, confirmed=shown)
    assert held(db, "SELECT practice_code FROM practices") == [("A81001",)]
