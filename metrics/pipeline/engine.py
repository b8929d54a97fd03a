"""Run the continuity SQL pipeline (queries/pipeline.toml) on a backend and collect its outputs.

Data flows one way: canonical tables -> parameter tables -> one TEMP table per query file, in
PIPELINE order -> output frames. Each query reads only the canonical tables, the parameter
tables made here from a `Params` (never by interpolating values into SQL) and the tables of the
steps before it. The SQL is written once, in the DuckDB dialect; other engines
(metrics.pipeline.spark) plug in through the `Backend` protocol and translate it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Protocol

import duckdb
import polars as pl
from dateutil.relativedelta import relativedelta

from metrics.params import Params
from metrics.pipeline import manifest as pipeline_manifest
from metrics.pipeline.manifest import Step
from metrics.schema import GP_ROLES, IMD_QUINTILE_OF_DECILE, ROLES, STAFF_GROUP_ROLES, TABLES

QUERIES_DIR = pipeline_manifest.QUERIES_DIR

# The steps in dependency order, as declared in queries/pipeline.toml; each is materialised as a
# table of its name.
STEPS: tuple[Step, ...] = pipeline_manifest.manifest().steps
PIPELINE: tuple[str, ...] = tuple(s.name for s in STEPS)
# The monthly chart series over trailing 12-month windows (stage "series"), from the (patient,
# clinician, month) table with integer keys; the indices and roll-ups before them.
SERIES_STEPS: tuple[str, ...] = tuple(s.name for s in STEPS if s.stage == "series")
INDEX_STEPS: tuple[str, ...] = tuple(s.name for s in STEPS if s.stage != "series")
# Steps whose rows for a month depend on that month alone (and on earlier steps), with the spans
# table each of their queries reads whole. A backend that runs small queries cheaply computes them
# a few months per query (month_batches), so that their largest GROUP BY holds a few months of
# patients, not 24: at 100M appointments that is the difference between spilling to disk and not.
PER_MONTH_STEPS: dict[str, str] = {s.name: s.per_month for s in STEPS if s.per_month}
# How many months one such query covers: as many as keep (months x the spans table's rows) within
# this. Each query reads the whole spans table, so fewer queries read less, while its GROUP BY
# grows with its months. Measured on the sample (2026-11-26): at 1M appointments all 24 months in
# one query (inferred GP 0.22 s -> 0.06 s, rolling UPC 0.3 s -> 0.24 s); at 10M five months for
# the inferred GP (1.1 s -> 0.85 s on its own, within the noise in a whole run) and two for
# rolling UPC (no faster, no slower); one at a time from about 30M, where a month's GROUP BY is
# large already.
SPAN_ROWS_PER_QUERY = 12_000_000


def months_per_query(span_rows: int, months: int) -> int:
    """How many of `months` one query of a PER_MONTH_STEPS step covers when its spans table has
    `span_rows` rows (SPAN_ROWS_PER_QUERY)."""
    return max(1, min(months, SPAN_ROWS_PER_QUERY // max(span_rows, 1)))


def month_batches(months: pl.DataFrame, per_query: int) -> list[pl.DataFrame]:
    """`months` cut into consecutive slices of `per_query` months (the last may be shorter)."""
    return [months.slice(i, per_query) for i in range(0, months.height, per_query)]


# CLI output name -> the query shaping it: `python -m metrics` writes <name>.csv for each.
OUTPUTS: dict[str, str] = {q.output: q.name for q in pipeline_manifest.manifest().of_kind("output")
                           if q.output}

# The tables a dashboard or store keeps from a run (patient-level rows are not among them).
RESULT_TABLES: tuple[str, ...] = tuple(s.name for s in STEPS if s.result)

Progress = Callable[[str, float], None]


class EngineError(RuntimeError):
    """The pipeline could not run on these inputs (message says which step and why)."""


def query_text(name: str) -> str:
    """The SQL of a query declared in queries/pipeline.toml (header comment included)."""
    try:
        return pipeline_manifest.query_text(name)
    except pipeline_manifest.ManifestError as exc:
        raise EngineError(str(exc)) from None


class Backend(Protocol):
    """What an engine must do to run the pipeline."""

    def register(self, name: str, frame: pl.DataFrame) -> None: ...

    def materialise(self, name: str, sql: str) -> None: ...

    def fetch(self, sql: str) -> pl.DataFrame: ...

    def materialise_per_month(self, name: str, sql: str, months: pl.DataFrame,
                              spans: str) -> None:
        """Materialise a PER_MONTH_STEPS step for every month of `months` (the `months` table
        holds all of them before and after); `spans` is the table each query reads whole."""
        ...


class DuckDBBackend:
    """Runs each step as `CREATE OR REPLACE [TEMP] TABLE <step> AS <query>` on one connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, temporary: bool = True,
                 months_per_query: int | None = None) -> None:
        self.con = con
        # in-memory databases use plain tables so that cursors (one per thread) can see them
        self.kind = "TEMP TABLE" if temporary else "TABLE"
        # No automatic checkpoint in the middle of a run: on a small extract it fires inside a
        # step and takes longer than the step (28 ms of hhi's 32 ms at 1M appointments, 0.25 to
        # 0.4 s of a 1M refresh; none at 10M). A store is checkpointed once, when it is written
        # (metrics.store.building, metrics.pipeline.refresh).
        con.execute("SET checkpoint_threshold = '1TB'")
        # None: by the size of the step's spans table (months_per_query)
        self.months_per_query = months_per_query

    def register(self, name: str, frame: pl.DataFrame) -> None:
        view = f"__frame_{name}"
        self.con.register(view, frame.to_arrow())
        self.con.execute(f"CREATE OR REPLACE {self.kind} {name} AS SELECT * FROM {view}")
        self.con.unregister(view)

    def materialise(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE {self.kind} {name} AS {sql}")

    def fetch(self, sql: str) -> pl.DataFrame:
        return self.con.sql(sql).pl()

    def month_batches(self, months: pl.DataFrame, spans: str) -> list[pl.DataFrame]:
        """The months of each query of a PER_MONTH_STEPS step that reads `spans`."""
        per_query = self.months_per_query or months_per_query(
            self.con.execute(f"SELECT count(*) FROM {spans}").fetchall()[0][0], months.height)
        return month_batches(months, per_query)

    def materialise_per_month(self, name: str, sql: str, months: pl.DataFrame,
                              spans: str) -> None:
        """A few months per query, appended (queries are cheap here; big hash tables are not)."""
        try:
            for i, batch in enumerate(self.month_batches(months, spans)):
                self.register("months", batch)
                if i == 0:
                    self.materialise(name, sql)
                else:
                    self.con.execute(f"INSERT INTO {name} {sql}")
        finally:
            self.register("months", months)


def months_in(params: Params) -> list[date]:
    """First days of the calendar months the window touches."""
    month = params.window_start.replace(day=1)
    months = []
    while month <= params.window_end:
        months.append(month)
        month += relativedelta(months=1)
    return months


def months_frame(months: list[date]) -> pl.DataFrame:
    """The `months` parameter table: each month's first day and its number, year * 12 + month
    (as patient_clinician_monthly numbers months, so that month ranges are integer arithmetic)."""
    return pl.DataFrame({"month_start": months,
                         "month_number": [m.year * 12 + m.month for m in months]},
                        schema={"month_start": pl.Date, "month_number": pl.Int32})


def lookback_start(params: Params) -> date:
    """First day contacts are read from: 365 days before the window (KPC's look-back) or the
    first day of the 12th calendar month before the window's first month (the inferred GP's
    history, inferred_gp.sql), whichever is earlier."""
    return min(params.window_start - timedelta(days=365),
               params.window_start.replace(day=1) - relativedelta(months=12))


def parameter_frames(params: Params) -> dict[str, pl.DataFrame]:
    """The small tables through which a Params reaches the SQL."""
    in_group = set(STAFF_GROUP_ROLES[params.staff_group])
    return {
        "run_params": pl.DataFrame(
            {
                "window_start": [params.window_start],
                "window_end": [params.window_end],
                "lookback_start": [lookback_start(params)],
                "min_contacts": [params.min_contacts],
                "collapse_same_day": [params.collapse_same_day],
            },
            schema={"window_start": pl.Date, "window_end": pl.Date, "lookback_start": pl.Date,
                    "min_contacts": pl.Int32, "collapse_same_day": pl.Boolean},
        ),
        "counted_modes": pl.DataFrame({"mode": list(params.modes)}, schema={"mode": pl.Utf8}),
        "role_groups": pl.DataFrame(
            {
                "role": list(ROLES),
                "in_staff_group": [r in in_group for r in ROLES],
                "is_gp": [r in GP_ROLES for r in ROLES],
            }
        ),
        "months": months_frame(months_in(params)),
        "imd_quintiles": pl.DataFrame(
            {"imd_decile": list(IMD_QUINTILE_OF_DECILE),
             "imd_quintile": list(IMD_QUINTILE_OF_DECILE.values())},
            schema={"imd_decile": pl.Int32, "imd_quintile": pl.Int32}),
    }


def materialise_step(backend: Backend, step: str, months: pl.DataFrame) -> None:
    """One step's table; PER_MONTH_STEPS through the backend's month-by-month path, for the
    window's `months` (the parameter table)."""
    if step in PER_MONTH_STEPS:
        backend.materialise_per_month(step, query_text(step), months, PER_MONTH_STEPS[step])
    else:
        backend.materialise(step, query_text(step))


def run_pipeline(backend: Backend, params: Params, progress: Progress | None = None) -> None:
    """Materialise every step for `params` (the canonical tables must already be present)."""
    frames = parameter_frames(params)
    for name, frame in frames.items():
        backend.register(name, frame)
    months = frames["months"]
    for i, step in enumerate(PIPELINE):
        if progress:
            progress(f"computing {step}", i / len(PIPELINE))
        try:
            materialise_step(backend, step, months)
        except Exception as exc:  # the engine's own message, with the step named
            text = str(exc).strip() or type(exc).__name__
            first_line = text.splitlines()[0]
            raise EngineError(f"step {step} failed: {first_line}") from exc
    if progress:
        progress("computed", 1.0)


def collect_outputs(backend: Backend) -> dict[str, pl.DataFrame]:
    """The CLI's output frames, in the column order of the contract."""
    return {name: backend.fetch(query_text(query)) for name, query in OUTPUTS.items()}


def register_tables(backend: Backend, tables: Mapping[str, pl.DataFrame]) -> None:
    """Load canonical frames (as from ingest or the sample generator) under their table names."""
    for table in TABLES:
        if table not in tables:
            raise EngineError(f"missing the {table} table")
        backend.register(table, tables[table])


def compute_tables(
    tables: Mapping[str, pl.DataFrame],
    params: Params,
    progress: Progress | None = None,
) -> dict[str, pl.DataFrame]:
    """Every output of the CLI contract from canonical frames, in an in-memory DuckDB (Spark's
    is metrics.pipeline.spark.compute_tables_spark, which runs this same pipeline)."""
    con = duckdb.connect()
    try:
        backend = DuckDBBackend(con)
        register_tables(backend, tables)
        run_pipeline(backend, params, progress)
        return collect_outputs(backend)
    finally:
        con.close()


def latest_appointment_date(backend: Backend) -> date | None:
    """The last appointment date in the data (the default window ends with its month)."""
    value = backend.fetch("SELECT max(appointment_date) AS last FROM appointments")["last"][0]
    return value


def default_params(backend: Backend, **overrides: object) -> Params:
    """The last 24 complete months of the data, with any given overrides."""
    last = latest_appointment_date(backend)
    if last is None:
        raise EngineError("there are no appointments to compute from")
    return Params.last_24_months(last, **overrides)


def persist_results(con: duckdb.DuckDBPyConnection, params: Params,
                    progress: Progress | None = None) -> None:
    """Compute on a store's write connection and keep the result tables (result_<name>) and the
    parameters that made them (result_params), for the dashboard's default view."""
    run_pipeline(DuckDBBackend(con), params, progress)
    keep_results(con, params)


def keep_results(con: duckdb.DuckDBPyConnection, params: Params, store: str = "") -> None:
    """The run's RESULT_TABLES as result_<name>, and result_params, into the store (`store`: an
    attached store's prefix, e.g. 'store.', or '' on the store's own connection)."""
    for name in RESULT_TABLES:
        con.execute(f"CREATE OR REPLACE TABLE {store}result_{name} AS SELECT * FROM {name}")
    rows = [(k, str(v)) for k, v in params.as_dict().items()]
    con.execute(f"CREATE OR REPLACE TABLE {store}result_params (key VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {store}result_params VALUES (?, ?)", rows)


def stored_params(con: duckdb.DuckDBPyConnection, store: str = "") -> Params:
    """The Params a store's result tables were computed with (`store` as for keep_results)."""
    values = dict(con.execute(f"SELECT key, value FROM {store}result_params").fetchall())
    return Params(
        window_start=date.fromisoformat(values["window_start"]),
        window_end=date.fromisoformat(values["window_end"]),
        min_contacts=int(values["min_contacts"]),
        staff_group=values["staff_group"],
        modes=tuple(values["modes"].split(",")),
        collapse_same_day=values["collapse_same_day"] == "True",
    )
