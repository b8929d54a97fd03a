"""The continuity pipeline on Spark SQL (PySpark 4), for platforms where the data already lives.

The same SQL runs here (the steps and outputs queries/pipeline.toml declares `spark = true`),
translated from DuckDB's dialect by metrics.pipeline.dialect; nothing about an index is written
twice. PySpark is an optional extra (requirements-spark.txt): it is imported only when a
function here runs, and a missing PySpark or Java ends in one EngineError line. Each step becomes a
checkpointed temp view in a per-run child session (its own temp views, the shared
SparkContext), so concurrent runs do not see each other's steps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlglot
from sqlglot import exp

from metrics.params import Params
from metrics.pipeline import engine
from metrics.pipeline import manifest as pipeline_manifest
from metrics.pipeline.dialect import to_dialect
from metrics.pipeline.engine import EngineError, Progress
from metrics.schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

DIALECT = "spark"
DEFAULT_MASTER = "local[2]"

# Applied when this module starts the session. Small shuffles: the pipeline has ~30 joins and
# groupings; on one machine the default 200 partitions cost more in scheduling than they save,
# and adaptive execution still coalesces or splits partitions by size.
SESSION_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Parquet extracts written by polars or pandas may hold TIME columns: read them (TIME is
    # then cast to text, see spark_type) instead of failing with UNSUPPORTED_TIME_TYPE
    "spark.sql.timeType.enabled": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=error",
    # The engine keeps temporary views only; without this Spark leaves an empty
    # `spark-warehouse` directory wherever the command ran.
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "continuity-spark-warehouse"),
}

INSTALL_HINT = "the Spark engine needs PySpark: pip install -r requirements-spark.txt"
JAVA_HINT = "the Spark engine needs Java 17: install it and set JAVA_HOME or put java on PATH"

ParamsFor = Callable[[engine.Backend], Params]

# Runtime settings a run's child session takes from its parent (a child starts from the
# SparkContext's settings, not from what a notebook set on its session since).
CARRIED_CONF = ("spark.sql.session.timeZone", "spark.sql.timeType.enabled",
                "spark.sql.ansi.enabled", "spark.sql.shuffle.partitions")


def _pyspark_sql() -> Any:
    """pyspark.sql, or the one-line reason it cannot be used."""
    try:
        import pyspark.sql
    except ImportError:
        raise EngineError(INSTALL_HINT) from None
    return pyspark.sql


def _spark_types() -> Any:
    _pyspark_sql()
    from pyspark.sql import types

    return types


def active_session() -> SparkSession | None:
    """The session already running in this process (a notebook's `spark`), if any."""
    return _pyspark_sql().SparkSession.getActiveSession()


def start_session(master: str | None = DEFAULT_MASTER, app_name: str = "continuity",
                  conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active session, or a new one on `master` (None: spark-submit's or the platform's)."""
    sql = _pyspark_sql()
    running = sql.SparkSession.getActiveSession()
    if running is not None:
        return running
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise EngineError(JAVA_HINT)
    builder = sql.SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in {**SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: almost always Java missing or too old
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EngineError(f"could not start Spark ({first}); {JAVA_HINT}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def session_for(master: str | None = DEFAULT_MASTER) -> Iterator[SparkSession]:
    """A session for one job: stopped afterwards only if this call started it."""
    running = active_session()
    session = running or start_session(master)
    try:
        yield session
    finally:
        if running is None:
            session.stop()


def spark_queries() -> tuple[str, ...]:
    """The queries declared Spark-portable (queries/pipeline.toml), in declaration order."""
    return tuple(q.name for q in pipeline_manifest.manifest().queries.values() if q.spark)


# ---- types ----------------------------------------------------------------------------------


def spark_type(dtype: pl.DataType) -> DataType:
    """The Spark type holding a polars column without loss (canonical tables use these only).

    TIME travels as text HH:MM:SS.ffffff (see time_text): Spark's TIME type is new in 4.1 and
    cannot be cached; the SQL only sorts by it, and fixed-width text sorts the same way.
    """
    t = _spark_types()
    simple = {pl.String: t.StringType(), pl.Int8: t.ByteType(), pl.Int16: t.ShortType(),
              pl.Int32: t.IntegerType(), pl.Int64: t.LongType(), pl.Float32: t.FloatType(),
              pl.Float64: t.DoubleType(), pl.Boolean: t.BooleanType(), pl.Date: t.DateType(),
              pl.Time: t.StringType(), pl.Null: t.StringType()}
    for base, spark in simple.items():
        if dtype == base:
            return spark
    raise EngineError(f"no Spark type for a {dtype} column")


def time_text(frame: pl.DataFrame) -> pl.DataFrame:
    """TIME columns as fixed-width text, which sorts as the times do (NULL stays NULL)."""
    times = [c for c, d in frame.schema.items() if d == pl.Time]
    return frame.with_columns(pl.col(times).dt.strftime("%H:%M:%S%.6f")) if times else frame


def spark_schema(frame: pl.DataFrame) -> StructType:
    t = _spark_types()
    return t.StructType([t.StructField(name, spark_type(dtype), True)
                         for name, dtype in frame.schema.items()])


def canonical_type(sql_type: str) -> DataType:
    """Spark type of a canonical column (metrics.schema's DuckDB type names)."""
    t = _spark_types()
    return {"VARCHAR": t.StringType(), "DATE": t.DateType(), "TIME": t.StringType(),
            "INTEGER": t.IntegerType(), "BOOLEAN": t.BooleanType()}[sql_type]


def to_polars(frame: DataFrame) -> pl.DataFrame:
    """Collect a Spark result as polars through Arrow; DECIMAL is refused, not rounded."""
    result = pl.from_arrow(frame.toArrow())
    assert isinstance(result, pl.DataFrame)
    decimals = [c for c, d in result.schema.items() if isinstance(d, pl.Decimal)]
    if decimals:  # a fractional literal or cast the dialect module did not turn into DOUBLE
        raise EngineError(f"Spark returned DECIMAL for {', '.join(decimals)}")
    return result


# ---- backend --------------------------------------------------------------------------------


KEEP_MODES = ("checkpoint", "cache", "view")


class SparkBackend:
    """engine.Backend on Spark: each step a temp view of a child session, computed once.

    keep: how a step is computed once: "checkpoint" (default: eager localCheckpoint, lineage cut,
    so later plans stay small), "cache" (eager cache, for platforms without checkpoints; very slow
    on the whole pipeline here, see docs/spark.md) or "view" (plain views, recomputed where used:
    for platforms that allow neither, e.g. serverless).
    """

    def __init__(self, spark: SparkSession, keep: str = "checkpoint") -> None:
        if keep not in KEEP_MODES:
            raise EngineError(f"keep must be one of {', '.join(KEEP_MODES)}, not {keep!r}")
        self.spark = _child(spark)
        if self.spark is not spark:
            for key in CARRIED_CONF:
                value = spark.conf.get(key, None)
                if value is not None:
                    self.spark.conf.set(key, value)
        self.keep = keep
        self.frames: list[DataFrame] = []
        self.shared_views: list[str] = []

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """A polars frame as temp view `name`, typed by an explicit schema (never inferred)."""
        frame = time_text(frame)
        table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        self.spark.createDataFrame(table, schema=spark_schema(frame)).createOrReplaceTempView(name)

    def register_dataframe(self, name: str, frame: DataFrame) -> None:
        """A Spark table or DataFrame as canonical table `name`: its canonical columns, cast to
        the canonical types (missing optional columns become NULL).

        `frame` belongs to the caller's session; it reaches this run's child session through a
        global temporary view (dropped by close)."""
        sql = _pyspark_sql()
        present = {c.lower(): c for c in frame.columns}
        columns = []
        for column in TABLES[name]:
            if column.name in present:
                value = sql.functions.col(f"`{present[column.name]}`")
            elif column.required:
                raise EngineError(f"the {name} table has no {column.name} column")
            else:
                value = sql.functions.lit(None)
            columns.append(value.cast(canonical_type(column.sql_type)).alias(column.name))
        shared = f"continuity_{name}_{uuid.uuid4().hex}"
        frame.select(*columns).createOrReplaceGlobalTempView(shared)
        self.shared_views.append(shared)
        self.spark.table(f"global_temp.{shared}").createOrReplaceTempView(name)

    def materialise(self, name: str, sql: str) -> None:
        """Steps read by two or more later queries are computed once; a step read once stays a
        view, planned into its reader (fewer Spark jobs, the same SQL)."""
        if name in engine.PIPELINE and name not in spark_queries():
            raise EngineError(f"step {name} is not declared Spark-portable in "
                              f"{pipeline_manifest.MANIFEST.name}")
        frame = self.spark.sql(to_dialect(sql, DIALECT))
        shared = readers().get(name, 0) >= 2
        if shared and self.keep == "checkpoint":
            frame = frame.localCheckpoint(eager=True)
        elif shared and self.keep == "cache":
            frame = frame.cache()
            frame.count()
        self.frames.append(frame)
        frame.createOrReplaceTempView(name)

    def materialise_per_month(self, name: str, sql: str, months: pl.DataFrame,
                              spans: str) -> None:
        """Every month in one query: Spark pays planning and a job per query, and spreads a
        large GROUP BY over its executors itself."""
        self.materialise(name, sql)

    def dataframe(self, sql: str) -> DataFrame:
        """A query's result as a (lazy) Spark DataFrame, e.g. to write back to a table."""
        return self.spark.sql(to_dialect(sql, DIALECT))

    def fetch(self, sql: str) -> pl.DataFrame:
        return to_polars(self.dataframe(sql))

    def close(self) -> None:
        """Drop this run's views and release the checkpointed blocks."""
        for name in self.spark.catalog.listTables():
            if name.isTemporary:
                self.spark.catalog.dropTempView(name.name)
        for frame in self.frames:
            frame.unpersist()
        self.frames.clear()
        for shared in self.shared_views:
            self.spark.catalog.dropGlobalTempView(shared)
        self.shared_views.clear()


@cache
def readers() -> dict[str, int]:
    """How many later queries (the Spark-portable steps and outputs) read each step's table."""
    counts: dict[str, int] = dict.fromkeys(engine.PIPELINE, 0)
    for query in spark_queries():
        tree = sqlglot.parse_one(engine.query_text(query), read="duckdb")
        local = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        for table in {t.name for t in tree.find_all(exp.Table)} - local:
            if table in counts:
                counts[table] += 1
    return counts


def _child(spark: SparkSession) -> SparkSession:
    """A session with its own temp views on the same SparkContext (Spark Connect: the same)."""
    try:
        return spark.newSession()
    except Exception:  # Spark Connect has no child sessions; views are then per connection
        return spark


# ---- entry points ---------------------------------------------------------------------------


def compute_tables_spark(tables: Mapping[str, pl.DataFrame], params: Params,
                         progress: Progress | None = None,
                         spark: SparkSession | None = None) -> dict[str, pl.DataFrame]:
    """engine.compute_tables on Spark: the running session (or a new local[2] one, kept for
    later calls)."""
    backend = SparkBackend(spark or start_session())
    try:
        engine.register_tables(backend, tables)
        engine.run_pipeline(backend, params, progress)
        return engine.collect_outputs(backend)
    finally:
        backend.close()


def compute_files_spark(tables: Mapping[str, pl.DataFrame], params_for: ParamsFor,
                        master: str | None = DEFAULT_MASTER, progress: Progress | None = None
                        ) -> tuple[dict[str, pl.DataFrame], Params]:
    """The CLI's `compute --engine spark`: outputs and the Params they were computed with
    (`params_for` may read the data, e.g. for the default window)."""
    with session_for(master) as spark:
        backend = SparkBackend(spark)
        try:
            engine.register_tables(backend, tables)
            params = params_for(backend)
            engine.run_pipeline(backend, params, progress)
            return engine.collect_outputs(backend), params
        finally:
            backend.close()


def compute_on_spark(spark: SparkSession, sources: Mapping[str, str | DataFrame],
                     params: Params | None = None, progress: Progress | None = None
                     ) -> tuple[SparkBackend, dict[str, DataFrame], Params]:
    """For a workspace where the extract is already in tables (Databricks, Synapse, Fabric):
    `sources` maps appointments, patients, practices to a table name or DataFrame. Returns the
    backend, every output as a Spark DataFrame (nothing collected to the driver) and the Params
    (default: the last 24 complete months). Call `backend.close()` once they are written."""
    backend = SparkBackend(spark)
    for table in TABLES:
        if table not in sources:
            raise EngineError(f"missing the {table} table")
        source = sources[table]
        backend.register_dataframe(table, spark.table(source) if isinstance(source, str)
                                   else source)
    params = params or engine.default_params(backend)
    engine.run_pipeline(backend, params, progress)
    outputs = {name: backend.dataframe(engine.query_text(query))
               for name, query in engine.OUTPUTS.items()}
    return backend, outputs, params
