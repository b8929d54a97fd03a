"""`python -m metrics`: the compute contract on a tiny extract worked by hand,
ingest and export, --help everywhere, and one line (no traceback) for every bad input."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from metrics.cli import PATIENT_LEVEL, main
from metrics.pipeline import refresh
from metrics.sample import SampleConfig, generate
from tests.extract_files import (
    APPOINTMENT_HEADER,
    PATIENT_HEADER,
    PRACTICE_HEADER,
    csv_text,
    table_counts,
    write,
)
from tests.store.test_refresh import assert_same_tables

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {
    "patients.csv": "patient_id,practice_code,contacts,clinicians,usual_clinician_id,upc,coc,"
                    "secon,mmci,hhi,kpc",
    "practices.csv": "practice_code,practice_name,pcn_code,imd_quintile,eligible_patients,"
                     "contacts,upc_mean,coc_mean,secon_mean,mmci_mean,hhi_mean,kpc_mean,"
                     "upc_pooled,slicc,slicc_numerator,slicc_denominator,opr,opr_numerator,"
                     "opr_denominator",
    "gp_lists.csv": "practice_code,usual_gp_id,list_patients,eligible_patients,upc_mean,"
                    "coc_mean,slicc,slicc_numerator,slicc_denominator,opr,opr_numerator,"
                    "opr_denominator",
    "slicc_monthly.csv": "practice_code,month,slicc,slicc_numerator,slicc_denominator",
}
MEASURES = ("eligible_patients,contacts,upc_mean,coc_mean,secon_mean,mmci_mean,hhi_mean,"
            "kpc_mean,upc_pooled,slicc,slicc_numerator,slicc_denominator,opr,opr_numerator,"
            "opr_denominator")

# The tiny extract (all GP, face to face, attended unless said), window 2024:
#   A81001 (IMD decile 3), B82002 (decile 8), both in PCN U12345.
#   P1 named GP A: A Jan10, A Feb10, A Mar10, B Apr10 (telephone)      -> AAAB
#   P2 named GP A: A Jan05, B Feb05; DNA with A Mar05; nurse N1 Mar06  -> AB (GP staff)
#   P3 named GP B: B Jan20 09:00 and B Jan20 11:00 (same day)          -> B once (collapsed)
#   P5 no named GP, at A81001: A Jan15                                 -> A (N=1)
#   P4 at B82002, no named GP: C Jun01, C Jul01                        -> CC
APPOINTMENTS = [
    ("a01", "P1", "A81001", "2024-01-10", "", "A", "gp", "attended", "face_to_face"),
    ("a02", "P1", "A81001", "2024-02-10", "", "A", "gp", "attended", "face_to_face"),
    ("a03", "P1", "A81001", "2024-03-10", "", "A", "gp", "attended", "face_to_face"),
    ("a04", "P1", "A81001", "2024-04-10", "", "B", "gp", "attended", "telephone"),
    ("a05", "P2", "A81001", "2024-01-05", "", "A", "gp", "attended", "face_to_face"),
    ("a06", "P2", "A81001", "2024-02-05", "", "B", "gp", "attended", "face_to_face"),
    ("a07", "P2", "A81001", "2024-03-05", "", "A", "gp", "did_not_attend", "face_to_face"),
    ("a08", "P2", "A81001", "2024-03-06", "", "N1", "nurse", "attended", "face_to_face"),
    ("a09", "P3", "A81001", "2024-01-20", "09:00", "B", "gp", "attended", "face_to_face"),
    ("a10", "P3", "A81001", "2024-01-20", "11:00", "B", "gp", "attended", "face_to_face"),
    ("a11", "P5", "A81001", "2024-01-15", "", "A", "gp", "attended", "face_to_face"),
    ("a12", "P4", "B82002", "2024-06-01", "", "C", "gp", "attended", "face_to_face"),
    ("a13", "P4", "B82002", "2024-07-01", "", "C", "gp", "attended", "face_to_face"),
]
PATIENTS = [("P1", "A81001", "A", "1", "65-74", "F"), ("P2", "A81001", "A", "2", "40-64", "M"),
            ("P3", "A81001", "B", "9", "18-39", "F"), ("P5", "A81001", "", "", "", ""),
            ("P4", "B82002", "", "10", "75+", "M")]
PRACTICES = [("A81001", "Riverside Surgery", "U12345", "Riverside PCN", "00L", "QOP", "8000",
              "3", "true"),
             ("B82002", "Hill Practice", "U12345", "Riverside PCN", "00L", "QOP", "12000", "8",
              "false")]
WINDOW = ["--start", "2024-01-01", "--end", "2024-12-31"]


@pytest.fixture
def extract(tmp_path: Path) -> list[str]:
    """The tiny extract as CLI arguments."""
    return ["--appointments", str(write(tmp_path / "A.csv",
                                        csv_text(APPOINTMENT_HEADER, APPOINTMENTS))),
            "--patients", str(write(tmp_path / "P.csv", csv_text(PATIENT_HEADER, PATIENTS))),
            "--practices", str(write(tmp_path / "R.csv", csv_text(PRACTICE_HEADER, PRACTICES)))]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(path: Path) -> dict[str, dict[str, str]]:
    """A contract CSV keyed by its first column (and the second, for monthly or list rows)."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        first, second = reader.fieldnames[0], reader.fieldnames[1]
        keyed = {}
        for r in reader:
            key = r[first] if first in ("patient_id", "pcn_code") else f"{r[first]}/{r[second]}"
            keyed[key] = r
        return keyed


