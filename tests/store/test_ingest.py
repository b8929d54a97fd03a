"""Ingest (docs/extract-schema.md): every row loaded, merged as a duplicate or rejected with
file, line, column and reason; values normalised; CSV, Parquet and XLSX read alike."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.ingest import (
    ExtractFiles,
    IngestError,
    PracticeInfo,
    empty_table,
    tidy_code,
    tidy_id,
    tidy_text,
    tidy_unique_id,
)
from metrics.pipeline.engine import DuckDBBackend, query_text, register_tables
from tests.extract_files import (
    APPOINTMENT_HEADER,
    TODAY,
    appointment,
    canonical,
    counts,
    csv_text,
    ingest,
    write,
)


def rejects_of(result) -> list[tuple]:  # noqa: ANN001
    """(file, line, column, reason start) of each reject, in file order."""
    return [(r["file"], r["line"], r["column"], r["reason"])
            for r in result.rejects.sort("file", "line").iter_rows(named=True)]


# ---- accounting ------------------------------------------------------------------------------


def test_every_row_is_loaded_merged_or_rejected_and_the_counts_add_up(tmp_path: Path) -> None:
    rows = [
        appointment(1, "P1", "2024-03-01"),                      # line 2: loaded
        appointment(2, "P1", "2024-03-08"),                      # line 3: merged by line 6
        appointment(3, "", "2024-03-08"),                        # line 4: no patient
        appointment(4, "P2", "2026-01-01"),                      # line 5: future
        appointment(2, "P1", "2024-03-09", "GP2"),               # line 6: same id, kept (last)
        appointment(5, "P2", "31/02/2024"),                      # line 7: no such date
        appointment(6, "P2", "1999-12-31"),                      # line 8: before 2000
        appointment(7, "P2", "2024-03-01", practice="NOTCODE"),  # line 9: bad practice code
    ]
    result = ingest(canonical(tmp_path, rows))
    assert counts(result) == (8, 2, 1, 5)  # ids 1 and 2 loaded; 5 rejected
    assert result.report.counts["appointments"].adds_up()
    reasons = {(line, column): reason for _, line, column, reason in rejects_of(result)}
    assert reasons == {
        (4, "patient_id"): "missing patient_id",
        (5, "appointment_date"): "date in the future (after 2025-01-01)",
        (7, "appointment_date"):
            "unreadable date (expected e.g. 2024-03-01, 01/03/2024 or 01-Mar-2024)",
        (8, "appointment_date"): "date before 2000-01-01",
        (9, "practice_code"):
            "not a practice code: an ODS practice code is a letter and 5 letters or digits, "
            "e.g. A81001",
    }
    kept = result.tables["appointments"].sort("appointment_id")
    assert kept["appointment_id"].to_list() == ["1", "2"]
    # the later row of a duplicated id wins (a later export is more current)
    assert kept.filter(pl.col("appointment_id") == "2")["clinician_id"].item() == "GP2"


def test_rejects_keep_the_raw_value_as_written(tmp_path: Path) -> None:
    result = ingest(canonical(tmp_path, [appointment(1, "P1", "31/02/2024"),
                                         appointment(2, "P1", "2024-03-01")]))
    assert result.rejects.select("table", "line", "raw_value").rows() == [
        ("appointments", 2, "31/02/2024")]


def test_report_lines_state_the_counts(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01"), appointment(1, "P1", "2024-03-01"),
            appointment(2, "P1", "2099-01-01")]
    lines = ingest(canonical(tmp_path, rows)).report.lines()
    assert ("appointments: 3 rows read from 1 file = 1 loaded + 1 merged duplicates + "
            "1 rejected") in lines


def test_report_frame_holds_the_same_counts(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01"), appointment(1, "P1", "2024-03-01")]
    frame = ingest(canonical(tmp_path, rows)).report.as_frame()
    got = {m: v for t, m, v in frame.rows() if t == "appointments"}
    assert (got["rows_read"], got["loaded"], got["merged_duplicates"], got["rejected"]) == (
        2, 1, 1, 0)


def test_blank_lines_are_ignored_and_counted_not_rows(tmp_path: Path) -> None:
    text = csv_text(APPOINTMENT_HEADER, [appointment(1, "P1", "2024-03-01")])
    text += ",,,,,,,,\n\n" + csv_text(APPOINTMENT_HEADER, [appointment(2, "P1", "2024-03-02")]
                                      ).split("\n", 1)[1]
    files = canonical(tmp_path, [])
    files = ExtractFiles((write(tmp_path / "a.csv", text),), practices=files.practices)
    result = ingest(files)
    assert counts(result) == (2, 2, 0, 0)
    assert result.report.counts["appointments"].blank_lines == 2


def test_an_empty_appointments_file_is_an_error_not_an_empty_database(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no appointment rows"):
        ingest(canonical(tmp_path, []))


def test_all_rows_rejected_still_adds_up(tmp_path: Path) -> None:
    result = ingest(canonical(tmp_path, [appointment(1, "P1", "2030-01-01")]))
    assert counts(result) == (1, 0, 0, 1)
    assert result.tables["appointments"].height == 0


# ---- normalisation ---------------------------------------------------------------------------


def test_values_are_normalised_to_the_schema_vocabularies(tmp_path: Path) -> None:
    rows = [appointment(1, " P1 ", "01/03/2024", "  Dr   Brown ", practice=" a81001 ",
                        at="2:30 PM", role="GP Partner", status="ATTENDED",
                        mode="Face-to-Face"),
            appointment(2, "P1", "01MAR2024", "", role="Practice Nurse", status="DNA",
                        mode="phone")]
    t = ingest(canonical(tmp_path, rows)).tables["appointments"].sort("appointment_id")
    # patient ids are local to the practice unless said to be national: stored as PRACTICE:ID
    assert t.row(0) == ("1", "A81001:P1", "A81001", date(2024, 3, 1), time(14, 30), "Dr Brown",
                        "gp", "attended", "face_to_face")
    assert t.row(1) == ("2", "A81001:P1", "A81001", date(2024, 3, 1), None, None, "nurse",
                        "did_not_attend", "telephone")


def test_unmapped_values_become_unknown_and_are_counted(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01", mode="Carrier pigeon"),
            appointment(2, "P1", "2024-03-02", mode="Carrier pigeon"),
            appointment(3, "P1", "2024-03-03", status="Teleported")]
    result = ingest(canonical(tmp_path, rows))
    assert result.tables["appointments"].sort("appointment_id")["mode"].to_list() == [
        "unknown", "unknown", "face_to_face"]
    assert result.report.unknown_values == {
        ("appointments", "mode", "Carrier pigeon"): 2,
        ("appointments", "status", "Teleported"): 1}
    lines = result.report.lines()
    assert "unknown value: appointments.mode 'Carrier pigeon' in 2 rows (loaded as unknown)" \
        in lines
    assert "unknown value: appointments.status 'Teleported' in 1 row (loaded as unknown)" \
        in lines
    assert counts(result) == (3, 3, 0, 0)  # unknown values are loaded, never dropped


def test_blank_clinicians_are_kept_and_counted(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01", None), appointment(2, "P1", "2024-03-02", "  ")]
    result = ingest(canonical(tmp_path, rows))
    assert result.report.blank_clinicians == 2
    assert result.tables["appointments"]["clinician_id"].to_list() == [None, None]


def test_spaced_digit_ids_are_one_patient_but_other_ids_keep_their_spaces(tmp_path: Path
                                                                          ) -> None:
    rows = [appointment(1, "943 476 5919", "2024-03-01"), appointment(2, "9434765919",
                                                                       "2024-03-02"),
            appointment(3, "AB 12", "2024-03-03")]
    ids = ingest(canonical(tmp_path, rows)).tables["appointments"]["patient_id"].to_list()
    assert sorted(ids) == ["A81001:9434765919", "A81001:9434765919", "A81001:AB 12"]


def _blank_to_none(text: str) -> str | None:
    return text or None


def _tidy_id(text: str) -> str | None:
    text = text.strip()
    grouped = text[:1].isdigit() and all(ch.isdigit() or ch == " " for ch in text)
    return _blank_to_none(text.replace(" ", "") if grouped else text)


TIDIERS = {  # each tidier and what it does to one value
    tidy_id: _tidy_id,
    tidy_unique_id: lambda text: _blank_to_none(text.strip()),
    tidy_text: lambda text: _blank_to_none(" ".join(text.split())),
    tidy_code: lambda text: _blank_to_none(text.strip().upper()),
}


@given(st.lists(st.one_of(st.none(), st.text(alphabet="aB19 \t", max_size=6)), max_size=12),
       st.integers(1, 4))
def test_values_are_tidied_one_by_one_whether_or_not_any_needs_it(values: list[str | None],
                                                                   chunks: int) -> None:
    # Already-tidy columns come back shared rather than copied (the ingest's memory), so both
    # paths are checked, on a column read in several chunks as the CSV reader makes them.
    size = -(-len(values) // chunks) or 1
    column = pl.concat([pl.Series("v", values[i:i + size], dtype=pl.Utf8)
                        for i in range(0, max(len(values), 1), size)], rechunk=False)
    for tidy, one in TIDIERS.items():
        expected = [None if v is None else one(v) for v in values]
        assert tidy(column).to_list() == expected
        assert tidy(pl.Series("v", expected, dtype=pl.Utf8)).to_list() == expected


def test_columns_are_found_case_and_spacing_insensitively_and_extras_kept(tmp_path: Path
                                                                          ) -> None:
    header = ("Appointment ID", "PATIENT_ID", "Practice Code", "Appointment Date",
              "appointment time", "Clinician", "ROLE", "Status", "Mode", "Room")
    rows = [(1, "P1", "A81001", "2024-03-01", "", "GP1", "gp", "attended", "telephone", "R2")]
    files = canonical(tmp_path, [])
    files = ExtractFiles((write(tmp_path / "a.csv", csv_text(header, rows)),),
                         practices=files.practices)
    result = ingest(files)
    assert result.tables["appointments"].row(0)[:3] == ("1", "A81001:P1", "A81001")
    assert result.extras["appointments"].rows() == [("A81001", "1", "R2")]


def test_a_missing_required_column_names_it(tmp_path: Path) -> None:
    header = [h for h in APPOINTMENT_HEADER if h != "appointment_date"]
    files = ExtractFiles((write(tmp_path / "a.csv", csv_text(header, [])),))
    with pytest.raises(IngestError, match=r"a\.csv: the appointments file has no column for "
                                          r"appointment_date \(columns found: "):
        ingest(files)


# ---- patients, practices, usual GP -------------------------------------------------------


def test_patients_and_practices_files_are_checked_and_typed(tmp_path: Path) -> None:
    patients = [("P1", "A81001", "GP1", "3", "65 to 74", "female"),   # line 2
                ("P1", "A81001", "GP1", "3", "65-74", "F"),           # line 3: duplicate
                ("P1", "B82002", "GP9", "3", "65-74", "F"),           # line 4: other practice
                ("P2", "A81001", "", "11", "", ""),                   # line 5: decile 11
                ("P3", "A81001", "", "", "", "")]
    # national ids: one id is one person, so a second practice for P1 is a contradiction
    result = ingest(canonical(tmp_path, [appointment(1, "P1", "2024-03-01")], patients),
                    national_ids=True)
    assert counts(result, "patients") == (5, 2, 1, 2)
    t = result.tables["patients"].sort("patient_id")
    assert t.rows() == [("P1", "A81001", "GP1", 3, "65-74", "F"),
                        ("P3", "A81001", None, None, None, None)]
    reasons = {line: reason for _, line, _, reason in rejects_of(result)}
    assert reasons[4].startswith("patient listed at another practice (A81001) on line 2")
    assert reasons[5] == "imd_decile is above 10 (IMD deciles run 1 to 10)"
    practices = result.tables["practices"].sort("practice_code")
    assert practices.row(0) == ("A81001", "Riverside Surgery", "U12345", "Riverside PCN", "00L",
                                "QOP", 8000, 3, True)


def test_network_codes_of_the_wrong_shape_reject_their_practice_row(tmp_path: Path) -> None:
    good = ("A81001", "Riverside Surgery", "U12345", "Riverside PCN", "00L", "QOP", "", "", "")
    practices = [good,                                                            # line 2
                 ("B82002", "Hill", "P1,=2+5,", "Hill PCN", "", "", "", "", ""),  # line 3
                 ("C83003", "Vale", "U12346", "Vale PCN", "../x", "QOP", "", "", ""),
                 ("D84004", "Moor", "U12347", "Moor PCN", "00L", "=1+1", "", "", ""),
                 ("E85005", "Dale", "u12348", "Dale PCN", " 15n ", "qe1", "", "", "")]
    result = ingest(canonical(tmp_path, [appointment(1, "P1", "2024-03-01")],
                              practices=practices))
    assert [r[1:] for r in rejects_of(result)] == [
        (3, "pcn_code", "pcn_code is not an ODS code: a PCN code is U and 5 digits, e.g. U12345"),
        (4, "sub_icb_code", "sub_icb_code is not an ODS code: a sub-ICB location code is 3 or 5 "
                            "letters or digits, e.g. 00L"),
        (5, "icb_code", "icb_code is not an ODS code: an ICB code is Q and 2 letters or digits, "
                        "e.g. QOP")]
    assert result.rejects.sort("line")["raw_value"].to_list() == ["P1,=2+5,", "../x", "=1+1"]
    kept = result.tables["practices"].sort("practice_code")
    assert kept.select("practice_code", "pcn_code", "sub_icb_code", "icb_code").rows() == [
        ("A81001", "U12345", "00L", "QOP"), ("E85005", "U12348", "15N", "QE1")]


def test_without_a_patients_file_patients_come_from_the_appointments(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01", practice="A81001"),
            appointment(2, "P1", "2024-04-01", practice="B82002")]
    result = ingest(canonical(tmp_path, rows), national_ids=True)
    # registered where last seen
    assert result.tables["patients"].select("patient_id", "practice_code").rows() == [
        ("P1", "B82002")]
    assert result.report.counts["patients"].synthesised == 1


def _sql_practice_of_unlisted(appointments: pl.DataFrame) -> dict[str, str]:
    """queries/pipeline/patients/patient_practice.sql on these appointments, with nobody in the
    patients extract."""
    con = duckdb.connect()
    try:
        backend = DuckDBBackend(con)
        register_tables(backend, {"appointments": appointments,
                                  "patients": empty_table("patients"),
                                  "practices": empty_table("practices")})
        placed = backend.fetch(query_text("patient_practice"))
    finally:
        con.close()
    return dict(placed.select("patient_id", "practice_code").rows())


@pytest.mark.parametrize(("rows", "latest"), [
    # same day: a missing time is later than any given time, wherever the row is read
    ([appointment(1, "P1", "2024-03-01", practice="B82002"),
      appointment(2, "P1", "2024-03-01", practice="A81001", at="10:00")], "B82002"),
    # same day and time: the larger appointment_id is later, not the row read last
    ([appointment(2, "P1", "2024-03-01", practice="A81001", at="10:00"),
      appointment(1, "P1", "2024-03-01", practice="B82002", at="10:00")], "A81001"),
], ids=["missing-time-is-latest", "then-appointment-id"])
def test_without_a_patients_file_latest_means_last_in_contact_order_as_in_sql(
        tmp_path: Path, rows: list[tuple], latest: str) -> None:
    """docs/methods.md s.1 and s.2: ingest's derived patients and patient_practice.sql place a
    patient at the practice of the same latest appointment."""
    result = ingest(canonical(tmp_path, rows), national_ids=True)
    derived = dict(result.tables["patients"].select("patient_id", "practice_code").rows())
    assert derived == {"P1": latest}
    assert _sql_practice_of_unlisted(result.tables["appointments"]) == {"P1": latest}


def test_usual_gp_file_sets_the_named_gp(tmp_path: Path) -> None:
    files = canonical(tmp_path, [appointment(1, "P1", "2024-03-01"),
                                 appointment(2, "P2", "2024-03-01")])
    usual = write(tmp_path / "usual.csv", "Patient ID,Usual GP\nP1,Dr Ann Jones\nP2,\n"
                                          "P1,Dr Ann Jones\nP9,Dr Lee\n")
    result = ingest(ExtractFiles(files.appointments, None, files.practices, usual))
    assert dict(result.tables["patients"].select("patient_id", "usual_gp_id").rows()) == {
        "A81001:P1": "Dr Ann Jones", "A81001:P2": None, "A81001:P9": "Dr Lee"}
    # P9 has no appointment: placed at the only practice seen, and said so
    assert counts(result, "usual_gp") == (4, 3, 1, 0)


# ---- formats ---------------------------------------------------------------------------------


def test_parquet_and_xlsx_read_like_csv(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01", at="09:00"),
            appointment(2, "P2", "01/03/2024", "GP2", mode="telephone")]
    from_csv = ingest(canonical(tmp_path, rows)).tables["appointments"]
    frame = pl.DataFrame([list(map(str, r)) for r in rows], schema=list(APPOINTMENT_HEADER),
                         orient="row")
    frame.write_parquet(tmp_path / "a.parquet")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(APPOINTMENT_HEADER))
    ws.append([1, "P1", "A81001", date(2024, 3, 1), time(9, 0), "GP1", "gp", "attended",
               "face_to_face"])
    ws.append([2, "P2", "A81001", 45352, None, "GP2", "gp", "attended", "telephone"])
    wb.save(tmp_path / "a.xlsx")
    for name in ("a.parquet", "a.xlsx"):
        got = ingest(ExtractFiles((tmp_path / name,))).tables["appointments"]
        assert got.sort("appointment_id").equals(from_csv.sort("appointment_id")), name


def test_format_is_decided_by_content_not_name(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01")]
    frame = pl.DataFrame([list(map(str, r)) for r in rows], schema=list(APPOINTMENT_HEADER),
                         orient="row")
    frame.write_parquet(tmp_path / "really_parquet.csv")
    result = ingest(ExtractFiles((tmp_path / "really_parquet.csv",)))
    assert counts(result) == (1, 1, 0, 0)


def test_the_file_size_limit_is_enforced(tmp_path: Path) -> None:
    files = canonical(tmp_path, [appointment(i, "P1", "2024-03-01") for i in range(50)])
    with pytest.raises(IngestError, match="over the 100 bytes limit for one file"):
        ingest(files, max_bytes=100)


def test_a_thin_export_needs_the_practice(tmp_path: Path) -> None:
    f = write(tmp_path / "s1.csv", "Patient ID,Clinician,Age in years,Appointment date\n"
                                   "1,Dr Brown,40,01/03/2024\n")
    with pytest.raises(IngestError, match="no column for practice_code.*give the practice code"):
        ingest(ExtractFiles((f,)), preset="systmone")
    with pytest.raises(IngestError, match="practice code 'ZZ' is not valid"):
        ingest(ExtractFiles((f,)), preset="systmone", practice=PracticeInfo("ZZ", "X"))


def test_today_is_the_future_boundary(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", TODAY.isoformat()), appointment(2, "P1", "2025-01-02")]
    result = ingest(canonical(tmp_path, rows))
    assert counts(result) == (2, 1, 0, 1)


def test_a_patient_with_two_usual_gps_keeps_the_first_and_rejects_the_other(tmp_path: Path
                                                                            ) -> None:
    files = canonical(tmp_path, [appointment(1, "P1", "2024-03-01"),
                                 appointment(2, "P2", "2024-03-01", practice="B82002")])
    usual = write(tmp_path / "usual.csv", "Patient ID,Usual GP\nP1,Dr A\nP1,Dr B\nP7,Dr C\n")
    result = ingest(ExtractFiles(files.appointments, None, files.practices, usual),
                    national_ids=True)
    assert dict(result.tables["patients"].select("patient_id", "usual_gp_id").rows()) == {
        "P1": "Dr A", "P2": None}
    # two practices and no practice given: P7 (no appointment) cannot be placed
    assert counts(result, "usual_gp") == (3, 1, 0, 2)
    assert result.rejects.select("line", "reason").sort("line").rows() == [
        (3, "patient has another usual GP on line 2"),
        (4, "patient not in the patients or appointments files")]


# ---- property: accounting holds for any mix of good, bad and repeated rows -------------------

DATES = {"2024-03-01": True, "01/03/2024": True, "45352": True, "01-Mar-2024": True,
         "2031-01-01": False, "1999-12-31": False, "31/02/2024": False, "soon": False, "": False}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a1", "a2", "a3", "a4"]),
                          st.sampled_from(["P1", "P2", "", " "]),
                          st.sampled_from(sorted(DATES)),
                          st.sampled_from(["GP1", "GP2", ""])), min_size=1, max_size=25))
def test_any_mix_of_rows_is_accounted_for_exactly(tmp_path: Path, rows: list[tuple]) -> None:
    valid = [(i, f"A81001:{p.strip()}", c) for i, p, d, c in rows if p.strip() and DATES[d]]
    last = {i: (p, c or None) for i, p, c in valid}  # a repeated id keeps its last valid row
    files = canonical(tmp_path, [appointment(i, p, d, c) for i, p, d, c in rows])
    result = ingest(files)
    assert counts(result) == (len(rows), len(last), len(valid) - len(last),
                              len(rows) - len(valid))
    got = result.tables["appointments"].select("appointment_id", "patient_id", "clinician_id")
    assert {i: (p, c) for i, p, c in got.rows()} == last


def test_an_unreadable_time_leaves_the_time_blank_and_is_reported(tmp_path: Path) -> None:
    rows = [appointment(1, "P1", "2024-03-01", at="25:99"), appointment(2, "P1", "2024-03-02",
                                                                        at="09:15")]
    result = ingest(canonical(tmp_path, rows))
    assert result.tables["appointments"].sort("appointment_id")["appointment_time"].to_list() == [
        None, time(9, 15)]
    assert counts(result) == (2, 2, 0, 0)
    assert "unknown value: appointments.appointment_time '25:99' in 1 row (time left blank)" in \
        result.report.lines()


def test_gpad_coded_appointments(tmp_path: Path) -> None:
    text = ("APPT_ID,PATIENT_ID,GP_CODE,APPT_DATE,HCP_ID,HCP_TYPE,APPT_STATUS,APPT_MODE\n"
            "1,P1,A81001,01DEC2024,H1,GP,Attended,Face-to-Face\n"
            "2,P1,A81001,02DEC2024,H2,Other Practice staff,DNA,Video Conference/Online\n"
            "3,P1,A81001,03DEC2024,H3,Unknown,Unknown,Home Visit\n")
    result = ingest(ExtractFiles((write(tmp_path / "gpad.csv", text),)), preset="gpad")
    assert result.tables["appointments"].select(
        "appointment_date", "clinician_role", "status", "mode").rows() == [
        (date(2024, 12, 1), "gp", "attended", "face_to_face"),
        (date(2024, 12, 2), "other_clinical", "did_not_attend", "video_online"),
        (date(2024, 12, 3), "unknown", "unknown", "home_visit")]
    assert result.report.unknown_values == {}  # GPAD's own "Unknown" is a value, not unmapped
