"""National context from NHS England GPAD practice-level files (docs/extract-schema.md s.7),
worked by hand.

Fixtures are written in the publication's exact layout: its headers, dates like 01DEC2025,
booking-lead labels with a double space, the region split (several files make one month).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from metrics import gpad
from metrics.cli import main
from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.store import write_store
from tests.builders import appt, extract

HEADER = ["APPOINTMENT_MONTH_START_DATE", "GP_CODE", "GP_NAME", "SUPPLIER", "PCN_CODE",
          "PCN_NAME", "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME", "ICB_CODE", "ICB_NAME",
          "REGION_CODE", "REGION_NAME", "HCP_TYPE", "APPT_MODE", "NATIONAL_CATEGORY",
          "TIME_BETWEEN_BOOK_AND_APPT", "COUNT_OF_APPOINTMENTS", "APPT_STATUS"]
# practice -> (PCN, sub-ICB, region)
PLACES = {"A81001": ("U00001", "00L", "Y63"), "A81002": ("U00001", "00L", "Y63"),
          "A81003": ("U00002", "00L", "Y63"), "F84001": ("U00003", "99Z", "Y56")}


def row(practice: str, hcp: str, mode: str, status: str, count: int, *,
        lead: str = "Same Day", month: str = "01DEC2025") -> list[str]:
    pcn, sub_icb, region = PLACES[practice]
    return [month, practice, f"PRACTICE {practice}", "EMIS", pcn, f"PCN {pcn}", sub_icb,
            f"SUB ICB {sub_icb}", "QXX", "ICB QXX", region, f"REGION {region}", hcp, mode,
            "General Consultation Routine", lead, str(count), status]


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# December 2025, split by region. Practice A81001 (90 appointments):
#   GP 40 (face to face 20 same day + 10 "8  to 14 Days", telephone 10), other staff 45
#   (face to face 40 attended, 5 DNA), unknown staff 5 (video/online, status unknown).
A81001 = [
    row("A81001", "GP", "Face-to-Face", "Attended", 20),
    row("A81001", "GP", "Face-to-Face", "Attended", 10, lead="8  to 14 Days"),
    row("A81001", "GP", "Telephone", "Attended", 10),
    row("A81001", "Other Practice staff", "Face-to-Face", "Attended", 40),
    row("A81001", "Other Practice staff", "Face-to-Face", "DNA", 5),
    row("A81001", "Unknown", "Video Conference/Online", "Unknown", 5),
]
NORTH = [*A81001,
         row("A81002", "GP", "Home Visit", "Attended", 10),             # same PCN and sub-ICB
         row("A81003", "Other Practice staff", "Telephone", "DNA", 20)]  # same sub-ICB only
LONDON = [row("F84001", "GP", "Face-to-Face", "Attended", 80)]          # England only


@pytest.fixture
def december(tmp_path: Path) -> list[Path]:
    return [write(tmp_path / "Practice_Level_Crosstab_North_East_and_Yorkshire_Dec_25.csv",
                  NORTH),
            write(tmp_path / "Practice_Level_Crosstab_London_Dec_25.csv", LONDON)]


def share(frame: pl.DataFrame, level: str, measure: str, category: str) -> tuple[int, int, float]:
    r = frame.filter((pl.col("level") == level) & (pl.col("measure") == measure)
                     & (pl.col("category") == category)).to_dicts()
    assert len(r) == 1, (level, measure, category)
    return r[0]["appointments"], r[0]["total"], r[0]["share"]


def test_publication_values_become_canonical_and_every_row_is_kept(december) -> None:
    result = gpad.read_gpad(december)
    frame = result.frame
    assert frame.height == 9
    assert frame["appointments"].sum() == 200
    assert set(frame["month"]) == {date(2025, 12, 1)}
    a = frame.filter(pl.col("practice_code") == "A81001")
    assert sorted(set(a["hcp_type"])) == ["gp", "other_practice_staff", "unknown"]
    assert sorted(set(a["mode"])) == ["face_to_face", "telephone", "video_online"]
    assert sorted(set(a["status"])) == ["attended", "did_not_attend", "unknown"]
    # the two booking-lead rows differ only in the label: both kept, label spaces folded
    gp_f2f = a.filter((pl.col("hcp_type") == "gp") & (pl.col("mode") == "face_to_face"))
    assert sorted(gp_f2f["booking_lead"]) == ["8 to 14 Days", "Same Day"]
    assert gp_f2f["appointments"].sum() == 30
    assert result.sources["appointments"].to_list() == [80, 120]  # London, then North


def test_context_for_a_practice_its_pcn_its_sub_icb_and_england(december, tmp_path) -> None:
    con = duckdb.connect()
    gpad.write_tables(con, gpad.read_gpad(december))
    ctx = gpad.context(con, "A81001")
    assert (ctx.pcn, ctx.sub_icb, ctx.in_gpad) == ("U00001", "00L", True)
    f = ctx.frame
    assert share(f, "practice", "staff", "gp") == (40, 90, pytest.approx(40 / 90))
    assert share(f, "practice", "staff", "other_practice_staff")[0] == 45
    assert share(f, "practice", "status", "did_not_attend") == (5, 90, pytest.approx(5 / 90))
    assert share(f, "practice", "mode", "face_to_face") == (75, 90, pytest.approx(75 / 90))
    assert share(f, "pcn", "staff", "gp") == (50, 100, 0.5)
    assert share(f, "pcn", "mode", "home_visit") == (10, 100, 0.1)
    assert share(f, "sub_icb", "staff", "other_practice_staff") == (65, 120,
                                                                    pytest.approx(65 / 120))
    assert share(f, "sub_icb", "status", "did_not_attend") == (25, 120, pytest.approx(25 / 120))
    assert share(f, "england", "staff", "gp") == (130, 200, 0.65)
    assert share(f, "england", "status", "did_not_attend") == (25, 200, 0.125)
    # every category is there, zero-filled, with the number of practices behind the level
    assert share(f, "practice", "mode", "home_visit") == (0, 90, 0.0)
    practices = dict(f.select("level", "practices").unique().iter_rows())
    assert practices == {"practice": 1, "pcn": 2, "sub_icb": 3, "england": 4}


def test_a_practice_missing_from_gpad_is_placed_by_the_extract_codes(december) -> None:
    con = duckdb.connect()
    gpad.write_tables(con, gpad.read_gpad(december))
    ctx = gpad.context(con, "A89999", pcn="U00001", sub_icb="00L")
    assert not ctx.in_gpad
    assert set(ctx.frame["level"]) == {"pcn", "sub_icb", "england"}  # no practice row, not zero
    assert share(ctx.frame, "pcn", "staff", "gp") == (50, 100, 0.5)


def test_a_file_given_twice_is_read_once(december, tmp_path) -> None:
    copy = tmp_path / "copy" / december[1].name
    copy.parent.mkdir()
    copy.write_bytes(december[1].read_bytes())
    result = gpad.read_gpad([*december, december[1], copy])
    assert result.frame["appointments"].sum() == 200
    assert any("same file" in note for note in result.notes)


def test_a_whole_month_file_and_its_region_split_are_not_double_counted(december, tmp_path
                                                                         ) -> None:
    whole = write(tmp_path / "Practice_Level_Crosstab_Dec_25.csv", [*LONDON, *NORTH])
    result = gpad.read_gpad([whole, *december])
    assert result.frame["appointments"].sum() == 200
    assert result.frame.height == 9
    assert any("4 practice-months were in more than one file" in n for n in result.notes)


def test_the_same_practice_month_with_different_counts_is_refused(december, tmp_path) -> None:
    revised = write(tmp_path / "Practice_Level_Crosstab_Dec_25.csv",
                    [row("F84001", "GP", "Face-to-Face", "Attended", 81)])
    with pytest.raises(gpad.GpadError, match="F84001 in Dec 2025 is in .* different counts"):
        gpad.read_gpad([revised, *december])


def test_a_repeated_row_is_a_different_count_too(december, tmp_path) -> None:
    doubled = write(tmp_path / "Practice_Level_Crosstab_Dec_25.csv", [*LONDON, *LONDON])
    with pytest.raises(gpad.GpadError, match="F84001 in Dec 2025 .* different counts"):
        gpad.read_gpad([doubled, *december])


@pytest.mark.parametrize(("rows", "header", "message"), [
    ([row("A81001", "GP", "Telephone", "Attended", 3)], [h for h in HEADER if h != "APPT_STATUS"],
     "no column APPT_STATUS"),
    ([row("A81001", "GP", "Telephone", "Attended", 3),
      row("A81001", "GP", "Home Visit", "Attended", 3)[:16] + ["2.5", "Attended"]], HEADER,
     "line 3: COUNT_OF_APPOINTMENTS '2.5' is not a whole number"),
    ([row("A81001", "GP", "Telephone", "Attended", 3, month="15DEC2025")], HEADER,
     "line 2: APPOINTMENT_MONTH_START_DATE '15DEC2025' is not the first day of a month"),
    ([row("A81001", "GP", "Telephone", "Attended", 3, month="DEC2025")], HEADER,
     "is not a date like 01DEC2025"),
])
def test_a_file_that_is_not_as_published_gets_one_line(tmp_path, rows, header, message) -> None:
    path = write(tmp_path / "Practice_Level_Crosstab_Dec_25.csv",
                 [r if len(header) == len(HEADER) else r[:-1] for r in rows], header)
    with pytest.raises(gpad.GpadError, match=message):
        gpad.read_gpad([path])


def test_a_value_outside_the_vocabulary_counts_as_unknown_and_is_reported(tmp_path) -> None:
    path = write(tmp_path / "Practice_Level_Crosstab_Dec_25.csv",
                 [row("A81001", "GP", "Carrier Pigeon", "Attended", 4)])
    result = gpad.read_gpad([path])
    assert result.frame["mode"].to_list() == ["unknown"]
    assert any("APPT_MODE 'Carrier Pigeon' is not in the published vocabulary: 4 "
               "appointments" in n for n in result.notes)


# ---- the store --------------------------------------------------------------------------------


def small_store(path: Path) -> Path:
    tables = extract([appt("p1", date(2025, 12, 1), "A")])
    report = IngestReport(preset="test")
    result = IngestResult(tables=tables, extras={}, rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                          report=report)
    return write_store(result, path)


def store_totals(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT practice_code, sum(appointments) FROM gpad_appointments "
                           "GROUP BY ALL").fetchall()
    finally:
        con.close()
    return dict(rows)


def test_loading_replaces_practice_months_and_keeps_the_rest(december, tmp_path) -> None:
    db = small_store(tmp_path / "store.duckdb")
    gpad.load_gpad(gpad.read_gpad(december), db)
    gpad.load_gpad(gpad.read_gpad(december), db)  # again: nothing doubles
    assert store_totals(db) == {"A81001": 90, "A81002": 10, "A81003": 20, "F84001": 80}
    revised = write(tmp_path / "Practice_Level_Crosstab_London_Dec_25_r.csv",
                    [row("F84001", "GP", "Face-to-Face", "Attended", 81)])
    gpad.load_gpad(gpad.read_gpad([revised]), db)
    assert store_totals(db) == {"A81001": 90, "A81002": 10, "A81003": 20, "F84001": 81}
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM appointments").fetchone()[0] == 1  # store kept
    con.close()


def test_a_rebuild_from_an_extract_carries_the_gpad_tables_over(december, tmp_path) -> None:
    db = small_store(tmp_path / "store.duckdb")
    gpad.load_gpad(gpad.read_gpad(december), db)
    small_store(db)  # a new extract replaces the store
    assert sum(store_totals(db).values()) == 200


def test_loading_needs_a_store(december, tmp_path) -> None:
    from metrics.store import StoreError

    with pytest.raises(StoreError, match="no database at"):
        gpad.load_gpad(gpad.read_gpad(december), tmp_path / "none.duckdb")


def test_cli_ingest_gpad(december, tmp_path, capsys) -> None:
    db = small_store(tmp_path / "store.duckdb")
    assert main(["ingest-gpad", *map(str, december), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Practice_Level_Crosstab_London_Dec_25.csv: 1 rows, 80 appointments" in out
    assert "(9 GPAD rows loaded)" in out
    bad = write(tmp_path / "Practice_Level_Crosstab_Jan_26.csv", [["x"] * 17],
                HEADER[:-1])
    assert main(["ingest-gpad", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: Practice_Level_Crosstab_Jan_26.csv is not a GPAD practice-level "
                   "file: no column APPT_STATUS"]


# ---- the shipped sample (the default store's own GPAD: tests/unit/test_sample_gpad.py) ----


def test_the_sample_files_two_months_one_split_by_region() -> None:
    files = gpad.sample_files()
    names = [f.name for f in files]
    assert names == ["Practice_Level_Crosstab_London_Oct_26.csv",
                     "Practice_Level_Crosstab_North_East_and_Yorkshire_Oct_26.csv",
                     "Practice_Level_Crosstab_Sep_26.csv"]
    assert "  to " in files[2].read_text()  # the double-space booking-lead labels
    result = gpad.read_gpad(files)
    per_file = dict(zip(result.sources["file"], result.sources["appointments"], strict=True))
    october = result.frame.filter(pl.col("month") == date(2026, 10, 1))
    assert october["appointments"].sum() == (per_file[names[0]] + per_file[names[1]])
    practices = set(pl.read_csv(gpad.SAMPLE_DIR.parent / "practices.csv")["practice_code"])
    for month in (date(2026, 9, 1), date(2026, 10, 1)):
        codes = set(result.frame.filter(pl.col("month") == month)["practice_code"])
        # the extract's open practices (Z85577 merged into Z98336 in Nov 2025)
        assert practices - {"Z85577"} <= codes
        assert "Z85577" not in codes