def num(text: str) -> float | None:
    return None if text == "" else float(text)


def compute(extract: list[str], out: Path, capsys: pytest.CaptureFixture[str],
            *options: str) -> Path:
    code, stdout, err = run(["compute", *extract, "--out", str(out), *WINDOW, *options], capsys)
    assert (code, err) == (0, ""), err
    assert stdout.startswith(f"written to {out}")
    return out


# ---- compute: the contract -------------------------------------------------------------------


def test_compute_writes_the_contract_files_with_exactly_the_contract_columns(
        extract: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = compute(extract, tmp_path / "out", capsys)
    for name, header in CONTRACT.items():
        assert (out / name).read_text().splitlines()[0] == header, name
    assert (out / "pcns.csv").read_text().splitlines()[0].endswith(MEASURES)
    assert (out / "pcns.csv").read_text().startswith("pcn_code,")
    assert (out / "deprivation.csv").read_text().splitlines()[0] == (
        "band_source,imd_quintile," + MEASURES)
    assert (out / "definitions.json").is_file()


def test_compute_patient_values_worked_by_hand(extract: list[str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    p = rows(compute(extract, tmp_path / "out", capsys) / "patients.csv")
    assert set(p) == {"P1", "P2", "P3", "P4", "P5"}  # every patient with a counted contact
    # P1 = AAAB: UPC 3/4, COC (9+1-4)/(4*3) = 0.5, SECON 2/3, MMCI (1-2/4.1)/(1-1/4.1) = 2.1/3.1,
    # HHI 9/16+1/16, KPC: A new, A known, A known, B new = 2/4
    p1 = p["P1"]
    assert (p1["contacts"], p1["clinicians"], p1["usual_clinician_id"]) == ("4", "2", "A")
    assert num(p1["upc"]) == pytest.approx(0.75)
    assert num(p1["coc"]) == pytest.approx(0.5)
    assert num(p1["secon"]) == pytest.approx(2 / 3)
    assert num(p1["mmci"]) == pytest.approx(2.1 / 3.1)
    assert num(p1["hhi"]) == pytest.approx(0.625)
    assert num(p1["kpc"]) == pytest.approx(0.5)
    # P2 = AB (the DNA and the nurse do not count): UPC 1/2, COC 0, MMCI (0.1/2.1)/(1.1/2.1)
    # = 1/11; the usual clinician of a 1-1 tie is the one seen most recently (B, Feb)
    p2 = p["P2"]
    assert (p2["contacts"], p2["usual_clinician_id"]) == ("2", "B")
    assert [num(p2[k]) for k in ("upc", "coc", "secon", "hhi", "kpc")] == [0.5, 0, 0, 0.5, 0]
    assert num(p2["mmci"]) == pytest.approx(1 / 11)
    # P3: two same-day contacts with B collapse to one; below the minimum every index is blank
    assert p["P3"]["contacts"] == "1"
    assert [p["P3"][k] for k in ("upc", "coc", "secon", "mmci", "hhi", "kpc")] == [""] * 6
    # P4 = CC
    assert [num(p["P4"][k]) for k in ("upc", "coc", "secon", "mmci", "hhi", "kpc")] == [
        1, 1, 1, pytest.approx(1), 1, 0.5]


def test_compute_practice_list_and_monthly_values_worked_by_hand(
        extract: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = compute(extract, tmp_path / "out", capsys)
    a = rows(out / "practices.csv")["A81001/Riverside Surgery"]
    # eligible: P1, P2. contacts: P1 4 + P2 2 + P3 1 + P5 1 = 8
    assert (a["pcn_code"], a["imd_quintile"], a["eligible_patients"], a["contacts"]) == (
        "U12345", "2", "2", "8")
    assert num(a["upc_mean"]) == pytest.approx((0.75 + 0.5) / 2)
    assert num(a["coc_mean"]) == pytest.approx(0.25)
    assert num(a["kpc_mean"]) == pytest.approx(0.25)
    assert num(a["upc_pooled"]) == pytest.approx((3 + 1) / (4 + 2))
    # SLICC over named-GP patients P1 (3 of 4 with A), P2 (1 of 2 with A), P3 (1 of 1 with B)
    assert (a["slicc_numerator"], a["slicc_denominator"]) == ("5", "7")
    assert num(a["slicc"]) == pytest.approx(5 / 7)
    # OPR: A saw own-list patients 4 times of 5 (P5 has no named GP); B 1 of 3 -> 5/8
    assert (a["opr_numerator"], a["opr_denominator"]) == ("5", "8")
    assert num(a["opr"]) == pytest.approx(0.625)
    b = rows(out / "practices.csv")["B82002/Hill Practice"]
    # no named-GP patients: SLICC and OPR are undefined (blank), never 0
    assert (b["slicc"], b["slicc_numerator"], b["slicc_denominator"], b["opr"]) == (
        "", "0", "0", "")

    lists = rows(out / "gp_lists.csv")
    assert (lists["A81001/A"]["list_patients"], lists["A81001/A"]["eligible_patients"]) == (
        "2", "2")
    assert num(lists["A81001/A"]["slicc"]) == pytest.approx(4 / 6)
    assert num(lists["A81001/A"]["opr"]) == pytest.approx(4 / 5)
    # B's list is P3 alone (N=1): no eligible patient, so no mean
    assert (lists["A81001/B"]["eligible_patients"], lists["A81001/B"]["upc_mean"]) == ("0", "")
    assert num(lists["A81001/B"]["opr"]) == pytest.approx(1 / 3)

    monthly = rows(out / "slicc_monthly.csv")
    assert [(monthly[f"A81001/2024-{m:02d}"]["slicc_numerator"],
             monthly[f"A81001/2024-{m:02d}"]["slicc_denominator"]) for m in range(1, 6)] == [
        ("3", "3"), ("1", "2"), ("1", "1"), ("0", "1"), ("0", "0")]
    assert monthly["A81001/2024-05"]["slicc"] == ""
    assert len([k for k in monthly if k.startswith("A81001/")]) == 12

    pcn = rows(out / "pcns.csv")["U12345"]
    assert (pcn["eligible_patients"], pcn["contacts"]) == ("3", "10")
    assert num(pcn["upc_mean"]) == pytest.approx((0.75 + 0.5 + 1) / 3)  # from patients


def test_compute_options_change_what_counts(extract: list[str], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def p1_p2_p3(*options: str) -> tuple[str, ...]:
        out = compute(extract, tmp_path / "-".join(options or ("default",)), capsys, *options)
        p = rows(out / "patients.csv")
        return p["P1"]["upc"], p["P2"]["contacts"], p["P3"]["contacts"]

    assert p1_p2_p3() == ("0.75", "2", "1")
    assert p1_p2_p3("--modes", "face_to_face") == ("1.0", "2", "1")     # P1's B was by phone
    assert p1_p2_p3("--staff", "clinical")[1] == "3"                     # P2's nurse counts
    assert p1_p2_p3("--no-collapse-same-day")[2] == "2"                  # P3's two visits
    out = compute(extract, tmp_path / "min3", capsys, "--min-contacts", "3")
    a = rows(out / "practices.csv")["A81001/Riverside Surgery"]
    assert (a["eligible_patients"], a["upc_mean"]) == ("1", "0.75")      # P2 (N=2) drops out


def test_compute_window_excludes_contacts_outside_it(extract: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q1"
    code, _, err = run(["compute", *extract, "--out", str(out), "--start", "2024-01-01",
                        "--end", "2024-03-31"], capsys)
    assert (code, err) == (0, "")
    assert rows(out / "patients.csv")["P1"]["contacts"] == "3"  # Apr 10 is outside


# ---- ingest and export -----------------------------------------------------------------------


def test_ingest_reports_counts_that_add_up_and_writes_rejects(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = [*APPOINTMENTS, ("a01", "P1", "A81001", "2024-01-10", "", "A", "gp", "attended",
                           "face_to_face"),
           ("a99", "P1", "A81001", "2099-01-01", "", "A", "gp", "attended", "face_to_face"),
           ("a98", "", "A81001", "2024-01-01", "", "A", "gp", "attended", "face_to_face")]
    a = write(tmp_path / "A.csv", csv_text(APPOINTMENT_HEADER, bad))
    db, rejects = tmp_path / "c.duckdb", tmp_path / "rejects" / "rejects.csv"
    code, out, err = run(["ingest", "--appointments", str(a), "--db", str(db),
                          "--rejects", str(rejects)], capsys)
    assert (code, err) == (0, "")
    assert "appointments: 16 rows read from 1 file = 13 loaded + 1 merged duplicates + " \
           "2 rejected" in out
    assert table_counts(db)["appointments"] == 13
    with rejects.open(newline="") as fh:
        got = [(r["line"], r["column"], r["reason"][:20]) for r in csv.DictReader(fh)]
    assert sorted(got) == [("16", "appointment_date", "date in the future ("),
                           ("17", "patient_id", "missing patient_id")]


def test_export_writes_shareable_files_without_patient_rows(
        extract: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.duckdb"
    assert run(["ingest", *extract, "--db", str(db)], capsys)[0] == 0
    shared = tmp_path / "shared"
    code, out, err = run(["export", "--db", str(db), "--out", str(shared), *WINDOW], capsys)
    assert (code, err) == (0, "")
    files = sorted(shared.iterdir())
    assert files and out.count("written: ") == len(files)
    for f in files:
        text = f.read_text()
        assert "patient_id" not in text and "P1," not in text, f.name
        assert "disclosure" in text.lower(), f.name  # every export states its rule


def test_without_db_the_cli_uses_continuity_db_as_the_dashboard_does(
        extract: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """No --db: ingest, export and undo use $CONTINUITY_DB (else data/continuity.duckdb), the
    database the dashboard opens (metrics.pipeline.build.db_path)."""
    from metrics.pipeline import build

    chosen = tmp_path / "chosen" / "continuity.duckdb"
    monkeypatch.setenv("CONTINUITY_DB", str(chosen))
    monkeypatch.chdir(tmp_path)  # the fallback would land in tmp_path/data
    assert build.db_path() == chosen
    assert run(["ingest", *extract], capsys)[0] == 0
    assert chosen.is_file() and not (tmp_path / "data").exists()
    assert table_counts(chosen)["appointments"] > 0
    code, _, err = run(["export", "--out", str(tmp_path / "shared"), *WINDOW], capsys)
    assert (code, err) == (0, "")  # read back from the same file
    assert any((tmp_path / "shared").iterdir())
    help_text = subprocess.run([sys.executable, "-m", "metrics", "ingest", "--help"],
                               capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "$CONTINUITY_DB" in " ".join(help_text.split())


def test_sample_takes_pcns_and_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["sample", "--out", str(tmp_path), "--scale", "0.01", "--practices", "3",
                        "--pcns", "2", "--months", "2", "--end", "2024-06-30"], capsys)
    assert (code, err) == (0, "")
    with (tmp_path / "practices.csv").open(newline="") as fh:
        practices = list(csv.DictReader(fh))
    assert len(practices) == 3
    assert len({p["pcn_code"] for p in practices}) == 2
    with (tmp_path / "appointments.csv").open(newline="") as fh:
        days = {r["appointment_date"] for r in csv.DictReader(fh)}
    assert min(days) >= "2024-05-01" and max(days) <= "2024-06-30"


def test_compute_says_its_files_are_patient_level_and_not_for_sharing(
        extract: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["compute", *extract, "--out", str(tmp_path / "out"), *WINDOW], capsys)
    assert code == 0
    assert stdout.splitlines()[-1] == f"note: {PATIENT_LEVEL}"
    assert "patient-level" in PATIENT_LEVEL and "not to be shared" in PATIENT_LEVEL
    assert main(["compute", "--help"]) == 0
    assert " ".join(PATIENT_LEVEL.split()) in " ".join(capsys.readouterr().out.split())


def test_compute_files_carry_no_live_formula(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    evil = [(f"a{i}", "=HYPERLINK(\"x\")", "A81001", f"2024-0{i}-10", "",
             "@SUM(1)" if i % 2 else "+Dr A", "gp", "attended", "face_to_face")
            for i in range(1, 5)]
    files = ["--appointments", str(write(tmp_path / "A.csv", csv_text(APPOINTMENT_HEADER, evil))),
             "--practices", str(write(tmp_path / "R.csv", csv_text(PRACTICE_HEADER, PRACTICES)))]
    out = compute(files, tmp_path / "out", capsys)
    patient = rows(out / "patients.csv")["'=HYPERLINK(\"x\")"]
    assert patient["usual_clinician_id"] in ("'@SUM(1)", "'+Dr A")
    for path in out.glob("*.csv"):
        with path.open(newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], path.name


# ---- help and errors -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["sample"], ["ingest"], ["compute"], ["export"],
                                     ["undo"]])
def test_every_subcommand_has_help(command: list[str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "usage: python -m metrics" in capsys.readouterr().out


def bad(tmp_path: Path) -> dict[str, list[str]]:
    garbage = write(tmp_path / "garbage.csv", bytes(range(256)) * 8)
    good = write(tmp_path / "A.csv", csv_text(APPOINTMENT_HEADER, APPOINTMENTS))
    out = str(tmp_path / "out")
    return {
        "missing file": ["compute", "--appointments", str(tmp_path / "nope.csv"), "--out", out],
        "bad date": ["compute", "--appointments", str(good), "--out", out, "--start",
                     "2024-02-30"],
        "end before start": ["compute", "--appointments", str(good), "--out", out, "--start",
                             "2024-06-01", "--end", "2024-01-01"],
        "unknown staff": ["compute", "--appointments", str(good), "--out", out, "--staff",
                          "doctors"],
        "unknown mode": ["compute", "--appointments", str(good), "--out", out, "--modes",
                         "face_to_face,carrier_pigeon"],
        "min contacts 1": ["compute", "--appointments", str(good), "--out", out,
                           "--min-contacts", "1"],
        "garbage file": ["ingest", "--appointments", str(garbage), "--db",
                         str(tmp_path / "c.duckdb")],
        "both db and files": ["compute", "--appointments", str(good), "--db",
                              str(tmp_path / "c.duckdb"), "--out", out],
        "no database": ["export", "--db", str(tmp_path / "none.duckdb"), "--out", out],
        "unknown preset": ["ingest", "--appointments", str(good), "--preset", "vision"],
        "half a practice": ["ingest", "--appointments", str(good), "--practice-code", "A81001"],
        "bad sample scale": ["sample", "--out", out, "--scale", "0"],
        "out is a file": ["compute", "--appointments", str(good), "--out", str(good)],
        "rejects is a folder": ["ingest", "--appointments", str(good), "--db",
                                str(tmp_path / "c.duckdb"), "--rejects", str(tmp_path)],
        "mapping is not TOML": ["ingest", "--appointments", str(good), "--mapping", str(good),
                                "--db", str(tmp_path / "c.duckdb")],
        "not a number": ["compute", "--appointments", str(good), "--out", out,
                         "--min-contacts", "two"],
        "no command": [],
        "unknown command": ["frobnicate"],
    }


CASES = list(bad(Path("/x")))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_exit_2_and_one_line_without_traceback(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(bad(tmp_path)[case], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err


def test_the_real_command_line_gives_one_line_too(tmp_path: Path) -> None:
    garbage = write(tmp_path / "garbage.csv", bytes(range(256)) * 8)
    done = subprocess.run([sys.executable, "-m", "metrics", "ingest", "--appointments",
                           str(garbage), "--db", str(tmp_path / "c.duckdb")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "error: garbage.csv: is binary data, not a CSV, Parquet or XLSX " \
                          "extract\n"
    assert not (tmp_path / "c.duckdb").exists()


def test_ingest_append_of_the_next_month_brings_the_results_forward_incrementally(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The monthly routine: a store built to August 2026, then September's appointments alone
    # appended. The results move on one month without recomputing the months they had, and
    # equal an ingest of everything in one go, table by table (results and refresh state).
    tables = generate(SampleConfig(practices=3, pcns=1, scale=0.02))
    day = pl.col("appointment_date")
    files = {"august": day < date(2026, 9, 1),
             "september": (day >= date(2026, 9, 1)) & (day < date(2026, 10, 1)),
             "all": day < date(2026, 10, 1)}
    for name, rows in files.items():
        tables["appointments"].filter(rows).write_csv(tmp_path / f"{name}.csv")
    for name in ("patients", "practices"):
        tables[name].write_csv(tmp_path / f"{name}.csv")
    others = ["--patients", str(tmp_path / "patients.csv"),
              "--practices", str(tmp_path / "practices.csv")]
    db, full = tmp_path / "monthly.duckdb", tmp_path / "full.duckdb"

    assert run(["ingest", "--appointments", str(tmp_path / "august.csv"), *others,
                "--db", str(db)], capsys)[0] == 0
    assert refresh.stored_params(db).window_end == date(2026, 8, 31)
    code, out, _ = run(["ingest", "--append", "--appointments", str(tmp_path / "september.csv"),
                        "--db", str(db)], capsys)
    september = tables["appointments"].filter(files["september"]).height
    assert code == 0
    assert (f"results: brought forward one month, incrementally, to 2024-10-01 to 2026-09-30 "
            f"({september:,} new appointments") in out
    run(["ingest", "--appointments", str(tmp_path / "all.csv"), *others, "--db", str(full)],
        capsys)
    assert_same_tables(db, full)

    # a correction to an earlier month: the same window, computed in full, and the reason said
    late = tables["appointments"].filter(files["september"]).head(1).with_columns(
        appointment_id=pl.lit("late-entry"), appointment_date=pl.lit(date(2026, 3, 4)))
    late.write_csv(tmp_path / "late.csv")
    code, out, _ = run(["ingest", "--append", "--appointments", str(tmp_path / "late.csv"),
                        "--db", str(db)], capsys)
    assert code == 0
    assert ("results: computed in full for 2024-10-01 to 2026-09-30" in out
            and "the window is still 2024-10-01 to 2026-09-30" in out), out
    assert refresh.has_state(db)
    pl.concat([tables["appointments"].filter(files["all"]), late]).write_csv(
        tmp_path / "corrected.csv")
    run(["ingest", "--appointments", str(tmp_path / "corrected.csv"), *others,
         "--db", str(full)], capsys)
    assert_same_tables(db, full)
