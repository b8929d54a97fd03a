"""One benchmark step, run in a fresh process: `python -m benchmarks.steps SPEC.json OUT.json`.

Why a process per step: peak memory (the parent reads the child's ru_maxrss and polls the
process tree) then belongs to that step alone, and nothing cached by one step (DuckDB buffers,
a JVM, pandas frames) speeds up the next. Each step times only its own work (`seconds`), not
Python start-up and imports; the parent also records the whole process's wall time.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from metrics.params import Params
from metrics.pipeline import engine

SQL_DIR = Path(__file__).resolve().parent / "sql"
TABLE_NAMES = ("appointments", "patients", "practices")

Spec = dict[str, Any]
Result = dict[str, Any]


def sql(name: str) -> str:
    """A benchmark query (benchmarks/sql/<name>.sql; header comment included)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def params_of(spec: Spec) -> Params:
    return Params(date.fromisoformat(spec["window_start"]), date.fromisoformat(spec["window_end"]))


def paths(data_dir: str, fmt: str = "parquet") -> dict[str, Path]:
    return {t: Path(data_dir) / f"{t}.{fmt}" for t in TABLE_NAMES}


def appointment_count(data_dir: str) -> int:
    return pl.scan_parquet(paths(data_dir)["appointments"]).select(pl.len()).collect().item()


def configure(con: duckdb.DuckDBPyConnection, spec: Spec) -> None:
    """The out-of-core settings: a memory limit and a directory to spill to."""
    if spec.get("memory_limit"):
        con.execute("SET memory_limit = ?", [spec["memory_limit"]])
    if spec.get("temp_dir"):
        Path(spec["temp_dir"]).mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = ?", [spec["temp_dir"]])


def parquet_views(con: duckdb.DuckDBPyConnection, data_dir: str) -> None:
    """The extract's Parquet files as views named like the canonical tables (read in place)."""
    for table, path in paths(data_dir).items():
        con.read_parquet(str(path)).create_view(table)


# ---- steps ----------------------------------------------------------------------------------


def step_generate(spec: Spec) -> Result:
    """The synthetic ICB at this scale, as Parquet (block by block: bounded memory)."""
    from metrics.sample import SampleConfig, generate_to_dir

    started = time.perf_counter()
    generate_to_dir(Path(spec["dir"]), SampleConfig(scale=spec["scale"]), fmt="parquet")
    seconds = time.perf_counter() - started
    return {"rows": appointment_count(spec["dir"]), "seconds": seconds}


def step_to_csv(spec: Spec) -> Result:
    """CSV copies of the Parquet files, the input of the ingest step (times as the schema)."""
    from metrics.sample import CSV_TIME

    started = time.perf_counter()
    out = Path(spec["csv_dir"])
    out.mkdir(parents=True, exist_ok=True)
    for table, path in paths(spec["dir"]).items():
        pl.scan_parquet(path).sink_csv(out / f"{table}.csv", time_format=CSV_TIME)
    return {"rows": appointment_count(spec["dir"]), "seconds": time.perf_counter() - started}


def step_ingest(spec: Spec) -> Result:
    """metrics.ingest (check, map, report every row) and metrics.store (the database file)."""
    from metrics.ingest import ExtractFiles, read_extract
    from metrics.store import write_store

    csv = {t: Path(spec["csv_dir"]) / f"{t}.csv" for t in TABLE_NAMES}
    started = time.perf_counter()
    result = read_extract(ExtractFiles((csv["appointments"],), csv["patients"],
                                      csv["practices"]), national_ids=True)  # the sample's are
    read = time.perf_counter() - started
    write_store(result, Path(spec["db"]))
    seconds = time.perf_counter() - started
    counts = result.report.counts["appointments"]
    return {"rows": counts.rows_read, "seconds": seconds,
            "details": {"read and check (s)": round(read, 2),
                        "write store (s)": round(seconds - read, 2),
                        "loaded": counts.loaded, "rejected": counts.rejected}}


