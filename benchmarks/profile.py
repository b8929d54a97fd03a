"""Profile the pipeline step by step with DuckDB's profiler and write benchmarks/PROFILE.md.

    python -m benchmarks.profile --scale 1M --top 5

Why: profile before optimising. Each step of engine.PIPELINE runs with DuckDB's
JSON profiling on (the data that EXPLAIN ANALYZE shows); the report lists every step's time and
spilled bytes, and the slowest steps' costliest operators with their row counts, which is where
a rewrite would pay.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from benchmarks.run import WINDOW, BenchmarkError, label, load_average, parse_rows, rows_per_scale
from metrics.params import Params
from metrics.pipeline import engine

DEFAULT_OUT = Path(__file__).resolve().parent / "PROFILE.md"


def operators(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operator of a profile tree, flattened."""
    out = [node]
    for child in node.get("children", []):
        out += operators(child)
    return out


def describe(op: dict[str, Any]) -> str:
    info = op.get("extra_info", {})
    keys = ("Join Type", "Conditions", "Groups", "Partition", "Order By", "Table", "Function")
    parts = [f"{k}: {info[k]}" for k in keys if info.get(k)]
    text = "; ".join(str(p) for p in parts)
    return (text[:160] + "...") if len(text) > 160 else text


def profile(data_dir: Path, params: Params, work: Path) -> list[dict[str, Any]]:
    """Run every step with profiling; per step its time, spill and costliest operators."""
    con = duckdb.connect()
    con.execute("SET temp_directory = ?", [str(work / "spill")])
    for table in ("appointments", "patients", "practices"):
        con.read_parquet(str(data_dir / f"{table}.parquet")).create_view(table)
    backend = engine.DuckDBBackend(con)
    frames = engine.parameter_frames(params)
    for name, frame in frames.items():
        backend.register(name, frame)
    months = frames["months"]
    con.execute("SET enable_profiling = 'json'")
    steps = []
    for step in engine.PIPELINE:
        out = work / f"{step}.json"
        con.execute("SET profiling_output = ?", [str(out)])
        started = time.perf_counter()
        engine.materialise_step(backend, step, months)
        seconds = time.perf_counter() - started
        per_month = step in engine.PER_MONTH_STEPS
        if per_month:  # its last query again: what was profiled last is the months table
            last = backend.month_batches(months, engine.PER_MONTH_STEPS[step])[-1]
            backend.register("months", last)  # put back after the last query
            con.execute(f"SELECT count(*) FROM ({engine.query_text(step)})").fetchall()
        tree = json.loads(out.read_text())
        if per_month:
            backend.register("months", months)
        ops = [op for root in tree.get("operator", []) for op in operators(root)]
        ops.sort(key=lambda op: -op.get("timing", 0.0))
        system = tree.get("system", {})
        steps.append({"step": step, "seconds": seconds,
                      "rows": con.execute(f"SELECT count(*) FROM {step}").fetchone()[0],
                      "spilled_mb": system.get("total_bytes_spilled", 0) / 2**20,
                      "peak_buffer_mb": system.get("peak_buffer_memory", 0) / 2**20,
                      "operators": [(op.get("name"), op.get("timing", 0.0),
                                     op.get("intermediate_rows", 0), describe(op))
                                    for op in ops[:4]]})
    con.close()
    return steps


def report(steps: list[dict[str, Any]], rows: int, top: int, command: str) -> str:
    total = sum(s["seconds"] for s in steps)
    lines = ["# Pipeline profile", "",
             f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
             f"{rows:,} appointments (metrics.sample), window {WINDOW['window_start']} to "
             f"{WINDOW['window_end']}; load average {load_average()} (shared machine).",
             "DuckDB JSON profiling (what EXPLAIN ANALYZE prints) of each step of "
             "engine.PIPELINE, in an in-memory database reading the Parquet files. Steps in "
             "engine.PER_MONTH_STEPS run a few months per query (engine.month_batches): their time "
             "is every query's, their operators and buffer figures the last query's.", "",
             "| step | time (s) | share | rows out | peak buffer (MB) | spilled (MB) |",
             "|---|---:|---:|---:|---:|---:|"]
    for s in steps:
        lines.append(f"| {s['step']} | {s['seconds']:.2f} | {s['seconds'] / total:.0%} | "
                     f"{s['rows']:,} | {s['peak_buffer_mb']:,.0f} | {s['spilled_mb']:,.0f} |")
    lines += ["", f"Total {total:.1f} s.", "", f"## The {top} slowest steps: costliest operators",
              ""]
    for s in sorted(steps, key=lambda s: -s["seconds"])[:top]:
        lines += [f"### {s['step']} ({s['seconds']:.2f} s)", "",
                  "| operator | time (s) | rows | detail |", "|---|---:|---:|---|"]
        for name, timing, n, detail in s["operators"]:
            lines.append(f"| {name} | {timing:.2f} | {n:,} | {detail.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="1M", help="appointments (default 1M)")
    p.add_argument("--top", type=int, default=5, help="slowest steps to detail")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    try:
        rows = parse_rows(args.scale)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from metrics.sample import SampleConfig, generate_to_dir

    work = Path(tempfile.mkdtemp(prefix="continuity-profile-", dir="/tmp"))
    try:
        data = work / "data"
        generate_to_dir(data, SampleConfig(scale=rows / rows_per_scale()), fmt="parquet")
        n = pl.scan_parquet(data / "appointments.parquet").select(pl.len()).collect().item()
        steps = profile(data, Params(*(datetime.fromisoformat(WINDOW[k]).date()
                                       for k in ("window_start", "window_end"))), work)
        command = "python -m benchmarks.profile " + " ".join(
            sys.argv[1:] if argv is None else argv)
        args.out.write_text(report(steps, n, args.top, command) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"written: {args.out} ({label(rows)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
