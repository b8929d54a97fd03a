"""Command-line interface: sample, ingest, compute, export.

Every failure a user can cause ends with a non-zero exit and one line on stderr, never a
traceback (pass --debug to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

import duckdb
import polars as pl

from metrics import cli_gpad, engine
from metrics.mapping import available_presets
from metrics.params import Params, ParamsError, counted_modes
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


PATIENT_LEVEL = ("these files are patient-level (patient ids, clinician names): for the "
                 "analyst's own secure environment, not to be shared (`export` writes shareable "
                 "files)")


class UsageError(Exception):
    """A problem with what the user asked for (one line, shown as is)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option gives one line on stderr and exit 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def progress_bar(enabled: bool) -> Callable[[str, float], None] | None:
    """A tqdm progress callback taking (label, fraction), or None when quiet."""
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", leave=False, file=sys.stderr,
               bar_format="{desc:<40} {bar} {percentage:3.0f}%")

    def update(label: str, fraction: float) -> None:
        bar.set_description_str(label[:40])
        bar.n = round(100 * max(0.0, min(1.0, fraction)))
        bar.refresh()
        if fraction >= 1.0:
            bar.clear()

    return update


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
                       description="Write practice, PCN, sub-ICB, ICB, deprivation, age-band "
                                   "and monthly SLICC tables with disclosure control. "
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
    add_param_arguments(e)
    cli_gpad.add_parser(sub)
    return parser


def params_from(args: argparse.Namespace, backend: engine.Backend, modes_recorded: bool = True
                ) -> Params:
    options = {"min_contacts": args.min_contacts, "staff_group": args.staff,
               "modes": counted_modes(args.modes, modes_recorded),
               "collapse_same_day": args.collapse_same_day}
    if args.start and args.end:
        return Params(args.start, args.end, **options)  # type: ignore[arg-type]
    default = engine.default_params(backend, **options)
    return default.with_(window_start=args.start or default.window_start,
                         window_end=args.end or default.window_end)


# ---- commands -----------------------------------------------------------------------------


def read_files(args: argparse.Namespace, progress):  # -> IngestResult
    from metrics.ingest import ExtractFiles, PracticeInfo, read_extract

    practice = None
    if args.practice_code or args.practice_name:
        if not (args.practice_code and args.practice_name):
            raise UsageError("give both --practice-code and --practice-name")
        practice = PracticeInfo(args.practice_code, args.practice_name, args.pcn_code,
                                args.pcn_name)
    files = ExtractFiles(tuple(args.appointments), args.patients, args.practices, args.usual_gp)
    return read_extract(files, preset=args.preset, mapping_file=args.mapping, practice=practice,
                        progress=progress, national_ids=args.national_patient_ids)