def _timed_pipeline(run: Callable[[engine.Progress], None]) -> tuple[float, dict[str, float]]:
    """Run `run(progress)`; per-step times from the engine's progress calls."""
    marks: list[tuple[str, float]] = []

    def progress(label: str, fraction: float) -> None:
        marks.append((label.removeprefix("computing "), time.perf_counter()))

    started = time.perf_counter()
    run(progress)
    ended = time.perf_counter()
    marks.append(("end", ended))
    steps = {marks[i][0]: marks[i + 1][1] - marks[i][1] for i in range(len(marks) - 1)
             if marks[i][0] not in ("computed", "end")}
    return ended - started, steps


def step_compute(spec: Spec) -> Result:
    """The full pipeline (every index, SLICC monthly, every roll-up) from the Parquet files
    into a DuckDB file, under the memory limit; then the check slice's patient rows."""
    params = params_of(spec)
    db = Path(spec["db"])
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    configure(con, spec)
    parquet_views(con, spec["dir"])
    seconds, steps = _timed_pipeline(lambda p: engine.persist_results(con, params, p))
    seconds = time.perf_counter() - started
    if spec.get("slice"):
        backend = engine.DuckDBBackend(con)
        backend.register("slice_patients", pl.read_parquet(spec["slice"]))
        out = Path(spec["slice_out"])
        out.mkdir(parents=True, exist_ok=True)
        backend.fetch(sql("slice_patient_indices")).write_parquet(out / "patient_indices.parquet")
        backend.fetch(sql("slice_named_gp")).write_parquet(out / "named_gp.parquet")
    con.close()
    return {"rows": appointment_count(spec["dir"]), "seconds": seconds, "steps": steps}


def _bare_query(spec: Spec, name: str) -> tuple[duckdb.DuckDBPyConnection, float]:
    """benchmarks/sql/<name>.sql over the Parquet files into a table <name>; its seconds."""
    con = duckdb.connect()
    configure(con, spec)
    parquet_views(con, spec["dir"])
    started = time.perf_counter()
    engine.DuckDBBackend(con).materialise(name, sql(name))
    return con, time.perf_counter() - started


def step_floor(spec: Spec) -> Result:
    """A bare GROUP BY patient_id, clinician_id count over the same Parquet file."""
    con, seconds = _bare_query(spec, "floor")
    groups = con.execute("SELECT count(*) FROM floor").fetchone()[0]
    return {"rows": appointment_count(spec["dir"]), "seconds": seconds,
            "details": {"patient-clinician pairs": groups}}


def step_ordered_floor(spec: Spec) -> Result:
    """One bare ordered window over the same Parquet file (each patient's appointments in
    date, time and id order)."""
    _, seconds = _bare_query(spec, "ordered_floor")
    return {"rows": appointment_count(spec["dir"]), "seconds": seconds}


def step_pandas(spec: Spec) -> Result:
    """The analyst's pandas (benchmarks/pandas_baseline.py): read Parquet, then the indices."""
    from benchmarks import pandas_baseline

    started = time.perf_counter()
    tables = pandas_baseline.read_parquet({t: str(p) for t, p in paths(spec["dir"]).items()})
    read = time.perf_counter() - started
    out = pandas_baseline.run(tables, params_of(spec))
    seconds = time.perf_counter() - started
    return {"rows": len(tables["appointments"]), "seconds": seconds - read,
            "details": {"read Parquet (s)": round(read, 2), "patients": len(out["patients"])}}


def step_spark(spec: Spec) -> Result:
    """The same SQL on Spark (metrics.pipeline.spark, local[2]): session start, then the
    pipeline from polars frames read from the Parquet files, outputs collected."""
    from metrics.pipeline.spark import compute_tables_spark, start_session

    t0 = time.perf_counter()
    tables = {t: pl.read_parquet(p) for t, p in paths(spec["dir"]).items()}
    t1 = time.perf_counter()
    session = start_session(spec.get("master", "local[2]"),
                            conf={"spark.driver.memory": spec.get("driver_memory", "6g")})
    t2 = time.perf_counter()
    outputs = compute_tables_spark(tables, params_of(spec), spark=session)
    t3 = time.perf_counter()
    session.stop()
    return {"rows": tables["appointments"].height, "seconds": t3 - t2,
            "details": {"read Parquet (s)": round(t1 - t0, 2),
                        "session start (s)": round(t2 - t1, 2),
                        "patients": outputs["patients"].height}}


