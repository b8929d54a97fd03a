"""The commands' options (`python -m metrics <command> --help`)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from metrics.cli import gpad as cli_gpad
from metrics.cli.base import PATIENT_LEVEL, OneLineParser
from metrics.mapping import available_presets
from metrics.sample import SampleConfig
from metrics.schema import DEFAULT_MODES, MODES, STAFF_GROUPS
from metrics.store import DB_HELP, default_db

DESCRIPTION = """\
Continuity of care for general practice: how often patients see the same clinician.

  sample   make a realistic synthetic extract (an ICB of ~40 practices) to try things with
  ingest   check and load your appointment extract into the local database
  compute  work out every continuity index and write them as CSV files
  export   write shareable CSV files from the database, with small numbers suppressed
  ingest-gpad  add NHS England's published GPAD appointment files (national context)
  undo     put back the database as it was before the last load

Run `python -m metrics <command> --help` for the options of each command."""


# ---- arguments ----------------------------------------------------------------------------


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-31") from None


def mode_list(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise argparse.ArgumentTypeError(
            f"unknown mode(s) {', '.join(bad) or '(none)'}; choose from {', '.join(MODES)}")
    return modes


def add_extract_arguments(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_argument_group("extract files (CSV, Parquet or XLSX)")
    g.add_argument("--appointments", type=Path, nargs="+", required=required, metavar="FILE",
                   help="one or more appointment files (overlapping exports are merged)")
    g.add_argument("--patients", type=Path, metavar="FILE", help="registered patients file")
    g.add_argument("--practices", type=Path, metavar="FILE", help="practices file")
    g.add_argument("--usual-gp", type=Path, metavar="FILE",
                   help="optional file of each patient's usual GP (Patient ID, Usual GP)")
    g.add_argument("--preset", default="canonical", choices=available_presets(),
                   help="the layout of the files: canonical (default), emis (EMIS Web "
                        "appointment report), systmone (SystmOne Breakdown Results), gpad "
                        "(national GPAD codes)")
    g.add_argument("--mapping", type=Path, metavar="TOML",
                   help="your own column and value mapping (see metrics/presets/"
                        "example_mapping.toml)")
    g.add_argument("--practice-code", metavar="CODE",
                   help="the practice's ODS code (e.g. A81001), for exports that have none")
    g.add_argument("--practice-name", metavar="NAME", help="the practice's name, with the code")
    g.add_argument("--pcn-code", metavar="CODE", help="its PCN's code, e.g. U12345 (optional)")
    g.add_argument("--pcn-name", metavar="NAME", help="its PCN's name (optional)")
    g.add_argument("--national-patient-ids", action="store_true",
                   help="the patient ids are national (the same id is the same person at every "
                        "practice, e.g. a pseudonymised NHS number in a warehouse feed). By "
                        "default (canonical and gpad files too), and always for the emis and "
                        "systmone presets, ids are local to a practice: each is stored as "
                        "PRACTICE:ID, so two practices' patient 1 stay two patients")


def add_param_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what counts (defaults follow the project's conventions)")
    g.add_argument("--start", type=iso_date, metavar="YYYY-MM-DD",
                   help="first day of the window (default: 24 complete months to the end)")
    g.add_argument("--end", type=iso_date, metavar="YYYY-MM-DD",
                   help="last day of the window, inclusive (default: the end of the last "
                        "complete month in the data)")
    g.add_argument("--min-contacts", type=int, default=2, metavar="N",
                   help="contacts a patient needs for UPC, COC, SECON, MMCI, HHI, KPC (default 2)")
    g.add_argument("--staff", choices=STAFF_GROUPS, default="gp",
                   help="whose contacts count: gp (GPs, registrars, locums; default), clinical "
                        "(every clinical role) or all. SLICC and OPR always use GP contacts")
    g.add_argument("--modes", type=mode_list, default=None, metavar="LIST",
                   help=f"comma-separated modes to count (default {','.join(DEFAULT_MODES)}; "
                        "when the extract records no mode at all, as in SystmOne report "
                        "exports, `unknown` is counted too)")
    g.add_argument("--no-collapse-same-day", dest="collapse_same_day", action="store_false",
                   help="count every contact; by default several contacts of one patient with "
                        "one clinician on one day count once")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m metrics", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show full error details")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    s = sub.add_parser("sample", help="make a synthetic extract",
                       description="Write a realistic synthetic extract (deterministic from the "
                                   "seed) as CSV or Parquet files, and optionally a database.")
    s.add_argument("--out", type=Path, default=Path("data/sample"), metavar="DIR",
                   help="folder for appointments, patients and practices files")
    s.add_argument("--seed", type=int, default=SampleConfig.seed,
                   help="the same seed gives the same extract (default %(default)s)")
    s.add_argument("--scale", type=float, default=SampleConfig.scale,
                   help="multiplies list sizes: 1 is about an ICB, 0.1 a quick demo")
    s.add_argument("--practices", type=int, default=SampleConfig.practices,
                   help="number of practices (default %(default)s)")
    s.add_argument("--pcns", type=int, default=SampleConfig.pcns,
                   help="number of primary care networks they form (default %(default)s)")
    s.add_argument("--months", type=int, default=SampleConfig.months,
                   help="months of appointments (default %(default)s)")
    s.add_argument("--end", type=iso_date, default=SampleConfig.end, metavar="YYYY-MM-DD",
                   help="last day with appointments (default %(default)s)")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.add_argument("--gpad-months", type=int, default=0, metavar="N",
                   help="also write GPAD practice-level files of the last N months to DIR/gpad "
                        "(national context, for ingest-gpad)")

    i = sub.add_parser("ingest", help="check and load an extract into the database",
                       description="Check an extract, report every row (loaded, merged as a "
                                   "duplicate, or rejected with the reason) and load it into "
                                   "the database, replacing it atomically; the database it "
                                   "replaces is kept for `undo`. A load that would remove "
                                   "practices, or change another practice's PCN, sub-ICB, ICB "
                                   "or patients, needs --confirm-changes.")
    add_extract_arguments(i, required=True)
    i.add_argument("--db", type=Path, default=default_db(), metavar="FILE",
                   help=DB_HELP)
    i.add_argument("--append", action="store_true",
                   help="add to what the database holds instead of replacing it; when the "
                        "new rows bring the data one complete month further, the stored "
                        "results move on one month incrementally")
    i.add_argument("--rejects", type=Path, metavar="CSV", help="write rejected rows here")
    i.add_argument("--confirm-changes", action="store_true",
                   help="apply a load that removes practices the database holds, moves a "
                        "practice to another PCN, sub-ICB or ICB, or moves patients to another "
                        "practice; without it such a load changes nothing, lists the changes "
                        "and exits with code 2")

    u = sub.add_parser("undo", help="put back the database as it was before the last load",
                       description="Swap the database with the one the last load (ingest, "
                                   "ingest-gpad or the Data page) replaced, kept beside it as "
                                   "FILE.previous. Running undo again brings the undone load "
                                   "back. Exit code 2 when there is nothing to undo.")
    u.add_argument("--db", type=Path, default=default_db(), metavar="FILE",
                   help=DB_HELP)

    c = sub.add_parser("compute", help="compute every index and write CSV files",
                       description="Compute UPC, COC, SECON, MMCI, HHI, KPC, SLICC and OPR from "
                                   "extract files (or a database) and write patients.csv "
                                   "(a patient is practice_code with patient_id, the id as "
                                   "the extract gave it), "
                                   "practices.csv, gp_lists.csv, slicc_monthly.csv, pcns.csv, "
                                   "deprivation.csv and definitions.json into --out. "
                                   f"Note: {PATIENT_LEVEL}.")
    add_extract_arguments(c, required=False)
    c.add_argument("--db", type=Path, metavar="FILE",
                   help="compute from this database instead of extract files")
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    add_param_arguments(c)
    c.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="duckdb (default) or spark (needs requirements-spark.txt)")
    c.add_argument("--spark-master", default="local[2]", help="Spark master URL (default local[2])")
    c.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 4GB")
    c.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    c.add_argument("--temp-dir", type=Path, default=None,
                   help="where DuckDB may spill to disk on big data")

    e = sub.add_parser("export", help="write shareable CSV files from the database",
                       description="Write the Export page's tables for these filters (every "
                                   "page's tables, and practice, PCN, sub-ICB, ICB, "
                                   "deprivation, age-band and monthly SLICC tables) with "
                                   "disclosure control. "
                                   "Patient-level rows are never exported (rejected rows hold "
                                   "patient ids: get "
                                   "them with `ingest --rejects FILE`, for the practice's own "
                                   "use); per-GP lists only when asked.")
    e.add_argument("--db", type=Path, default=default_db(), metavar="FILE",
                   help=DB_HELP)
    e.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    e.add_argument("--disclosure", choices=("nhs", "none"), default="nhs",
                   help="nhs (default): small counts suppressed and rounded; none: exact numbers "
                        "for the practice's own use")
    e.add_argument("--include-gp-lists", action="store_true",
                   help="also export per-GP list figures (named staff: internal use only)")
    e.add_argument("--practice", default=None, metavar="CODE",
                   help="the selected practice (its My practice, inferred-GP and national "
                        "context tables), as the dashboard's sidebar")
    e.add_argument("--pcn", default=None, metavar="CODE", help="the selected PCN")
    e.add_argument("--index", default="slicc", help="the index compared (default slicc)")
    e.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a page's own choice as the dashboard's address holds it, e.g. "
                        "scope=One ICB or series=Its PCN (repeatable)")
    add_param_arguments(e)
    cli_gpad.add_parser(sub)
    return parser
