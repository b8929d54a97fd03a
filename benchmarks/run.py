"""Benchmark the continuity pipeline at ICB and national scale and write benchmarks/RESULTS.md.

    python -m benchmarks.run --scales 1M,10M,30M,100M --pandas-scales 1M,10M \
        --spark-scales 1M,10M --out benchmarks/RESULTS.md

Generates the synthetic ICB (metrics.sample) at each scale as Parquet under a temporary
directory, then runs every step in its own process (benchmarks/steps.py) so that wall time and
peak memory belong to that step: compute (the full pipeline into a DuckDB file, under
--memory-limit with a spill directory), the floor (a bare GROUP BY) and one bare ordered window
beside it, the check of a slice of patients against metrics/reference.py, ingest of a CSV
extract (metrics.ingest + store), the dashboard's page queries, the incremental refresh against
a full rebuild, the pandas baseline and the Spark engine. RESULTS.md is rewritten after every
step, so an interrupted run still leaves its measurements. Targets (TARGET_* below) are
reported, never asserted.

--repeat N runs compute, both floors and the pandas baseline N times each (fresh processes, a
fresh database) and reports the run of median wall time: on this shared 2-core machine one
run's time can be off by a tenth at 10M and by a third at 1M, and the targets' ratios divide
two such times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.checks import draw_slice

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
END = date(2026, 10, 31)  # the sample generator's last day (SampleConfig.end)
WINDOW = {"window_start": "2024-11-01", "window_end": "2026-10-31"}  # 24 months to END
REFRESH_BASE = {"window_start": "2024-10-01", "window_end": "2026-09-30"}
REFRESH_MONTH = "2026-10-01"
SLICE_PATIENTS = 200
PER_ROW_EXEMPT = ("check", "dashboard", "refresh_check")  # rows/s would mean nothing
# the steps the ratios divide (--repeat)
REPEATED = ("compute", "floor", "ordered_floor", "pandas")
POLL_SECONDS = 0.05

# performance targets (this 2-core, 24 GB machine); reported, never asserted
TARGET_COMPUTE_10M = (15.0, 2048.0)  # seconds, MB
TARGET_100M = (180.0, 4096.0)
TARGET_INGEST_10M = 30.0
TARGET_PAGE_MS = 300.0
TARGET_PANDAS_RATIO = 30.0
TARGET_FLOOR_RATIO = 3.0


class BenchmarkError(Exception):
    """A problem with the command line (one line, exit 2)."""


def parse_rows(text: str) -> int:
    """'20k', '1M', '1.5M', '2500' -> a number of appointments."""
    value = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000}.get(value[-1:], 1)
    number = value[:-1] if factor > 1 else value
    try:
        rows = int(float(number) * factor)
    except ValueError:
        raise BenchmarkError(f"{text!r} is not a number of appointments like 20k or 10M"
                             ) from None
    if rows < 1000:
        raise BenchmarkError(f"{text!r}: use at least 1k appointments")
    return rows


def rows_list(text: str | None) -> list[int]:
    return [parse_rows(t) for t in text.split(",") if t.strip()] if text else []


def label(rows: int) -> str:
    if rows >= 1_000_000:
        return f"{rows / 1_000_000:g}M"
    return f"{rows / 1_000:g}k"


# ---- measuring a child process --------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def tree_rss_mb(pid: int, cpu: dict[int, float] | None = None) -> float:
    """Resident memory of a process and all its descendants (a JVM under Python, say); if
    `cpu` is given, each one's CPU seconds so far are recorded in it by pid."""
    total, todo, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            if cpu is not None:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu[p] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(p)
    return total / 2**20


@dataclass
class Measured:
    step: str
    scale: str
    engine: str
    rows: int = 0
    seconds: float | None = None  # the step's own timed work
    process_seconds: float = 0.0  # the whole child process, start-up included
    peak_mb: float = 0.0
    cpu_seconds: float = 0.0  # user + system of the process and its reaped children
    details: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def rows_per_second(self) -> float | None:
        """Appointments processed per second (not for steps that do not process them all)."""
        if not self.seconds or not self.rows or self.step in PER_ROW_EXEMPT:
            return None
        return self.rows / self.seconds


