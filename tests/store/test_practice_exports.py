"""Real practice exports (docs/extract-schema.md s.6): SystmOne "Breakdown Results" CSVs in
overlapping chunks and EMIS Web appointment search exports, in their exact layouts, through
ingest AND the engine to indices worked by hand."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from metrics.cli import main
from metrics.ingest import ExtractFiles, IngestError, PracticeInfo
from metrics.params import Params
from metrics.pipeline.engine import compute_tables
from metrics.schema import DEFAULT_MODES
from metrics.store import connect_read_only, read_meta
from tests.extract_files import counts, csv_text, ingest, table_counts, write

YEAR_2024 = Params(date(2024, 1, 1), date(2024, 12, 31))
RIVERSIDE = PracticeInfo("A81001", "Riverside Surgery", "U12345", "Riverside PCN")
HILL = PracticeInfo("B82002", "Hill Practice")

# ---- SystmOne ----------------------------------------------------------------------------------
# "Breakdown Results" export of a search for attended GP appointments, capped at 30,000 rows, so
# the practice exported two half-years that overlap in April to June.
S1_HEADER = ("Patient ID", "Clinician", "Age in years", "Appointment date")
S1_FIRST_HALF = [
    ("1234 567 890", "Dr Brown", "70", "10/01/2024"),
    ("1234 567 890", "Dr Brown", "70", "12/02/2024"),
    ("1234 567 890", "Dr Smith", "70", "15/04/2024"),
    ("1234 567 890", "Dr Brown", "70", "20/05/2024"),
    ("9 876 543 210", "Dr Smith", "30", "03/03/2024"),   # two genuine visits on one day:
    ("9 876 543 210", "Dr Smith", "30", "03/03/2024"),   # two rows, one counted contact
    ("9 876 543 210", "Dr Jones", "30", "05/05/2024"),
]
S1_SECOND_HALF = [
    ("1234567890", "Dr Smith", "70", "15/04/2024"),      # repeated from the first file
    ("1234567890", "Dr  Brown ", "70", "20/05/2024"),    # repeated (spacing differs)
    ("1234567890", "Dr Brown", "71", "01/08/2024"),
    ("9876543210", "Dr Jones", "30", "05/05/2024"),      # repeated
    ("555 000 1111", "Dr Jones", "4", "07/07/2024"),
]
USUAL_GP = "Patient ID,Usual GP\n1234 567 890,Dr Brown\n9876543210,Dr  Smith\n"


@pytest.fixture
def systmone(tmp_path: Path) -> ExtractFiles:
    return ExtractFiles(
        appointments=(write(tmp_path / "S1 appts Jan-Jun.csv", csv_text(S1_HEADER, S1_FIRST_HALF)),
                      write(tmp_path / "S1 appts Apr-Sep.csv",
                            csv_text(S1_HEADER, S1_SECOND_HALF))),
        usual_gp=write(tmp_path / "usual_gp.csv", USUAL_GP))


def with_unknown_mode(params: Params) -> Params:
    """A SystmOne export records no mode: count `unknown` (the CLI does this by itself)."""
    return params.with_(modes=(*DEFAULT_MODES, "unknown"))


def test_systmone_chunks_merge_rows_repeated_across_files(systmone: ExtractFiles) -> None:
    result = ingest(systmone, preset="systmone", practice=RIVERSIDE)
    # 7 + 5 rows read; 3 repeated in the overlap; the two same-day visits stay two rows
    assert counts(result) == (12, 9, 3, 0)
    appts = result.tables["appointments"]  # ids stored as PRACTICE:ID (local to the practice)
    assert appts.group_by("patient_id").len().sort("patient_id").rows() == [
        ("A81001:1234567890", 5), ("A81001:5550001111", 1), ("A81001:9876543210", 3)]
    assert set(appts["practice_code"]) == {"A81001"}
    assert set(appts["clinician_id"]) == {"Dr Brown", "Dr Smith", "Dr Jones"}
    assert set(zip(appts["status"], appts["clinician_role"], appts["mode"], strict=True)) == {
        ("attended", "gp", "unknown")}


def test_systmone_defaults_and_practice_are_shown_in_the_report(systmone: ExtractFiles) -> None:
    lines = ingest(systmone, preset="systmone", practice=RIVERSIDE).report.lines()
    files = "S1 appts Jan-Jun.csv, S1 appts Apr-Sep.csv"
    for expected in (
        f"default: appointments.status = 'attended' for every row of {files} (no status column)",
        f"default: appointments.clinician_role = 'gp' for every row of {files} "
        "(no clinician_role column)",
        f"default: appointments.mode = 'unknown' for every row of {files} (no mode column)",
        f"default: appointments.practice_code = 'A81001' for every row of {files} "
        "(given for the practice)",
        "appointments: 12 rows read from 2 files = 9 loaded + 3 merged duplicates + 0 rejected",
    ):
        assert expected in lines


def test_systmone_practice_age_bands_and_usual_gp(systmone: ExtractFiles) -> None:
    result = ingest(systmone, preset="systmone", practice=RIVERSIDE)
    assert result.tables["practices"].select("practice_code", "practice_name", "pcn_code"
                                             ).rows() == [("A81001", "Riverside Surgery",
                                                           "U12345")]
    patients = result.tables["patients"].sort("patient_id")
    # latest age: 71 -> 65-74; 30 -> 18-39; 4 -> 0-4; usual GP names tidied to match clinicians
    assert patients.select("patient_id", "practice_code", "usual_gp_id", "age_band").rows() == [
        ("A81001:1234567890", "A81001", "Dr Brown", "65-74"),
        ("A81001:5550001111", "A81001", None, "0-4"),
        ("A81001:9876543210", "A81001", "Dr Smith", "18-39")]


def test_systmone_ids_are_deterministic_whatever_the_file_order(systmone: ExtractFiles) -> None:
    once = ingest(systmone, preset="systmone", practice=RIVERSIDE).tables["appointments"]
    again = ingest(systmone, preset="systmone", practice=RIVERSIDE).tables["appointments"]
    swapped = ExtractFiles(systmone.appointments[::-1], usual_gp=systmone.usual_gp)
    reverse = ingest(swapped, preset="systmone", practice=RIVERSIDE).tables["appointments"]
    assert once["appointment_id"].to_list() == again["appointment_id"].to_list()
    assert sorted(once["appointment_id"]) == sorted(reverse["appointment_id"])
    assert once["appointment_id"].n_unique() == 9


def test_systmone_ids_are_md5_of_the_visit_and_its_occurrence(systmone: ExtractFiles) -> None:
    # stable across versions and machines, so appended stores months apart still merge
    appts = ingest(systmone, preset="systmone", practice=RIVERSIDE).tables["appointments"]
    key = "\x1f".join(["A81001", "1234567890", "Dr Brown", "2024-01-10", ""])
    expected = hashlib.md5(key.encode()).hexdigest()[:16] + "-1"
    first = appts.filter(pl.col("appointment_date") == date(2024, 1, 10))
    assert first["appointment_id"].to_list() == [expected]
    same_day = appts.filter(pl.col("appointment_date") == date(2024, 3, 3))
    assert sorted(i[-2:] for i in same_day["appointment_id"]) == ["-1", "-2"]


def test_systmone_to_indices_worked_by_hand(systmone: ExtractFiles) -> None:
    tables = ingest(systmone, preset="systmone", practice=RIVERSIDE).tables
    out = compute_tables(tables, with_unknown_mode(YEAR_2024))
    patients = {r["patient_id"]: r for r in out["patients"].iter_rows(named=True)}
    # 1234567890: Brown Jan, Brown Feb, Smith Apr, Brown May, Brown Aug = AABAA:
    #   UPC 4/5 = 0.8, COC (16+1-5)/(5*4) = 0.6, SECON (BB, BS, SB, BB) 2/4 = 0.5, HHI 0.68
    x = patients["A81001:1234567890"]
    assert (x["contacts"], x["usual_clinician_id"]) == (5, "Dr Brown")
    assert (x["upc"], x["coc"], x["secon"], x["hhi"]) == pytest.approx((0.8, 0.6, 0.5, 0.68))
    # 9876543210: Smith, Smith (same day: collapsed), Jones = N 2, UPC 1/2, COC 0
    y = patients["A81001:9876543210"]
    assert (y["contacts"], y["upc"], y["coc"]) == (2, 0.5, 0.0)
    # 5550001111: one contact: indices undefined
    z = patients["A81001:5550001111"]
    assert (z["contacts"], z["upc"]) == (1, None)
    practice = out["practices"].row(0, named=True)
    # eligible: x and y; UPC mean (0.8 + 0.5)/2; contacts 5 + 2 + 1
    assert (practice["eligible_patients"], practice["contacts"]) == (2, 8)
    assert practice["upc_mean"] == pytest.approx(0.65)
    # SLICC with the usual-GP file: x 4 of 5 with Dr Brown, y 1 of 2 with Dr Smith -> 5/7
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (5, 7)
    assert practice["slicc"] == pytest.approx(5 / 7)


def test_systmone_without_modes_counts_nothing_unless_unknown_is_counted(
        systmone: ExtractFiles) -> None:
    tables = ingest(systmone, preset="systmone", practice=RIVERSIDE).tables
    out = compute_tables(tables, YEAR_2024)  # default modes: face_to_face ... home_visit
    assert out["practices"]["contacts"].to_list() == [0]


def test_systmone_through_the_cli_counts_unknown_mode_by_itself(
        systmone: ExtractFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["--quiet", "compute", "--preset", "systmone",
            "--appointments", *map(str, systmone.appointments),
            "--usual-gp", str(systmone.usual_gp), "--practice-code", "A81001",
            "--practice-name", "Riverside Surgery", "--out", str(out),
            "--start", "2024-01-01", "--end", "2024-12-31"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    practice = pl.read_csv(out / "practices.csv").row(0, named=True)
    assert (practice["contacts"], practice["slicc_numerator"], practice["slicc_denominator"]
            ) == (8, 5, 7)


def test_systmone_modes_given_by_the_user_win(systmone: ExtractFiles, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--quiet", "compute", "--preset", "systmone",
            "--appointments", *map(str, systmone.appointments), "--practice-code", "A81001",
            "--practice-name", "Riverside Surgery", "--out", str(out),
            "--start", "2024-01-01", "--end", "2024-12-31", "--modes", "face_to_face"]
    assert main(argv) == 0
    assert pl.read_csv(out / "practices.csv")["contacts"].to_list() == [0]


def test_systmone_store_results_count_unknown_mode(systmone: ExtractFiles, tmp_path: Path
                                                   ) -> None:
    db = tmp_path / "c.duckdb"
    assert main(["--quiet", "ingest", "--preset", "systmone", "--appointments",
                 *map(str, systmone.appointments), "--practice-code", "A81001",
                 "--practice-name", "Riverside Surgery", "--db", str(db)]) == 0
    con = connect_read_only(db)
    try:
        params = dict(con.sql("SELECT key, value FROM result_params").fetchall())
        assert read_meta(con)["modes_recorded"] == "false"
    finally:
        con.close()
    assert params["modes"].split(",") == [*DEFAULT_MODES, "unknown"]


def test_systmone_chunks_ingested_one_by_one_never_double_count(
        systmone: ExtractFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.duckdb"
    base = ["--quiet", "ingest", "--preset", "systmone", "--practice-code", "A81001",
            "--practice-name", "Riverside Surgery", "--db", str(db)]
    assert main([*base, "--appointments", str(systmone.appointments[0])]) == 0
    assert table_counts(db)["appointments"] == 7
    assert main([*base, "--append", "--appointments", str(systmone.appointments[1])]) == 0
    assert table_counts(db)["appointments"] == 9  # 7 + 5 - 3 repeated
    assert main([*base, "--append", "--appointments", str(systmone.appointments[1])]) == 0
    assert table_counts(db)["appointments"] == 9  # the same chunk again changes nothing
    out = capsys.readouterr().out.splitlines()
    # over the three ingests: 7 + 5 + 5 read = 9 loaded + (3 + 5) merged
    assert out[-2] == ("appointments over every ingest into it: 17 rows read = 9 loaded + "
                       "8 merged duplicates + 0 rejected")
    # the chunk again adds no month: the results are computed in full, and the reason said
    assert out[-1].startswith("results: computed in full for "), out[-1]
    assert out[-1].endswith("(the data's last complete month has not changed)"), out[-1]


# ---- EMIS Web --------------------------------------------------------------------------------
# Appointment search export: the date comes back as an Excel serial (45352 = 1 March 2024) or as
# 08-Mar-2024; slot types are the practice's own; slot statuses as the schema doc maps them.
EMIS_HEADER = ("Patient ID", "User Details' Full Name", "Slot Date", "Slot Type", "Slot Status")
EMIS_ROWS = [
    ("101", "Dr Ann Jones", "45352", "GP Face to Face", "Arrived"),            # 1 Mar: J
    ("101", "Dr Ann Jones", "08-Mar-2024", "Telephone Triage", "Left"),        # 8 Mar: J
    ("101", "Dr Bob Lee", "15-Mar-2024", "GP Face to Face", "Sent In"),        # 15 Mar: L
    ("101", "Dr Bob Lee", "16-Mar-2024", "GP Face to Face", "DNA"),            # not attended
    ("101", "Dr Ann Jones", "20-Mar-2024", "Home Visit", "Visited and seen"),  # 20 Mar: J
    ("102", "Dr Bob Lee", "45366", "Routine", "Arrived"),                      # mode unknown
    ("102", "Dr Bob Lee", "18-Mar-2024", "GP Face to Face", "Arrived"),        # 18 Mar: L
    ("102", "Dr Ann Jones", "19-Mar-2024", "Video Consultation", "Arrived"),   # 19 Mar: J
    ("102", "Dr Bob Lee", "20-Mar-2024", "GP Face to Face", "Walked Out"),     # not attended
]
EMIS_USUAL_GP = "Patient ID,Usual GP\n101,Dr Ann Jones\n102,Dr Bob Lee\n"


@pytest.fixture
def emis(tmp_path: Path) -> ExtractFiles:
    return ExtractFiles((write(tmp_path / "EMIS appointments.csv",
                               csv_text(EMIS_HEADER, EMIS_ROWS)),),
                        usual_gp=write(tmp_path / "usual.csv", EMIS_USUAL_GP))


def test_emis_statuses_slot_types_and_dates_map_as_the_schema_doc_says(emis: ExtractFiles
                                                                       ) -> None:
    result = ingest(emis, preset="emis", practice=HILL)
    assert counts(result) == (9, 9, 0, 0)
    t = result.tables["appointments"].sort("appointment_date", "patient_id")
    assert t.select("patient_id", "appointment_date", "status", "mode").rows() == [
        ("B82002:101", date(2024, 3, 1), "attended", "face_to_face"),
        ("B82002:101", date(2024, 3, 8), "attended", "telephone"),
        ("B82002:101", date(2024, 3, 15), "attended", "face_to_face"),
        ("B82002:102", date(2024, 3, 15), "attended", "unknown"),
        ("B82002:101", date(2024, 3, 16), "did_not_attend", "face_to_face"),
        ("B82002:102", date(2024, 3, 18), "attended", "face_to_face"),
        ("B82002:102", date(2024, 3, 19), "attended", "video_online"),
        ("B82002:101", date(2024, 3, 20), "attended", "home_visit"),
        ("B82002:102", date(2024, 3, 20), "did_not_attend", "face_to_face")]
    assert result.report.unknown_values == {("appointments", "mode", "Routine"): 1}


def test_emis_to_indices_worked_by_hand(emis: ExtractFiles) -> None:
    tables = ingest(emis, preset="emis", practice=HILL).tables
    out = compute_tables(tables, YEAR_2024)
    patients = {r["patient_id"]: r for r in out["patients"].iter_rows(named=True)}
    # 101: J J L J (the DNA is not a contact): UPC 3/4, COC (9+1-4)/12 = 0.5, SECON 1/3
    p101 = patients["B82002:101"]
    assert (p101["contacts"], p101["usual_clinician_id"]) == (4, "Dr Ann Jones")
    assert (p101["upc"], p101["coc"], p101["secon"]) == pytest.approx((0.75, 0.5, 1 / 3))
    # 102: L J (the `Routine` slot has no known mode; the walk-out is not a contact): UPC 1/2
    assert (patients["B82002:102"]["contacts"], patients["B82002:102"]["upc"]) == (2, 0.5)
    practice = out["practices"].row(0, named=True)
    # SLICC: 101 3 of 4 with Dr Ann Jones, 102 1 of 2 with Dr Bob Lee -> 4/6
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (4, 6)
    # OPR: Jones saw own-list 101 three times of 4 contacts; Lee own-list 102 once of 2 -> 4/6
    assert (practice["opr_numerator"], practice["opr_denominator"]) == (4, 6)
    assert practice["upc_mean"] == pytest.approx((0.75 + 0.5) / 2)


def test_emis_column_names_match_whatever_the_report_build(tmp_path: Path) -> None:
    header = ("NHS NUMBER", "user details full name", "SLOT  DATE", "slot_type", "SLOT STATUS")
    rows = [("943 476 5919", "Dr Ann Jones", "01-Mar-2024", "GP Face to Face", "Arrived"),
            ("9434765919", "Dr Ann Jones", "01/04/2024", "GP Face to Face", "Arrived")]
    result = ingest(ExtractFiles((write(tmp_path / "e.csv", csv_text(header, rows)),)),
                    preset="emis", practice=HILL)
    t = result.tables["appointments"]
    assert t["patient_id"].to_list() == ["B82002:9434765919"] * 2
    assert t["appointment_date"].to_list() == [date(2024, 3, 1), date(2024, 4, 1)]


def test_emis_xlsx_with_excel_serial_dates(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(EMIS_HEADER))
    ws.append([101, "Dr Ann Jones", 45352, "GP Face to Face", "Arrived"])   # numbers, not text
    ws.append([101, "Dr Ann Jones", 45359, "GP Face to Face", "Arrived"])
    wb.save(tmp_path / "emis.xlsx")
    result = ingest(ExtractFiles((tmp_path / "emis.xlsx",)), preset="emis", practice=HILL)
    t = result.tables["appointments"]
    assert t.select("patient_id", "appointment_date").rows() == [
        ("B82002:101", date(2024, 3, 1)), ("B82002:101", date(2024, 3, 8))]
    out = compute_tables(result.tables, YEAR_2024)
    assert out["patients"].select("contacts", "upc").rows() == [(2, 1.0)]


def test_a_mapping_file_fixes_a_column_the_preset_does_not_know(tmp_path: Path) -> None:
    header = ("Patient ID", "Seen By", "Slot Date", "Slot Type", "Slot Status")
    rows = [("101", "Dr Ann Jones", "01-Mar-2024", "GP Face to Face", "Arrived")]
    f = write(tmp_path / "e.csv", csv_text(header, rows))
    with pytest.raises(IngestError, match="has no column for clinician_id"):
        ingest(ExtractFiles((f,)), preset="emis", practice=HILL)
    mapping = write(tmp_path / "ours.toml", '[appointments.columns]\nclinician_id = "Seen By"\n')
    result = ingest(ExtractFiles((f,)), preset="emis", practice=HILL, mapping_file=mapping)
    assert result.tables["appointments"]["clinician_id"].to_list() == ["Dr Ann Jones"]