def cmd_sample(args: argparse.Namespace, progress) -> int:
    from metrics.sample import generate_to_dir

    try:
        config = SampleConfig(seed=args.seed, practices=args.practices, pcns=args.pcns,
                              months=args.months, end=args.end, scale=args.scale)
    except ValueError as exc:  # SampleConfig says which setting is out of range
        raise UsageError(str(exc)) from None
    if args.gpad_months < 0:
        raise UsageError("--gpad-months must be 0 or more")
    paths = generate_to_dir(args.out, config, fmt=args.format, progress=progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    if args.gpad_months:
        from metrics.sample_gpad import write_extract_gpad

        for path in write_extract_gpad(args.out, args.gpad_months):
            print(f"gpad: {path}")
    return 0


def cmd_ingest(args: argparse.Namespace, progress) -> int:
    from metrics.build import rebuild, report_lines
    from metrics.changes import LoadNeedsConfirmation
    from metrics.store import summary_lines

    result = read_files(args, progress)
    for line in result.report.lines():
        print(line)
    if args.rejects is not None:
        args.rejects.parent.mkdir(parents=True, exist_ok=True)
        from metrics.export import csv_bytes

        args.rejects.write_bytes(csv_bytes(result.rejects))
        print(f"rejected rows written to {args.rejects}")
    if result.tables["appointments"].is_empty():
        rejected = result.report.counts["appointments"].rejected
        raise UsageError(f"no appointment could be loaded ({rejected:,} rejected: see the reasons "
                         "with --rejects FILE); the database is unchanged")

    try:
        report = rebuild(result, args.db, append=args.append, progress=progress,
                         confirmed=args.confirm_changes)
    except LoadNeedsConfirmation as exc:
        for line in exc.changes:
            print(f"would change: {line}", file=sys.stderr)
        raise UsageError(f"this load would change what the database holds for other practices "
                         f"({len(exc.changes)} changes listed above); nothing was changed: "
                         "check them, then rerun with --confirm-changes to apply them") from None
    for line in [*summary_lines(args.db), *report_lines(report)]:
        print(line)
    return 0


def cmd_undo(args: argparse.Namespace, progress) -> int:
    from metrics.previous import undo_last_load

    print(undo_last_load(args.db))
    return 0


def configure(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> None:
    if args.memory_limit:
        con.execute("SET memory_limit = ?", [args.memory_limit])
    if args.threads:
        con.execute("SET threads = ?", [args.threads])
    if args.temp_dir:
        con.execute("SET temp_directory = ?", [str(args.temp_dir)])


def write_outputs(outputs: dict[str, pl.DataFrame], params: Params, out: Path,
                  engine_name: str) -> None:
    """The compute contract's files; text cells pass the exports' formula guard, since ids
    and clinician names come from the extract as typed."""
    from metrics.export import neutralise_frame
    from metrics.ingest import export_id

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in outputs.items():
        if "patient_id" in frame.columns:  # with practice_code, the id the extract gave
            frame = frame.with_columns(export_id(pl.col("patient_id"), pl.col("practice_code")))
        if "month" in frame.columns:
            frame = frame.with_columns(pl.col("month").dt.strftime("%Y-%m"))
        neutralise_frame(frame).write_csv(out / f"{name}.csv", float_precision=None)
    (out / "definitions.json").write_text(json.dumps(
        {"parameters": params.as_dict(), "definitions": dict(params.describe()),
         "engine": engine_name,
         "notes": "proportions are unrounded decimals 0-1; blank where undefined; patient "
                  "indices are means over eligible patients (contacts >= minimum)"},
        indent=2) + "\n")


def cmd_compute(args: argparse.Namespace, progress) -> int:
    if (args.db is None) == (args.appointments is None):
        raise UsageError("give either --appointments (extract files) or --db (a database)")
    if args.engine == "spark":
        if args.db is not None:
            raise UsageError("the Spark engine reads extract files: use --appointments")
        from metrics.ingest import modes_recorded
        from metrics.spark import compute_files_spark

        tables = read_files(args, progress).tables
        recorded = modes_recorded(tables["appointments"])
        outputs, params = compute_files_spark(tables, lambda b: params_from(args, b, recorded),
                                              master=args.spark_master, progress=progress)
        write_outputs(outputs, params, args.out, "spark")
        print(f"written to {args.out}")
        print(f"note: {PATIENT_LEVEL}")
        return 0
    if args.db is not None:
        from metrics.store import connect_read_only, read_meta

        con = connect_read_only(args.db)
        recorded = read_meta(con).get("modes_recorded", "true") == "true"
    else:
        from metrics.ingest import modes_recorded

        result = read_files(args, progress)
        recorded = modes_recorded(result.tables["appointments"])
        con = duckdb.connect()
        engine.register_tables(engine.DuckDBBackend(con), result.tables)
    try:
        configure(con, args)
        backend = engine.DuckDBBackend(con)
        params = params_from(args, backend, recorded)
        engine.run_pipeline(backend, params, progress)
        write_outputs(engine.collect_outputs(backend), params, args.out, "duckdb")
    finally:
        con.close()
    print(f"written to {args.out}: {', '.join(engine.OUTPUTS)} (.csv) and definitions.json")
    print(f"note: {PATIENT_LEVEL}")
    return 0


def cmd_export(args: argparse.Namespace, progress) -> int:
    from metrics.disclosure import RULES
    from metrics.export import write_shared_exports
    from metrics.store import connect_read_only, read_meta

    con = connect_read_only(args.db)
    try:
        backend = engine.DuckDBBackend(con)
        recorded = read_meta(con).get("modes_recorded", "true") == "true"
        params = params_from(args, backend, recorded)
        paths = write_shared_exports(con, params, args.out, RULES[args.disclosure],
                                     include_gp_lists=args.include_gp_lists, progress=progress)
    finally:
        con.close()
    for path in paths:
        print(f"written: {path}")
    return 0


COMMANDS = {"sample": cmd_sample, "ingest": cmd_ingest, "compute": cmd_compute,
            "export": cmd_export, "ingest-gpad": cli_gpad.cmd_ingest_gpad, "undo": cmd_undo}


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is meant for the user."""
    errors: list[type[BaseException]] = [UsageError, ParamsError, engine.EngineError,
                                         OSError, duckdb.Error]
    for module, name in (("metrics.ingest", "IngestError"), ("metrics.store", "StoreError")):
        with contextlib.suppress(ImportError, AttributeError):
            errors.append(getattr(__import__(module, fromlist=[name]), name))
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad option (2, one line already printed)
        return done.code if isinstance(done.code, int) else 0
    progress = progress_bar(not args.quiet and sys.stderr.isatty())
    try:
        return COMMANDS[args.command](args, progress)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror.lower()}"  # not "[Errno 17] ..."
        if not isinstance(exc, user_errors()):
            message = f"unexpected failure ({type(exc).__name__}: {message}); rerun with --debug"
        print(f"error: {message}", file=sys.stderr)
        return 2 if isinstance(exc, user_errors()) else 1