def median_run(runs: list[Measured]) -> Measured:
    """Several runs of one step as one measurement: the run of median wall time (the lower of
    the middle two for an even count), with each pipeline step's median time over the runs, the
    largest peak memory (the memory targets are ceilings), and every run's time in its notes."""
    ordered = sorted(runs, key=lambda m: m.seconds or 0.0)
    middle = ordered[(len(ordered) - 1) // 2]
    steps = [m.extra.get("steps") for m in runs]
    extra = dict(middle.extra)
    if all(steps):
        extra["steps"] = {name: statistics.median(s[name] for s in steps) for name in steps[0]}
    times = " / ".join(f"{m.seconds:.2f}" for m in ordered)
    return Measured(**{**asdict(middle), "peak_mb": max(m.peak_mb for m in runs),
                       "extra": extra,
                       "details": {**middle.details, "median of runs (s)": times}})


def run_child(step: str, spec: dict[str, Any], work: Path, timeout: float) -> dict[str, Any]:
    """Run one step in a fresh process; its result plus wall time and peak memory."""
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stem = f"{len(list(logs.glob('*.json')))}-{step}"
    spec_path, out_path = logs / f"{stem}.spec.json", logs / f"{stem}.json"
    spec_path.write_text(json.dumps({"step": step, **spec}, default=str))
    with open(logs / f"{stem}.log", "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.steps", str(spec_path),
                                 str(out_path)], cwd=REPO, stdout=log, stderr=log,
                                start_new_session=True)
        peak, status, usage = 0.0, None, None
        tree_cpu: dict[int, float] = {}
        while status is None:
            peak = max(peak, tree_rss_mb(proc.pid, tree_cpu))
            pid, code, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, usage = code, rusage
            elif time.perf_counter() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                status = -1
            else:
                time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
        proc.returncode = 0  # reaped above
    peak = max(peak, usage.ru_maxrss / 1024 if usage else 0.0)
    # the child's own CPU (its threads and any children it waited for) plus, as last polled,
    # descendants it never waits for (Spark's JVM)
    own = usage.ru_utime + usage.ru_stime if usage else tree_cpu.get(proc.pid, 0.0)
    cpu = own + sum(v for p, v in tree_cpu.items() if p != proc.pid)
    measured = {"process_seconds": elapsed, "peak_mb": peak, "cpu_seconds": cpu}
    if status == -1:
        return {"error": f"stopped after {timeout:.0f} s (time limit)", **measured}
    if status != 0 or not out_path.exists():
        tail = (logs / f"{stem}.log").read_text(errors="replace").strip().splitlines()
        return {"error": (tail[-1] if tail else f"exit status {status}")[:300], **measured}
    return {**json.loads(out_path.read_text()), **measured}


# ---- the machine ----------------------------------------------------------------------------


