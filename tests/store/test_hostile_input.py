"""Hostile and broken input: every file of the corpus in tests/hostile.py gets one clear
line or exact accounting; nothing crashes; a failed ingest leaves the previous database
byte-identical and readable; text that looks like SQL or script is stored as plain text; option
values that could reach SQL are whitelisted or bound."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest

from metrics.cli import main
from metrics.ingest import ExtractFiles, IngestError
from metrics.store import connect_read_only
from tests.extract_files import appointment, canonical, counts, ingest, table_counts, write
from tests.hostile import GOOD, ODD_NAMES, SCRIPT_TEXT, SQL_TEXT, Case, corpus, lines

CORPUS = corpus()
ERRORS = [name for name, case in CORPUS.items() if case.error]
ACCOUNTED = [name for name, case in CORPUS.items() if case.counts]


def place(tmp_path: Path, case: Case) -> Path:
    return write(tmp_path / "in" / case.filename, case.content)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def previous_db(tmp_path: Path) -> Path:
    """A good database of 3 appointments, built through the CLI, that must survive."""
    files = canonical(tmp_path / "good", [appointment(1, "P1", "2024-03-01"),
                                          appointment(2, "P1", "2024-03-08", "GP2"),
                                          appointment(3, "P2", "2024-03-08")])
    db = tmp_path / "db" / "continuity.duckdb"
    argv = ["--quiet", "ingest", "--appointments", str(files.appointments[0]),
            "--practices", str(files.practices), "--db", str(db)]
    assert main(argv) == 0
    return db


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--quiet", *argv])
    return code, capsys.readouterr().err


def assert_one_line(err: str) -> None:
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err


# ---- the corpus through ingest ---------------------------------------------------------------


def test_the_corpus_covers_issue_5() -> None:
    assert len(CORPUS) >= 30
    assert set(ERRORS) & set(ACCOUNTED) == set()


@pytest.mark.parametrize("name", ERRORS)
def test_refused_files_get_one_clear_line(name: str, tmp_path: Path) -> None:
    case = CORPUS[name]
    with pytest.raises(IngestError, match=case.error) as caught:
        ingest(ExtractFiles((place(tmp_path, case),)))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(case.filename)  # says which file


@pytest.mark.parametrize("name", ACCOUNTED)
def test_readable_files_are_accounted_for_row_by_row(name: str, tmp_path: Path) -> None:
    result = ingest(ExtractFiles((place(tmp_path, CORPUS[name]),)))
    assert counts(result) == CORPUS[name].counts
    assert result.report.counts["appointments"].adds_up()
    assert result.rejects.height == CORPUS[name].counts[3]
    assert result.rejects["file"].to_list() == [CORPUS[name].filename] * result.rejects.height


@pytest.mark.parametrize("name", ERRORS)
def test_a_refused_file_leaves_the_previous_database_byte_identical(
        name: str, tmp_path: Path, previous_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(previous_db)
    code, err = cli(["ingest", "--appointments", str(place(tmp_path, CORPUS[name])),
                     "--db", str(previous_db)], capsys)
    assert code == 2
    assert_one_line(err)
    assert digest(previous_db) == before
    assert table_counts(previous_db)["appointments"] == 3
    assert [p.name for p in previous_db.parent.iterdir()] == ["continuity.duckdb"]


def test_a_file_whose_every_row_is_rejected_does_not_replace_the_database(
        tmp_path: Path, previous_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(previous_db)
    bad = place(tmp_path, CORPUS["dates before 2000 and impossible dates"])
    rejects = tmp_path / "rejects.csv"
    code, err = cli(["ingest", "--appointments", str(bad), "--db", str(previous_db),
                     "--rejects", str(rejects)], capsys)
    assert code == 2
    assert_one_line(err)
    assert "no appointment could be loaded (2 rejected" in err
    assert digest(previous_db) == before
    assert len(rejects.read_text().splitlines()) == 3  # header + the two reasons, kept


# ---- specific cases --------------------------------------------------------------------------


def test_sql_and_script_text_is_stored_verbatim_and_nothing_runs(
        tmp_path: Path, previous_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = canonical(tmp_path, [])
    hostile = place(tmp_path, CORPUS["SQL and script text in fields"])
    code, err = cli(["ingest", "--appointments", str(hostile), "--practices",
                     str(files.practices), "--db", str(previous_db), "--confirm-changes"],
                    capsys)
    assert (code, err) == (0, "")
    con = connect_read_only(previous_db)
    try:
        rows = con.sql("SELECT appointment_id, patient_id, clinician_id, clinician_role, status, "
                       "mode FROM appointments ORDER BY appointment_id").fetchall()
        tables = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
        unknowns = con.sql("SELECT raw_value FROM ingest_unknowns ORDER BY 1").fetchall()
    finally:
        con.close()
    assert rows == [("1", f"A81001:{SQL_TEXT}", SCRIPT_TEXT, "gp", "attended", "face_to_face"),
                    ("2", "A81001:P2", "GP1", "unknown", "unknown", "unknown")]
    assert {"appointments", "patients", "practices"} <= tables
    # the unmapped hostile values are reported as text, verbatim
    assert [u[0] for u in unknowns] == sorted(["=cmd|' /C calc'!A0", SCRIPT_TEXT, SQL_TEXT])


def test_sql_text_in_a_column_name_becomes_a_folded_extra_column(
        tmp_path: Path, previous_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = place(tmp_path, CORPUS["SQL text in a column name"])
    assert cli(["ingest", "--appointments", str(hostile), "--db", str(previous_db),
                "--confirm-changes"], capsys) == (0, "")
    con = connect_read_only(previous_db)
    try:
        extra = con.sql("SELECT * FROM appointments_extra").fetchall()
        columns = [c[0] for c in con.sql("DESCRIBE appointments_extra").fetchall()]
        assert con.sql("SELECT count(*) FROM appointments").fetchall() == [(1,)]
    finally:
        con.close()
    assert columns == ["practice_code", "appointment_id", "x_drop_table_appointments"]
    assert extra == [("A81001", "1", "x")]


def test_latin1_text_is_decoded_not_mangled(tmp_path: Path) -> None:
    result = ingest(ExtractFiles((place(tmp_path, CORPUS["latin-1"]),)))
    assert result.tables["appointments"]["clinician_id"].to_list() == ["Dr Müller"]


def test_bom_does_not_hide_the_first_column(tmp_path: Path) -> None:
    result = ingest(ExtractFiles((place(tmp_path, CORPUS["utf-8 with BOM"]),)))
    assert result.tables["appointments"]["appointment_id"].to_list() == ["1"]


def test_quoted_delimiters_and_newlines_stay_inside_their_field(tmp_path: Path) -> None:
    result = ingest(ExtractFiles((place(tmp_path, CORPUS["quotes and embedded newlines"]),)))
    t = result.tables["appointments"].sort("appointment_id")
    assert t["clinician_id"].to_list() == ["GP1", "Brown, J"]
    assert result.extras["appointments"].sort("appointment_id")["note"].to_list() == [
        'said "hello",\nthen left', None]


def test_wide_and_mixed_rows_are_rejected_with_their_line(tmp_path: Path) -> None:
    wide = ingest(ExtractFiles((place(tmp_path, CORPUS["a line with thousands of columns"]),)))
    assert wide.rejects.select("line", "column").rows() == [(2, "(row)")]
    assert wide.rejects["reason"].item().startswith("more fields than the header has columns")
    mixed = ingest(ExtractFiles((place(tmp_path, CORPUS[
        "rows in another delimiter than the header"]),)))
    assert mixed.rejects.select("line", "column", "reason").rows() == [
        (3, "patient_id", "missing patient_id")]


def test_huge_and_negative_numbers_are_rejected_with_their_reason(tmp_path: Path) -> None:
    s1 = write(tmp_path / "s1.csv", "Patient ID,Clinician,Age in years,Appointment date\n"
                                    "1,Dr A,-5,01/03/2024\n2,Dr A,99999999999999999999,"
                                    "01/03/2024\n3,Dr A,131,01/03/2024\n4,Dr A,3.5,01/03/2024\n"
                                    "5,Dr A,130,01/03/2024\n")
    from metrics.ingest import PracticeInfo

    result = ingest(ExtractFiles((s1,)), preset="systmone",
                    practice=PracticeInfo("A81001", "Riverside Surgery"))
    assert counts(result) == (5, 1, 0, 4)
    assert result.rejects.select("line", "reason").rows() == [
        (2, "age_years is below 0 (age in years)"),
        (3, "age_years is not a whole number"),
        (4, "age_years is above 130 (age in years)"),
        (5, "age_years is not a whole number")]
    practices = write(tmp_path / "r.csv", "practice_code,practice_name,pcn_code,pcn_name,"
                                          "list_size,imd_decile\n"
                                          "A81001,R,U12345,N,-1,3\nB82002,H,U12345,N,"
                                          "1e308,3\nC83003,C,U12345,N,5000,0\n")
    result = ingest(ExtractFiles((write(tmp_path / "a.csv", lines(GOOD)),), practices=practices))
    assert counts(result, "practices") == (3, 0, 0, 3)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_are_read_and_named_in_the_report(name: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    path = write(tmp_path / name, lines(GOOD, GOOD.replace("2024-03-01", "2099-03-01")
                                        .replace("1,P1", "2,P1")))
    db, rejects = tmp_path / "c.duckdb", tmp_path / "rejects.csv"
    code, err = cli(["ingest", "--appointments", str(path), "--db", str(db), "--rejects",
                     str(rejects)], capsys)
    assert (code, err) == (0, "")
    assert table_counts(db)["appointments"] == 1
    con = connect_read_only(db)
    try:
        assert con.sql("SELECT file FROM ingest_rejects").fetchall() == [(name,)]
    finally:
        con.close()


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_file_name_in_an_error_is_still_one_line(name: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = write(tmp_path / name, CORPUS["binary garbage"].content)
    code, err = cli(["ingest", "--appointments", str(path), "--db", str(tmp_path / "c.duckdb")],
                    capsys)
    assert code == 2
    assert_one_line(err)


def test_a_dotdot_path_is_just_a_path(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", lines(GOOD))
    (tmp_path / "sub").mkdir()
    result = ingest(ExtractFiles((tmp_path / "sub" / ".." / "a.csv",)))
    assert counts(result) == (1, 1, 0, 0)
    assert result.report.source_files["appointments"] == [str(tmp_path / "sub/../a.csv")]


def test_a_folder_or_a_database_given_as_an_extract_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="is a folder"):
        ingest(ExtractFiles((tmp_path,)))
    db = tmp_path / "renamed.csv"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(IngestError, match="is a DuckDB database, not an extract"):
        ingest(ExtractFiles((db,)))


# ---- option values that could reach SQL ------------------------------------------------------

INJECTION = "A81001'; DROP TABLE appointments; --"


@pytest.mark.parametrize("options", [
    ["--practice-code", INJECTION, "--practice-name", "X"],
    ["--practice-code", "A81001", "--practice-name", "X", "--pcn-code", INJECTION],
    ["--preset", INJECTION],
    ["--preset", "../presets/canonical"],
])
def test_injection_through_ingest_options_is_refused(
        options: list[str], tmp_path: Path, previous_db: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(previous_db)
    good = write(tmp_path / "a.csv", lines(GOOD))
    code, err = cli(["ingest", "--appointments", str(good), "--db", str(previous_db), *options],
                    capsys)
    assert code == 2
    assert_one_line(err)
    assert digest(previous_db) == before


@pytest.mark.parametrize("options", [
    ["--staff", INJECTION],
    ["--modes", f"face_to_face,{INJECTION}"],
    ["--memory-limit", "1GB'; DROP TABLE appointments; --"],
    ["--start", "2024-01-01'; DROP TABLE appointments; --"],
])
def test_injection_through_compute_options_is_refused(
        options: list[str], tmp_path: Path, previous_db: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(["compute", "--db", str(previous_db), "--out", str(tmp_path / "out"),
                     *options], capsys)
    assert code == 2
    assert_one_line(err)
    assert table_counts(previous_db)["appointments"] == 3


def test_a_practice_name_with_sql_text_is_stored_as_a_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s1 = write(tmp_path / "s1.csv", "Patient ID,Clinician,Age in years,Appointment date\n"
                                    "1,Dr A,40,01/03/2024\n")
    db = tmp_path / "c.duckdb"
    name = "Riverside'); DROP TABLE practices; --"
    code, err = cli(["ingest", "--preset", "systmone", "--appointments", str(s1),
                     "--practice-code", "a81001", "--practice-name", name, "--db", str(db)],
                    capsys)
    assert (code, err) == (0, "")
    con = connect_read_only(db)
    try:
        assert con.sql("SELECT practice_code, practice_name FROM practices").fetchall() == [
            ("A81001", name)]
    finally:
        con.close()


def test_the_rejects_file_cannot_smuggle_a_spreadsheet_formula(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = lines(GOOD, GOOD.replace("1,P1", "2,P1").replace("2024-03-01", "=1+cmd|' /C calc'!A0"))
    rejects = tmp_path / "rejects.csv"
    code, err = cli(["ingest", "--appointments", str(write(tmp_path / "a.csv", rows)),
                     "--db", str(tmp_path / "c.duckdb"), "--rejects", str(rejects)], capsys)
    assert (code, err) == (0, "")
    with rejects.open(newline="") as fh:
        (reject,) = list(csv.DictReader(fh))
    assert reject["raw_value"] == "'=1+cmd|' /C calc'!A0"  # an apostrophe: text, not a formula


def test_a_header_that_happens_to_start_like_a_magic_number_is_still_csv(tmp_path: Path) -> None:
    # "MZ" opens Windows programs; a column may still be called MZ_ref
    text = "MZ_ref," + lines(GOOD).decode().replace("\n", "\nx,", 1)
    result = ingest(ExtractFiles((write(tmp_path / "mz.csv", text),)))
    assert counts(result) == (1, 1, 0, 0)