def step_store_compute(spec: Spec) -> Result:
    """Compute and keep the default results, with the refresh state, in an ingested store (what
    `ingest` does after loading), for the dashboard step."""
    from metrics.pipeline import refresh

    con = duckdb.connect(spec["db"])
    configure(con, spec)
    seconds, steps = _timed_pipeline(
        lambda p: refresh.persist_with_state(con, params_of(spec), p))
    rows = con.execute("SELECT count(*) FROM appointments").fetchone()[0]
    con.close()
    return {"rows": rows, "seconds": seconds, "steps": steps}


def step_dashboard(spec: Spec) -> Result:
    """Each page's metrics.read calls on the store: cold (a fresh read-only connection, first
    call; Python modules already imported, as in a running server) and warm (the same calls
    again on that connection; the dashboard's st.cache_data then serves repeats without any
    query)."""
    from metrics import read
    from metrics.access import local_viewer

    viewer = local_viewer()
    rule = viewer.shared_rule
    db = Path(spec["db"])
    probe = read.open_results(db)
    practice = read.directory(probe)["practice_code"][0]
    pcn = read.directory(probe)["pcn_code"][0]
    probe.con.close()
    pages: dict[str, Callable[[read.ResultSource], object]] = {
        "store info (months, directory)": lambda s: (read.available_months(s),
                                                     read.directory(s)),
        "overview": lambda s: read.overview_tables(s, read.Selection(), rule),
        "my practice": lambda s: read.practice_tables(
            s, read.Selection(practice=practice), viewer),
        "networks": lambda s: read.network_tables(s, read.Selection(pcn=pcn), rule),
        "deprivation": lambda s: read.deprivation_tables(s, read.Selection(), rule),
    }
    timings: dict[str, dict[str, float | str]] = {}
    warm_up = read.open_results(db)  # imports and lazy module state, as a running server has
    for call in pages.values():
        with contextlib.suppress(Exception):
            call(warm_up)
    warm_up.con.close()
    started = time.perf_counter()
    for page, call in pages.items():
        try:
            t0 = time.perf_counter()
            source = read.open_results(db)
            call(source)
            t1 = time.perf_counter()
            call(source)
            t2 = time.perf_counter()
            source.con.close()
            timings[page] = {"cold_ms": 1000 * (t1 - t0), "warm_ms": 1000 * (t2 - t1)}
        except Exception as exc:  # report a page the results API cannot serve, keep going
            timings[page] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT count(*) FROM appointments").fetchone()[0]
    con.close()
    return {"rows": rows, "seconds": time.perf_counter() - started, "pages": timings}


def step_refresh_setup(spec: Spec) -> Result:
    """A store holding every month but the last, fully built with refresh state; then the last
    month's appointments appended (the situation a monthly refresh starts from)."""
    from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
    from metrics.pipeline import refresh
    from metrics.store import write_store

    base = params_of(spec)
    cut = pl.lit(spec["new_month_start"]).str.to_date()
    tables = {t: pl.read_parquet(p) for t, p in paths(spec["dir"]).items()}
    appointments = tables["appointments"]
    tables["appointments"] = appointments.filter(pl.col("appointment_date") < cut)
    result = IngestResult(tables=tables, extras={}, rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                          report=IngestReport(), national_ids=True)  # the sample's ids
    db = Path(spec["db"])
    write_store(result, db)
    started = time.perf_counter()
    refresh.full_build(db, base)
    seconds = time.perf_counter() - started
    if spec.get("before"):  # for monthly_append: the store before the month came
        shutil.copyfile(db, spec["before"])
    added = refresh.append_appointments(db, appointments.filter(pl.col("appointment_date") >= cut))
    shutil.copyfile(db, spec["copy"])
    return {"rows": tables["appointments"].height, "seconds": seconds,
            "details": {"appended": added}}


