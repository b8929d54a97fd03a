"""The commands: sample, ingest, undo, compute, export (ingest-gpad: metrics/cli/gpad.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import polars as pl

from metrics.cli.base import PATIENT_LEVEL, UsageError, params_from
from metrics.params import Params
from metrics.pipeline import engine
from metrics.sample import SampleConfig


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
        from metrics.sample.gpad import write_extract_gpad

        for path in write_extract_gpad(args.out, args.gpad_months):
            print(f"gpad: {path}")
    return 0


def cmd_ingest(args: argparse.Namespace, progress) -> int:
    from metrics.pipeline.build import rebuild, report_lines
    from metrics.store import summary_lines
    from metrics.store.changes import LoadNeedsConfirmation

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
    from metrics.store.previous import undo_last_load

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
        from metrics.pipeline.spark import compute_files_spark

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
    """The Export page's tables for these filters (metrics.read.registry: one route to every
    shareable file), one CSV each, under one rule: `nhs` controls every row, the selected
    practice's too; `none` is exact throughout (the practice's own use)."""
    from metrics import pseudonym
    from metrics.access import Viewer
    from metrics.disclosure import RULES
    from metrics.read import registry
    from metrics.store import connect_read_only, read_meta

    con = connect_read_only(args.db)
    try:
        backend = engine.DuckDBBackend(con)
        recorded = read_meta(con).get("modes_recorded", "true") == "true"
        params = params_from(args, backend, recorded)
        salt = pseudonym.connection_salt(con)
    finally:
        con.close()
    bad = [o for o in args.option if "=" not in o]
    if bad:
        raise UsageError(f"--option takes KEY=VALUE, not {bad[0]!r}")
    query = dict(option.split("=", 1) for option in args.option)
    rule = RULES[args.disclosure]
    viewer = Viewer(name="metrics export", role="export", per_gp=args.include_gp_lists,
                    full_practices=None if rule.name == "none" else frozenset(),
                    shared_rule=rule)
    sel = registry.Selection(index=args.index, practice=args.practice, pcn=args.pcn)
    source = registry.open_results(args.db, params, progress)
    try:
        paths = registry.write_export(source, sel, viewer, args.out, query,
                                      include_internal=args.include_gp_lists, salt=salt)
    finally:
        source.con.close()
    for path in paths:
        print(f"written: {path}")
    return 0