def _first(path: str, key: str) -> str | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        return None
    return None


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def machine() -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    os_name = _first("/etc/os-release", "PRETTY_NAME=")
    java = shutil.which("java")
    java_version = "not found"
    if java:
        out = subprocess.run([java, "-version"], capture_output=True, text=True)
        java_version = (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) \
            else "unknown"
    return {
        "CPU": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores (logical)": str(os.cpu_count()),
        "RAM": f"{int(mem_kb.split()[0]) / 2**20:.1f} GiB" if mem_kb else "unknown",
        "OS": f"{(os_name or platform.system()).strip().strip(chr(34))} "
              f"({platform.release()})",
        "Python": platform.python_version(),
        "duckdb": _version("duckdb"), "polars": _version("polars"),
        "pandas": _version("pandas"), "pyspark": _version("pyspark"), "Java": java_version,
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# ---- the run --------------------------------------------------------------------------------


@dataclass
class Plan:
    scales: list[int]
    pandas_scales: list[int]
    spark_scales: list[int]
    ingest_rows: int | None
    refresh_rows: int | None
    memory_limit: str
    timeout: float
    out: Path
    work: Path
    command: str
    merge: list[Path] = field(default_factory=list)
    repeat: int = 1


def rows_per_scale() -> float:
    """Appointments per unit of SampleConfig.scale (the generator's list sizes are fixed)."""
    from metrics.sample import SampleConfig, generate

    probe = 0.005
    return generate(SampleConfig(scale=probe))["appointments"].height / probe


class Runner:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.results: list[Measured] = []
        self.started = datetime.now(UTC)
        self.load_start = load_average()
        self.machine = machine()
        self.per_scale = rows_per_scale()
        self.data: dict[int, Path] = {}
        self.loads: list[str] = []  # load averages of merged runs
        for path in plan.merge:
            saved = json.loads(path.read_text())
            self.results += [Measured(**m) for m in saved["results"]]
            self.loads.append(f"{saved['command']}: {saved['load_start']} at the start, "
                              f"{saved['load_end']} at the end")

    # steps
    def measure(self, step: str, rows: int, engine: str, spec: dict[str, Any],
                reset: Callable[[], None] | None = None) -> Measured:
        """The step, run once (or --repeat times for REPEATED steps, `reset` before each run:
        median_run), added to the report."""
        runs: list[Measured] = []
        for _ in range(self.plan.repeat if step in REPEATED else 1):
            if reset:
                reset()
            runs.append(self.run_once(step, rows, engine, spec))
            if runs[-1].error:
                break
        m = runs[-1] if runs[-1].error or len(runs) == 1 else median_run(runs)
        self.results.append(m)
        write_results(self)
        return m

    def run_once(self, step: str, rows: int, engine: str, spec: dict[str, Any]) -> Measured:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {step} {label(rows)} ({engine})", flush=True)
        result = run_child(step, spec, self.plan.work, self.plan.timeout)
        m = Measured(step, label(rows), engine, rows=result.get("rows", 0),
                     seconds=result.get("seconds"), process_seconds=result["process_seconds"],
                     peak_mb=result["peak_mb"], cpu_seconds=result["cpu_seconds"],
                     details={**({"memory limit": spec["memory_limit"]}
                                 if spec.get("memory_limit") else {}),
                              **result.get("details", {})},
                     extra={k: result[k] for k in ("steps", "pages", "problems") if k in result},
                     error=result.get("error"))
        if m.error:
            print(f"    failed: {m.error}", flush=True)
        else:
            print(f"    {m.seconds:.2f} s (process CPU {m.cpu_seconds:.1f} s), peak "
                  f"{m.peak_mb:.0f} MB", flush=True)
        return m

    def dataset(self, rows: int) -> Path:
        if rows not in self.data:
            path = self.plan.work / "data" / label(rows)
            scale = rows / self.per_scale
            self.measure("generate", rows, "metrics.sample",
                         {"dir": str(path), "scale": scale})
            self.data[rows] = path
        return self.data[rows]

    def duckdb_spec(self, rows: int) -> dict[str, Any]:
        return {"memory_limit": self.plan.memory_limit,
                "temp_dir": str(self.plan.work / "spill" / label(rows)), **WINDOW}

    def run(self) -> None:
        """Every step, smallest scale first, so a long large-scale step comes last."""
        plan = self.plan
        jobs: list[tuple[int, int, str]] = [(rows, 0, "compute") for rows in plan.scales]
        if plan.ingest_rows:
            jobs.append((plan.ingest_rows, 1, "ingest"))
        if plan.refresh_rows:
            jobs.append((plan.refresh_rows, 2, "refresh"))
        jobs += [(rows, 3, "pandas") for rows in plan.pandas_scales]
        jobs += [(rows, 4, "spark") for rows in plan.spark_scales]
        for rows, _, job in sorted(jobs):
            {"compute": self.run_compute, "ingest": self.run_ingest,
             "refresh": self.run_refresh, "pandas": self.run_pandas,
             "spark": self.run_spark}[job](rows)

    def run_compute(self, rows: int) -> None:
        work = self.plan.work
        data = self.dataset(rows)
        slice_ids = work / "slices" / f"{label(rows)}.parquet"
        draw_slice(data / "patients.parquet", slice_ids, SLICE_PATIENTS)
        out = work / "out" / label(rows)
        compute = self.measure("compute", rows, "duckdb", {
            "dir": str(data), "db": str(out / "compute.duckdb"), "slice": str(slice_ids),
            "slice_out": str(out / "slice"), **self.duckdb_spec(rows)},
            reset=lambda: (out / "compute.duckdb").unlink(missing_ok=True))
        self.measure("floor", rows, "duckdb", {"dir": str(data), **self.duckdb_spec(rows)})
        self.measure("ordered_floor", rows, "duckdb",
                     {"dir": str(data), **self.duckdb_spec(rows)})
        if not compute.error:  # nothing to check otherwise
            self.measure("check", rows, "reference", {
                "dir": str(data), "slice": str(slice_ids), "slice_out": str(out / "slice"),
                **WINDOW})
        (out / "compute.duckdb").unlink(missing_ok=True)
        shutil.rmtree(work / "spill" / label(rows), ignore_errors=True)

    def run_ingest(self, rows: int) -> None:
        work = self.plan.work
        data = self.dataset(rows)
        csv_dir = work / "csv" / label(rows)
        self.measure("to_csv", rows, "polars", {"dir": str(data), "csv_dir": str(csv_dir)})
        db = work / "store" / f"{label(rows)}.duckdb"
        self.measure("ingest", rows, "metrics.ingest", {"csv_dir": str(csv_dir), "db": str(db)})
        shutil.rmtree(csv_dir, ignore_errors=True)
        if db.exists() and self.plan.refresh_rows != rows:  # else the refreshed store serves
            self.measure("store_compute", rows, "duckdb", {"db": str(db), **WINDOW})
            self.measure("dashboard", rows, "duckdb", {"db": str(db)})
        db.unlink(missing_ok=True)

    def run_pandas(self, rows: int) -> None:
        self.measure("pandas", rows, "pandas", {"dir": str(self.dataset(rows)), **WINDOW})

    def run_spark(self, rows: int) -> None:
        self.measure("spark", rows, "spark", {"dir": str(self.dataset(rows)), **WINDOW})

    def run_refresh(self, rows: int) -> None:
        data = self.dataset(rows)
        base = self.plan.work / "refresh" / "refreshed.duckdb"
        full = self.plan.work / "refresh" / "full.duckdb"
        before = self.plan.work / "refresh" / "appended.duckdb"
        base.parent.mkdir(parents=True, exist_ok=True)
        setup = self.measure("refresh_setup", rows, "duckdb", {
            "dir": str(data), "db": str(base), "copy": str(full), "before": str(before),
            "new_month_start": REFRESH_MONTH, **REFRESH_BASE})
        if setup.error:
            return
        self.measure("refresh", rows, "duckdb", {"db": str(base)})
        self.measure("monthly_append", rows, "duckdb", {
            "dir": str(data), "db": str(before), "new_month_start": REFRESH_MONTH})
        before.unlink(missing_ok=True)
        self.measure("full_rebuild", rows, "duckdb", {"db": str(full), **WINDOW})
        self.measure("refresh_check", rows, "duckdb", {"db": str(base), "other": str(full)})
        if self.plan.ingest_rows in (None, rows):  # a complete store with default results
            self.measure("dashboard", rows, "duckdb", {"db": str(base)})
        full.unlink(missing_ok=True)


# ---- the report -----------------------------------------------------------------------------

STEP_TITLES = {
    "generate": "generate the sample (Parquet)",
    "compute": "compute: every index, SLICC monthly, every roll-up (Parquet -> DuckDB file)",
    "floor": "floor: bare GROUP BY patient_id, clinician_id count",
    "ordered_floor": "one bare ordered window: each patient's appointments in time order",
    "check": "check a slice of patients against metrics/reference.py",
    "to_csv": "write the CSV extract (input of ingest)",
    "ingest": "ingest a CSV extract (metrics.ingest + metrics.store)",
    "store_compute": "compute on the ingested store (default results and refresh state kept)",
    "dashboard": "dashboard page queries (all pages, cold + warm)",
    "refresh_setup": "full build with refresh state, month before (setup)",
    "refresh": "incremental refresh: one more month",
    "monthly_append": "ingest --append of that month (store write + incremental refresh)",
    "full_rebuild": "full rebuild of the same window (with refresh state)",
    "refresh_check": "refreshed store = full rebuild, table by table",
    "pandas": "pandas baseline (groupby + per-patient apply)",
    "spark": "Spark engine, local[2] (same SQL via sqlglot)",
}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _find(results: list[Measured], step: str, scale: str | None = None) -> Measured | None:
    for m in results:
        if m.step == step and (scale is None or m.scale == scale) and not m.error:
            return m
    return None


def _details(m: Measured) -> str:
    parts = [f"{k} {v}" for k, v in m.details.items()]
    if m.step == "compute" and m.extra.get("steps"):
        slowest = sorted(m.extra["steps"].items(), key=lambda kv: -kv[1])[:3]
        parts.append("slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    if m.extra.get("problems"):
        parts.append("problems: " + "; ".join(m.extra["problems"][:3]))
    if m.error:
        parts.append(f"**failed**: {m.error}")
    return "; ".join(parts)


def results_table(results: list[Measured]) -> list[str]:
    lines = ["| step | engine | appointments | rows | wall time (s) | process (s) | "
             "process CPU (s) | peak memory (MB) | rows/s | notes |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for m in results:
        lines.append(
            f"| {STEP_TITLES.get(m.step, m.step)} | {m.engine} | {m.scale} | {m.rows:,} | "
            f"{_fmt(m.seconds)} | {_fmt(m.process_seconds, 1)} | {_fmt(m.cpu_seconds, 1)} | "
            f"{m.peak_mb:,.0f} | {_fmt(m.rows_per_second, 0)} | {_details(m)} |")
    return lines


# The engine steps that compute what the pandas baseline computes (patient indices, practice
# means, practice and monthly SLICC), for a like-for-like ratio; monthly SLICC comes with every
# group's OPR and roll-up, which pandas does not compute, so the ratio errs against the engine.
LIKE_FOR_LIKE = ("patient_practice", "clinician_keys", "list_keys", "patient_keys", "contacts",
                 "patient_clinician_monthly", "patient_clinician_counts", "patient_contacts",
                 "upc", "coc", "secon", "mmci", "hhi", "kpc", "usual_provider",
                 "patient_indices", "practice_groups", "patient_cells", "cell_groups",
                 "list_holder_opr", "group_keys", "group_named_gp_monthly")


def like_for_like_seconds(compute: Measured) -> float | None:
    """Seconds the compute run spent in the LIKE_FOR_LIKE steps (None if not recorded)."""
    steps = compute.extra.get("steps") or {}
    if not all(s in steps for s in LIKE_FOR_LIKE):
        return None
    return sum(steps[s] for s in LIKE_FOR_LIKE)


def _paired(results: list[Measured], step: str, other: str
            ) -> list[tuple[str, Measured, Measured]]:
    """(scale, step's measurement, other's) at every scale where both were measured."""
    pairs = []
    for scale in sorted({m.scale for m in results if m.step == step}, key=parse_rows):
        a, b = _find(results, step, scale), _find(results, other, scale)
        if a and b:
            pairs.append((scale, a, b))
    return pairs


def ratio_lines(results: list[Measured]) -> list[str]:
    lines = []
    for scale, p, c in _paired(results, "pandas", "compute"):
        same = like_for_like_seconds(c)
        lines.append(f"- pandas / DuckDB at {scale}: **{p.seconds / c.seconds:.1f}x** "
                     f"(pandas {p.seconds:.1f} s for the patient indices and practice "
                     f"SLICC only; DuckDB {c.seconds:.1f} s for the whole pipeline; goal "
                     f">= {TARGET_PANDAS_RATIO:g}x)"
                     + (f"; like for like (the engine's steps for the same outputs, "
                        f"{same:.1f} s): **{p.seconds / same:.1f}x**" if same else ""))
    for scale, c, f in _paired(results, "compute", "floor"):
        lines.append(f"- compute / floor at {scale}: **{c.seconds / f.seconds:.1f}** "
                     f"({c.seconds:.1f} s / {f.seconds:.2f} s; goal <= "
                     f"{TARGET_FLOOR_RATIO:g})")
    for scale, o, f in _paired(results, "ordered_floor", "floor"):
        lines.append(f"- one ordered window / floor at {scale}: **{o.seconds / f.seconds:.1f}** "
                     f"({o.seconds:.2f} s / {f.seconds:.2f} s: what one order of each patient's "
                     "contacts costs, as SECON and the same-day collapse each need one, beside "
                     "the floor's hash count)")
    for scale, s, c in _paired(results, "spark", "compute"):
        lines.append(f"- Spark / DuckDB at {scale}: {s.seconds / c.seconds:.1f}x "
                     f"(Spark {s.seconds:.1f} s after session start, DuckDB "
                     f"{c.seconds:.1f} s)")
    for scale, r, full in _paired(results, "refresh", "full_rebuild"):
        lines.append(f"- incremental refresh / full rebuild at {scale}: "
                     f"**{r.seconds / full.seconds:.2f}** ({r.seconds:.1f} s vs "
                     f"{full.seconds:.1f} s, both including the store copy and swap)")
    for scale, a, full in _paired(results, "monthly_append", "full_rebuild"):
        lines.append(f"- `ingest --append` of one month / full rebuild at {scale}: "
                     f"**{a.seconds / full.seconds:.2f}** ({a.seconds:.1f} s to write the "
                     f"month into the store and bring the results forward vs "
                     f"{full.seconds:.1f} s to compute them in full)")
    return lines


def target_lines(results: list[Measured]) -> list[str]:
    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    rows = ["| target | measured | verdict |", "|---|---|---|"]
    c10 = _find(results, "compute", "10M")
    rows.append(f"| compute 10M <= {TARGET_COMPUTE_10M[0]:g} s and <= 2 GB | "
                + (f"{c10.seconds:.1f} s, {c10.peak_mb:,.0f} MB | " if c10 else " | ")
                + verdict(c10 and c10.seconds <= TARGET_COMPUTE_10M[0]
                          and c10.peak_mb <= TARGET_COMPUTE_10M[1]) + " |")
    c100 = _find(results, "compute", "100M")
    failed100 = next((m for m in results if m.step == "compute" and m.scale == "100M"), None)
    if c100:
        rows.append(f"| 100M out of core, 4 GB limit, <= 3 min | {c100.seconds:.1f} s, "
                    f"{c100.peak_mb:,.0f} MB | "
                    + verdict(c100.seconds <= TARGET_100M[0] and c100.peak_mb <= TARGET_100M[1])
                    + " |")
    else:
        rows.append("| 100M out of core, 4 GB limit, <= 3 min | "
                    + (f"failed: {failed100.error} | **not met** |" if failed100
                       else " | not measured |"))
    ing = _find(results, "ingest")
    rows.append(f"| ingest 10M-row CSV <= {TARGET_INGEST_10M:g} s | "
                + (f"{ing.seconds:.1f} s ({ing.scale}) | " if ing else " | ")
                + verdict(ing and ing.scale == "10M" and ing.seconds <= TARGET_INGEST_10M) + " |")
    dash = _dashboard(results)
    if dash:
        worst = max((p.get("cold_ms", math.inf) for p in dash.extra.get("pages", {}).values()),
                    default=None)
        rows.append(f"| each page's queries <= {TARGET_PAGE_MS:g} ms ({dash.scale}) | slowest "
                    f"page cold {_fmt(worst, 0)} ms | "
                    + verdict(dash.scale == "10M" and worst is not None
                              and worst <= TARGET_PAGE_MS) + " |")
    for scale, p, c in _paired(results, "pandas", "compute"):
        if scale in ("1M", "10M"):  # the scales this target is set at
            ratio = p.seconds / c.seconds
            rows.append(f"| pandas / DuckDB >= {TARGET_PANDAS_RATIO:g}x at {scale} | "
                        f"{ratio:.1f}x | {verdict(ratio >= TARGET_PANDAS_RATIO)} |")
    for scale, c, f in _paired(results, "compute", "floor"):
        ratio = c.seconds / f.seconds
        rows.append(f"| compute / floor <= {TARGET_FLOOR_RATIO:g} at {scale} | "
                    f"{ratio:.1f} | {verdict(ratio <= TARGET_FLOOR_RATIO)} |")
    return rows


def growth_paragraph(results: list[Measured], memory_limit: str) -> list[str]:
    """How time and memory grow with the rows; `memory_limit` is the run's own, for
    measurements (from older runs) whose notes name none."""
    computes = sorted((m for m in results if m.step == "compute" and not m.error),
                      key=lambda m: m.rows)
    if len(computes) < 2:
        return ["(needs compute at two or more scales)"]
    first, last = computes[0], computes[-1]
    factor = last.rows / first.rows
    t_factor = last.seconds / first.seconds
    m_factor = last.peak_mb / first.peak_mb
    exponent = math.log(t_factor) / math.log(factor)
    steps = ", ".join(f"{m.scale}: {m.seconds:.1f} s / {m.peak_mb:,.0f} MB" for m in computes)
    cpu_factor = last.cpu_seconds / first.cpu_seconds if first.cpu_seconds else None
    text = (f"From {first.scale} to {last.scale} appointments ({factor:.0f}x the rows) compute "
            f"wall time grew {t_factor:.1f}x (time ~ rows^{exponent:.2f}; 1.00 would be "
            f"linear)"
            + (f", process CPU time {cpu_factor:.1f}x" if cpu_factor else "")
            + f", and peak memory {m_factor:.1f}x ({steps}). ")
    capped = [m for m in computes
              if m.peak_mb > 0.8 * limit_mb(m.details.get("memory limit", memory_limit))]
    if capped:
        text += (f"From {capped[0].scale} on, peak memory sits near the DuckDB memory limit "
                 "and the rest spills to the temporary directory, so memory stops growing with "
                 "the data while time keeps growing. ")
    return [text]


def limit_mb(text: str) -> float:
    """A DuckDB memory limit ('4GB', '512MB', '4GiB') in MB."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 ** 2}.get(value[-1:], 1 / 2**20)
    return float(value.rstrip("KMGT") or 0) * factor


def step_profile(results: list[Measured]) -> list[str]:
    computes = [m for m in results if m.step in ("compute", "store_compute") and not m.error
                and m.extra.get("steps")]
    if not computes:
        return []
    names = list(computes[-1].extra["steps"])
    header = "| pipeline step | " + " | ".join(f"{m.step} {m.scale} (s)" for m in computes) + " |"
    lines = [header, "|---|" + "---:|" * len(computes)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(
            _fmt(m.extra["steps"].get(name)) for m in computes) + " |")
    return lines


def _dashboard(results: list[Measured]) -> Measured | None:
    """The page timings the report shows: the target is at 10M, so a smaller store's (a refresh
    run's) only without those."""
    return _find(results, "dashboard", "10M") or _find(results, "dashboard")


def dashboard_lines(results: list[Measured]) -> list[str]:
    dash = _dashboard(results)
    if not dash:
        return ["(not measured)"]
    lines = [f"| page ({dash.scale} store) | cold (ms) | warm (ms) |", "|---|---:|---:|"]
    for page, t in dash.extra.get("pages", {}).items():
        if "error" in t:
            lines.append(f"| {page} | failed: {t['error']} | |")
        else:
            lines.append(f"| {page} | {t['cold_ms']:.0f} | {t['warm_ms']:.0f} |")
    return lines


def latest(results: list[Measured]) -> list[Measured]:
    """One measurement per step, scale and engine: a later one (a step measured again, or a
    later --merge file) replaces an earlier one, keeping the earlier one's place."""
    keep: dict[tuple[str, str, str], Measured] = {}
    for m in results:
        keep[(m.step, m.scale, m.engine)] = m
    seen, out = set(), []
    for m in results:
        key = (m.step, m.scale, m.engine)
        if key not in seen:
            seen.add(key)
            out.append(keep[key])
    return out


def write_results(runner: Runner) -> None:
    plan, results = runner.plan, latest(runner.results)
    info = runner.machine
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{plan.command}` (benchmarks/run.py), started "
        f"{runner.started:%Y-%m-%d %H:%M} UTC, last updated {datetime.now(UTC):%H:%M} UTC.",
        "Each step ran in a fresh process: *wall time* is the step's own work, *process* adds "
        "Python start-up and imports, *process CPU* is the user + system time the process (and "
        "the children it waited for) used: on a loaded machine it is the steadier figure, and "
        "on 2 cores a step's wall time cannot fall below half of it. *Peak memory* is the "
        "largest resident size of the process and its children (ru_maxrss and /proc polling "
        "every 50 ms). DuckDB steps ran under the memory limit their notes give (DuckDB's "
        f"`memory_limit`; this run's: {plan.memory_limit}) with a spill directory. Data: the "
        "synthetic ICB (metrics.sample, 40 practices, 27 months to October 2026) at each "
        "scale, as Parquet; window: the 24 months November 2024 to October 2026.",
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        f"- load average (1 / 5 / 15 min) when this run started: {runner.load_start}; when this "
        f"report was written: {load_average()} (other work shares this machine: figures are "
        "upper bounds)",
        "",
        "## Results",
        "",
        *results_table(results),
        "",
        "## Ratios",
        "",
        *(ratio_lines(results) or ["(not measured yet)"]),
        "",
        "## Targets",
        "",
        *target_lines(results),
        "",
        "## Growth from 1M to 100M",
        "",
        *growth_paragraph(results, plan.memory_limit),
        "",
        "## Where compute time goes (seconds per pipeline step)",
        "",
        *(step_profile(results) or ["(not measured yet)"]),
        "",
        "## Dashboard page queries",
        "",
        "Cold: a fresh read-only connection and the page's first call to metrics.read "
        "(modules already imported, as in a running server); "
        "warm: the same calls again on that connection (the dashboard's st.cache_data then "
        "serves repeats without querying at all).",
        "",
        *dashboard_lines(results),
        "",
    ]
    plan.out.parent.mkdir(parents=True, exist_ok=True)
    if runner.loads:
        i = lines.index("## Results") - 1
        lines[i:i] = [f"- load average in a merged run ({text})" for text in runner.loads]
    plan.out.with_suffix(".json").write_text(json.dumps(
        {"command": plan.command, "load_start": runner.load_start, "load_end": load_average(),
         "results": [asdict(m) for m in results]}, default=str))
    notes = plan.out.with_suffix(".notes.md")
    if notes.exists():
        lines += ["## Notes", "", notes.read_text().strip(), ""]
    plan.out.parent.mkdir(parents=True, exist_ok=True)
    plan.out.write_text("\n".join(lines))


# ---- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", default="1M,10M,30M,100M",
                   help="appointments for compute, floor and the reference check")
    p.add_argument("--pandas-scales", default="", help="appointments for the pandas baseline")
    p.add_argument("--spark-scales", default="", help="appointments for the Spark engine")
    p.add_argument("--ingest-scale", default="10M",
                   help="CSV rows for ingest and the dashboard step ('' to skip)")
    p.add_argument("--refresh-scale", default="10M",
                   help="appointments for the refresh benchmark ('' to skip)")
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit (default 4GB)")
    p.add_argument("--step-timeout", type=float, default=1800.0,
                   help="seconds before a step is stopped and reported as not finished")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown file to write")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="where data and databases go (default: a new folder under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the generated data afterwards")
    p.add_argument("--merge", type=Path, action="append", default=[], metavar="JSON",
                   help="include the measurements of another run (its RESULTS.json), e.g. "
                        "one run in parallel; repeatable; a step measured again at the same "
                        "scale replaces the earlier measurement")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run compute, both floors and the pandas baseline N times each and report "
                        "the run of median wall time (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scales = {"scales": rows_list(args.scales), "pandas_scales": rows_list(args.pandas_scales),
                  "spark_scales": rows_list(args.spark_scales),
                  "ingest_rows": parse_rows(args.ingest_scale) if args.ingest_scale else None,
                  "refresh_rows": parse_rows(args.refresh_scale) if args.refresh_scale else None}
        if args.repeat < 1:
            raise BenchmarkError(f"--repeat {args.repeat}: a step runs at least once")
        missing = [str(p) for p in args.merge if not p.is_file()]
        if missing:
            raise BenchmarkError(f"no results file {missing[0]} to merge")
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="continuity-bench-", dir="/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    plan = Plan(**scales, memory_limit=args.memory_limit, timeout=args.step_timeout,
                out=args.out, work=work, merge=args.merge, repeat=args.repeat,
                command="python -m benchmarks.run " + " ".join(
                    sys.argv[1:] if argv is None else argv))
    try:
        runner = Runner(plan)
        runner.run()
        write_results(runner)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    finally:
        if not args.keep and args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"written: {plan.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