def step_refresh(spec: Spec) -> Result:
    """metrics.pipeline.refresh.refresh: the new month on top of the stored build."""
    from metrics.pipeline import refresh

    started = time.perf_counter()
    report = refresh.refresh(Path(spec["db"]))
    seconds = time.perf_counter() - started
    con = duckdb.connect(spec["db"], read_only=True)
    rows = con.execute("SELECT count(*) FROM appointments").fetchone()[0]
    con.close()
    top = sorted(report.seconds.items(), key=lambda kv: -kv[1])[:6]
    return {"rows": rows, "seconds": seconds,
            "details": {"new appointments": report.new_appointments,
                        **{f"{k} (s)": round(v, 2) for k, v in top}}}


def step_monthly_append(spec: Spec) -> Result:
    """What `python -m metrics ingest --append` does with one more month of appointments (no
    patients file) after it has checked them: metrics.pipeline.build.rebuild, i.e. the rows
    written into a copy of the store, then the results brought forward (incrementally when it
    can)."""
    from metrics.pipeline import build

    cut = pl.lit(spec["new_month_start"]).str.to_date()
    # only the month is read, as its own extract file would be
    tables = {t: pl.scan_parquet(p) for t, p in paths(spec["dir"]).items()}
    month = tables["appointments"].filter(pl.col("appointment_date") >= cut).collect()
    result = build.result_from_tables(
        {"appointments": month, **{t: tables[t].head(0).collect()
                                   for t in ("patients", "practices")}},
        "benchmark month")
    result.report.counts["patients"].files = 0  # as an appointments-only extract
    refreshing: list[float] = []  # when the refresh began: the store write ends there

    def progress(label: str, fraction: float) -> None:
        if label.startswith("refreshing") and not refreshing:
            refreshing.append(time.perf_counter())

    started = time.perf_counter()
    report = build.rebuild(result, Path(spec["db"]), append=True, progress=progress)
    ended = time.perf_counter()
    split = refreshing[0] if refreshing else ended
    return {"rows": month.height, "seconds": ended - started,
            "details": {"incremental": bool(report and report.incremental),
                        "store write (s)": round(split - started, 2),
                        "refresh (s)": round(ended - split, 2)}}


def step_full_rebuild(spec: Spec) -> Result:
    """metrics.pipeline.refresh.full_build of the same store and window, for comparison."""
    from metrics.pipeline import refresh

    started = time.perf_counter()
    refresh.full_build(Path(spec["db"]), params_of(spec))
    seconds = time.perf_counter() - started
    con = duckdb.connect(spec["db"], read_only=True)
    rows = con.execute("SELECT count(*) FROM appointments").fetchone()[0]
    con.close()
    return {"rows": rows, "seconds": seconds}


def step_refresh_check(spec: Spec) -> Result:
    """The refreshed store's tables against the full rebuild's, table by table."""
    from benchmarks.checks import compare_stores

    started = time.perf_counter()
    problems = compare_stores(Path(spec["db"]), Path(spec["other"]))
    return {"rows": 0, "seconds": time.perf_counter() - started,
            "details": {"tables differing": len(problems)}, "problems": problems[:10]}


def step_check(spec: Spec) -> Result:
    """The compute step's rows for the check slice against metrics/reference.py."""
    from benchmarks.checks import check_slice

    started = time.perf_counter()
    problems, patients = check_slice(paths(spec["dir"]), Path(spec["slice"]),
                                     Path(spec["slice_out"]), params_of(spec))
    return {"rows": patients, "seconds": time.perf_counter() - started,
            "details": {"patients checked": patients, "mismatches": len(problems)},
            "problems": problems[:10]}


STEPS: dict[str, Callable[[Spec], Result]] = {
    name.removeprefix("step_"): fn for name, fn in globals().items() if name.startswith("step_")
}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    result = STEPS[spec["step"]](spec)
    Path(argv[1]).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
