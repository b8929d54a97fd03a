"""GPAD practice-level files counted from a synthetic extract (metrics.sample.gpad), by hand.

The tiny extract: practice A81001 (PCN U00001, sub-ICB 96X, ICB QSY: North East and Yorkshire)
and F84001 (U00009, 99A, QZZ: London). Appointment ids a0..a9 all draw the booking lead
"2 to 7 Days" (hash 97 * 31 + ord(digit) = 3055..3064, % 100 = 55..64, inside 52..72), id "d"
draws "Same Day" (hash 100, % 100 = 0), so every count below is countable from the list.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from metrics import gpad
from metrics.sample import gpad as sample_gpad
from metrics.sample.gpad import booking_lead, gpad_crosstab, last_months, stable_hash
from tests.builders import appt, extract
from tests.store.test_gpad import HEADER

DEC, JAN = date(2025, 12, 3), date(2026, 1, 5)
PRACTICES = [
    {"practice_code": "A81001", "practice_name": "Riverside Surgery", "pcn_code": "U00001",
     "pcn_name": "Network One", "sub_icb_code": "96X", "icb_code": "QSY"},
    {"practice_code": "F84001", "practice_name": "Canal Side Practice", "pcn_code": "U00009",
     "pcn_name": "City PCN", "sub_icb_code": "99A", "icb_code": "QZZ"},
]


def a(i: int, role: str, status: str, mode: str, day: date = DEC) -> dict:
    return appt(f"p{i}", day, f"C{i}", role=role, status=status, mode=mode,
                appointment_id=f"a{i}")


APPOINTMENTS = [
    a(0, "gp", "attended", "face_to_face"),             # the three GP roles: one GP row of 3
    a(1, "gp_registrar", "attended", "face_to_face"),
    a(2, "locum_gp", "attended", "face_to_face"),
    a(3, "nurse", "did_not_attend", "telephone"),        # other staff, admin included: DNA 2
    a(4, "admin", "did_not_attend", "telephone"),
    a(5, "unknown", "booked", "video_online"),           # not reconciled and unknown: Unknown 2
    a(6, "unknown", "unknown", "video_online"),
    a(7, "gp", "cancelled", "home_visit"),               # cancelled: not in the publication
    a(8, "pharmacist", "attended", "unknown"),
    a(9, "gp", "attended", "home_visit", JAN),           # January's file
    appt("q1", DEC, "L1", practice="F84001", appointment_id="d"),  # London, Same Day
]


@pytest.fixture
def tables() -> dict[str, pl.DataFrame]:
    return extract(APPOINTMENTS, practices=PRACTICES)


def counts(frame: pl.DataFrame) -> list[tuple]:
    return frame.select("GP_CODE", "HCP_TYPE", "APPT_MODE", "TIME_BETWEEN_BOOK_AND_APPT",
                        "APPT_STATUS", "COUNT_OF_APPOINTMENTS").rows()


def test_appointments_are_counted_into_the_published_layout(tables) -> None:
    files = gpad_crosstab(tables)
    assert list(files) == ["Practice_Level_Crosstab_Dec_25.csv",
                           "Practice_Level_Crosstab_Jan_26.csv"]
    dec = files["Practice_Level_Crosstab_Dec_25.csv"]
    assert dec.columns == HEADER
    assert counts(dec) == [
        ("A81001", "GP", "Face-to-Face", "2 to 7 Days", "Attended", 3),
        ("A81001", "Other Practice staff", "Telephone", "2 to 7 Days", "DNA", 2),
        ("A81001", "Other Practice staff", "Unknown", "2 to 7 Days", "Attended", 1),
        ("A81001", "Unknown", "Video Conference/Online", "2 to 7 Days", "Unknown", 2),
        ("F84001", "GP", "Face-to-Face", "Same Day", "Attended", 1),
    ]
    first = dec.row(0, named=True)
    assert first == {
        "APPOINTMENT_MONTH_START_DATE": "01DEC2025", "GP_CODE": "A81001",
        "GP_NAME": "RIVERSIDE SURGERY", "SUPPLIER": "EMIS",  # hash 1914119415 % 100 = 15
        "PCN_CODE": "U00001", "PCN_NAME": "NETWORK ONE", "SUB_ICB_LOCATION_CODE": "96X",
        "SUB_ICB_LOCATION_NAME": "NHS SYNTHETIC VALE ICB - 96X", "ICB_CODE": "QSY",
        "ICB_NAME": "NHS SYNTHETIC VALE INTEGRATED CARE BOARD", "REGION_CODE": "Y63",
        "REGION_NAME": "NORTH EAST AND YORKSHIRE", "HCP_TYPE": "GP",
        "APPT_MODE": "Face-to-Face", "NATIONAL_CATEGORY": "Unmapped",
        "TIME_BETWEEN_BOOK_AND_APPT": "2 to 7 Days", "COUNT_OF_APPOINTMENTS": 3,
        "APPT_STATUS": "Attended"}
    assert counts(files["Practice_Level_Crosstab_Jan_26.csv"]) == [
        ("A81001", "GP", "Home Visit", "2 to 7 Days", "Attended", 1)]


def test_one_month_split_by_region_and_months_chosen(tables) -> None:
    files = gpad_crosstab(tables, months=[date(2025, 12, 1)], split_month=date(2025, 12, 1))
    assert list(files) == ["Practice_Level_Crosstab_London_Dec_25.csv",
                           "Practice_Level_Crosstab_North_East_and_Yorkshire_Dec_25.csv"]
    london = files["Practice_Level_Crosstab_London_Dec_25.csv"]
    assert counts(london) == [("F84001", "GP", "Face-to-Face", "Same Day", "Attended", 1)]
    assert london["REGION_CODE"].to_list() == ["Y56"]
    north = files["Practice_Level_Crosstab_North_East_and_Yorkshire_Dec_25.csv"]
    assert north["COUNT_OF_APPOINTMENTS"].sum() == 8


def test_booking_leads_are_the_published_labels_double_spaces_included() -> None:
    # single characters hash to their code point: d 100 -> 0, 0 48, P 80, Z 90, _ 95, ` 96,
    # c 99; a1 = 97 * 31 + 49 = 3056 -> 56. Shares: 44, 8, 21, 12, 7, 4, 3, 1 percent.
    ids = ["d", "0", "a1", "P", "Z", "_", "`", "c"]
    assert stable_hash(ids).tolist() == [100, 48, 3056, 80, 90, 95, 96, 99]
    assert booking_lead(ids) == ["Same Day", "1 Day", "2 to 7 Days", "8  to 14 Days",
                                 "15  to 21 Days", "22  to 28 Days", "More than 28 Days",
                                 "Unknown / Data Quality"]


def test_last_months_cross_the_year() -> None:
    appointments = pl.DataFrame({"appointment_date": [date(2025, 7, 1), date(2026, 1, 15)]})
    assert last_months(appointments, 3) == [date(2025, 11, 1), date(2025, 12, 1),
                                            date(2026, 1, 1)]


def test_the_files_round_trip_through_the_gpad_import(tables, tmp_path) -> None:
    paths = sample_gpad.write_crosstab(
        gpad_crosstab(tables, split_month=date(2025, 12, 1)), tmp_path)
    assert [p.name for p in paths] == [
        "Practice_Level_Crosstab_Jan_26.csv", "Practice_Level_Crosstab_London_Dec_25.csv",
        "Practice_Level_Crosstab_North_East_and_Yorkshire_Dec_25.csv"]
    text = paths[2].read_text()
    assert text.splitlines()[0] == ",".join(HEADER)
    assert "01DEC2025,A81001,RIVERSIDE SURGERY,EMIS,U00001" in text
    result = gpad.read_gpad(paths)
    assert result.notes == []  # every value is in the published vocabulary
    assert result.frame["appointments"].sum() == 10  # 11 appointments, one cancelled
    con = duckdb.connect()
    gpad.write_tables(con, result)
    ctx = gpad.context(con, "A81001")
    dec = ctx.frame.filter(pl.col("month") == date(2025, 12, 1))

    def share(level: str, measure: str, category: str) -> tuple[int, int]:
        r = dec.filter((pl.col("level") == level) & (pl.col("measure") == measure)
                       & (pl.col("category") == category)).row(0, named=True)
        return r["appointments"], r["total"]

    assert (ctx.pcn, ctx.sub_icb) == ("U00001", "96X")
    assert share("practice", "staff", "gp") == (3, 8)
    assert share("practice", "staff", "other_practice_staff") == (3, 8)
    assert share("practice", "status", "did_not_attend") == (2, 8)
    assert share("practice", "status", "unknown") == (2, 8)
    assert share("practice", "mode", "video_online") == (2, 8)
    assert share("england", "staff", "gp") == (4, 9)


def test_the_shipped_sample_files_are_what_the_extract_gives(tmp_path) -> None:
    written = sample_gpad.write_sample_gpad(out_dir=tmp_path)
    assert [p.name for p in written] == [p.name for p in gpad.sample_files()]
    for new, shipped in zip(written, gpad.sample_files(), strict=True):
        assert new.read_bytes() == shipped.read_bytes(), new.name


def test_the_default_store_has_gpad_for_its_own_practices(tmp_path) -> None:
    from metrics.pipeline import build
    from metrics.sample import SampleConfig, generate

    config = SampleConfig(practices=3, pcns=2, scale=0.02, months=5)
    db = tmp_path / "continuity.duckdb"
    assert build.ensure_default_store(db, config=config)
    appointments = generate(config)["appointments"].filter(
        pl.col("appointment_date") >= date(2026, 8, 1), pl.col("status") != "cancelled")
    con = duckdb.connect(str(db), read_only=True)
    try:
        files = [f for (f,) in con.execute("SELECT file FROM gpad_sources ORDER BY months")
                 .fetchall()]
        stored = dict(con.execute("SELECT practice_code, sum(appointments) FROM "
                                  "gpad_appointments GROUP BY ALL").fetchall())
        extract_codes = {c for (c,) in con.execute("SELECT practice_code FROM practices")
                         .fetchall()}
        ctx = gpad.context(con, sorted(stored)[0])
    finally:
        con.close()
    assert files == ["Practice_Level_Crosstab_Aug_26.csv", "Practice_Level_Crosstab_Sep_26.csv",
                     "Practice_Level_Crosstab_Oct_26.csv"]
    expected = dict(appointments.group_by("practice_code").len().iter_rows())
    assert stored == expected
    assert set(stored) <= extract_codes and len(stored) >= 2
    assert ctx is not None and ctx.in_gpad


def test_cli_sample_writes_gpad_of_its_last_months(tmp_path, capsys) -> None:
    from metrics.cli import main

    out = tmp_path / "sample"
    assert main(["--quiet", "sample", "--out", str(out), "--scale", "0.01", "--practices", "2",
                 "--pcns", "1", "--months", "3", "--gpad-months", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"gpad: {out / 'gpad' / 'Practice_Level_Crosstab_Oct_26.csv'}" in printed
    assert sorted(p.name for p in (out / "gpad").iterdir()) == [
        "Practice_Level_Crosstab_Oct_26.csv", "Practice_Level_Crosstab_Sep_26.csv"]
    written = pl.read_csv(out / "appointments.csv", try_parse_dates=True).filter(
        pl.col("appointment_date") >= date(2026, 9, 1), pl.col("status") != "cancelled")
    result = gpad.read_gpad(sorted((out / "gpad").iterdir()))
    assert result.frame["appointments"].sum() == written.height > 0
    assert main(["sample", "--out", str(out), "--gpad-months", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "error: --gpad-months must be 0 or more"
