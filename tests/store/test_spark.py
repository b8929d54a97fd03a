"""The Spark engine (docs/spark.md): the same queries/*.sql, translated by
metrics.pipeline.dialect, give the same answers as DuckDB, table by table and column by column,
and through the CLI.

The hand-worked and property-based spec tests also run on Spark through the `compute` fixture
(tests/conftest.py). Tests that start Spark are marked `spark`; the rest (translation, optional
import, one-line errors) need no JVM.
"""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from metrics import cli
from metrics.params import Params
from metrics.pipeline import engine
from metrics.pipeline.dialect import to_dialect
from metrics.pipeline.engine import EngineError
from metrics.pipeline.spark import compute_tables_spark as spark_compute
from metrics.pipeline.spark import spark_queries
from metrics.sample import SampleConfig, generate
from tests.builders import extract, visits

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
TOLERANCE = 1e-12  # floats may differ in the last bits: sums and means in another order

spark = pytest.mark.spark


# ---- comparing two engines' frames ----------------------------------------------------------


def kind(dtype: pl.DataType) -> str:
    """What a CSV or a reader sees: widths (Int32 / Int64 / Int128) do not matter."""
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    return str(dtype.base_type())


def as_text_times(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB's TIME columns, and TIME fields of struct columns (the contact-order key of
    patient_clinician_monthly.sql), as the fixed-width text Spark carries them in
    (metrics.pipeline.spark)."""
    from metrics.pipeline.spark import time_text

    nested = [
        pl.col(name).struct.with_fields(
            *(pl.field(f.name).dt.strftime("%H:%M:%S%.6f") for f in dtype.fields
              if f.dtype == pl.Time))
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Struct) and any(f.dtype == pl.Time for f in dtype.fields)]
    return time_text(frame.with_columns(nested) if nested else frame)


def values_equal(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return left == right


def assert_same_frame(name: str, duck: pl.DataFrame, spark_frame: pl.DataFrame,
                      ordered: bool) -> None:
    """Same columns in the same order, same kinds, same rows (in order for ordered outputs)."""
    duck = as_text_times(duck)
    assert duck.columns == spark_frame.columns, name
    kinds = {c: (kind(duck[c].dtype), kind(spark_frame[c].dtype)) for c in duck.columns}
    assert all(a == b for a, b in kinds.values()), (name, kinds)
    assert duck.height == spark_frame.height, (name, duck.height, spark_frame.height)
    if not ordered:  # a step is a set of rows: compare in one canonical order
        duck, spark_frame = duck.sort(duck.columns), spark_frame.sort(spark_frame.columns)
    for column in duck.columns:
        pairs = zip(duck[column].to_list(), spark_frame[column].to_list(), strict=True)
        bad = [(i, a, b) for i, (a, b) in enumerate(pairs) if not values_equal(a, b)]
        assert not bad, f"{name}.{column}: {len(bad)} rows differ, first {bad[:3]}"


# ---- running the pipeline and keeping every step --------------------------------------------


def duckdb_run(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, pl.DataFrame]:
    """Every step's table and every output, on DuckDB."""
    con = duckdb.connect()
    try:
        backend = engine.DuckDBBackend(con)
        engine.register_tables(backend, tables)
        engine.run_pipeline(backend, params)
        steps = {s: backend.fetch(f"SELECT * FROM {s}") for s in engine.PIPELINE}
        return {**steps, **engine.collect_outputs(backend)}
    finally:
        con.close()


def spark_run(session: Any, tables: dict[str, pl.DataFrame], params: Params,
              with_steps: bool = True) -> dict[str, pl.DataFrame]:
    """The same on Spark (each step's view read back before the run's views are dropped)."""
    from metrics.pipeline.spark import SparkBackend

    backend = SparkBackend(session)
    try:
        engine.register_tables(backend, tables)
        engine.run_pipeline(backend, params)
        steps = ({s: backend.fetch(f"SELECT * FROM {s}") for s in engine.PIPELINE}
                 if with_steps else {})
        return {**steps, **engine.collect_outputs(backend)}
    finally:
        backend.close()


def assert_engines_agree(duck: dict[str, pl.DataFrame], spark_out: dict[str, pl.DataFrame]
                         ) -> None:
    assert set(spark_out) <= set(duck)
    assert set(engine.OUTPUTS) <= set(spark_out)
    for name, frame in spark_out.items():
        assert_same_frame(name, duck[name], frame, ordered=name in engine.OUTPUTS)


def read_sample() -> dict[str, pl.DataFrame]:
    from metrics.ingest import ExtractFiles, read_extract

    files = ExtractFiles((SAMPLE / "appointments.csv",), SAMPLE / "patients.csv",
                         SAMPLE / "practices.csv", None)
    return read_extract(files).tables


SMALL = SampleConfig(practices=3, pcns=2, months=15, scale=0.02)  # ~4k appointments


# ---- translation (no Spark needed) -----------------------------------------------------------


def query_names() -> list[str]:
    """The steps and outputs queries/pipeline.toml declares Spark-portable."""
    return list(spark_queries())


@pytest.mark.parametrize("query", query_names())
def test_every_step_and_output_translates_to_spark_sql(query: str) -> None:
    translated = to_dialect(engine.query_text(query), "spark")
    assert translated.lstrip().upper().startswith(("SELECT", "WITH", "("))


def test_fractional_literals_become_double_not_decimal() -> None:
    sql = to_dialect("SELECT (1.0 - s / (n + 0.1)) AS x FROM t", "spark")
    assert "CAST(0.1 AS DOUBLE)" in sql and "CAST(1.0 AS DOUBLE)" in sql


def test_month_differences_count_calendar_boundaries_as_duckdb_does() -> None:
    sql = to_dialect("SELECT date_diff('month', a, b) AS m FROM t", "spark")
    assert "DATEDIFF" not in sql.upper()
    assert "MONTH(b)" in sql and "YEAR(a)" in sql


# ---- PySpark stays optional ------------------------------------------------------------------


def dashboard_imports() -> list[str]:
    """The modules dashboard.py and its pages import (pages are scripts: not imported here)."""
    names: set[str] = set()
    for path in [ROOT / "dashboard.py", *sorted((ROOT / "views").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                if node.module in ("metrics", "views"):  # from metrics import results
                    names |= {f"{node.module}.{a.name}" for a in node.names}
    return sorted(names - {"__future__"})


def test_the_package_cli_and_dashboard_code_import_without_pyspark() -> None:
    modules = ["metrics", "metrics.pipeline.engine", "metrics.cli", "metrics.pipeline.spark",
               "metrics.pipeline.dialect", *dashboard_imports()]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n    importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.fixture
def no_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if PySpark were not installed: importing it fails."""
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)


WINDOW = Params(date(2024, 1, 1), date(2025, 12, 31))


def test_without_pyspark_the_spark_engine_is_one_engine_error(no_pyspark: None) -> None:
    with pytest.raises(EngineError) as raised:
        spark_compute(extract(visits("p1", "AB")), WINDOW)
    assert str(raised.value) == "the Spark engine needs PySpark: pip install -r " \
                                "requirements-spark.txt"


def test_without_pyspark_the_cli_says_so_in_one_line_and_exits_2(
        no_pyspark: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["compute", "--engine", "spark", *extract_arguments(SAMPLE),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == ["error: the Spark engine needs PySpark: pip install -r "
                                "requirements-spark.txt"]
    assert not (tmp_path / "out").exists()


def test_without_java_the_spark_engine_is_one_engine_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    import pyspark.sql

    from metrics.pipeline import spark as spark_engine

    monkeypatch.setattr(pyspark.sql.SparkSession, "getActiveSession", classmethod(
        lambda cls: None))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark_engine.shutil, "which", lambda name: None)
    with pytest.raises(EngineError) as raised:
        spark_engine.start_session("local[2]")
    assert str(raised.value) == spark_engine.JAVA_HINT
    assert "\n" not in str(raised.value)


# ---- parity on Spark -------------------------------------------------------------------------

CONSTRUCTS = """
SELECT id,
       date_diff('day', a, b) AS days,
       date_diff('month', a, b) AS months,
       date_diff('quarter', a, b) AS quarters,
       date_diff('year', a, b) AS years,
       CAST(date_trunc('month', b) AS DATE) AS month_start,
       year(b) * 12 + month(b) AS month_number,
       ceil(n / 2.0) AS half_up,
       CAST(ceil(n / 2.0) AS INTEGER) AS quintile,
       (1.0 - s / (n + 0.1)) / (1.0 - 1.0 / (n + 0.1)) AS mmci,
       CAST(n AS DOUBLE) / 3 AS third,
       least(12, n) AS capped,
       coalesce(CAST(CAST(ceil(n / 2.0) AS INTEGER) AS VARCHAR), 'unknown') AS band
FROM (VALUES (1, DATE '2024-01-31', DATE '2024-02-01', 7, 3),
             (2, DATE '2023-12-31', DATE '2024-01-01', 10, 1),
             (3, DATE '2024-03-15', DATE '2024-03-16', 3, 3),
             (4, DATE '2022-05-01', DATE '2024-04-30', 1, 1),
             (5, DATE '2024-02-01', DATE '2024-01-31', 2, 2)) AS t(id, a, b, n, s)
ORDER BY id
"""

ORDERING = """
SELECT k, v, row_number() OVER (PARTITION BY k ORDER BY t ASC NULLS LAST, v) AS r,
       lag(v) OVER (PARTITION BY k ORDER BY t, v) AS previous,
       arg_max(v, t) OVER (PARTITION BY k) AS latest
FROM (VALUES ('a', 'x', NULL), ('a', 'y', '09:00'), ('a', 'Z', '08:00'), ('b', 'x', '10:00'))
     AS u(k, v, t)
QUALIFY r <= 2
ORDER BY k, r
"""


@spark
@pytest.mark.parametrize("sql", [CONSTRUCTS, ORDERING], ids=["scalar", "ordering"])
def test_each_rewritten_construct_means_the_same_on_both_engines(spark_session: Any,
                                                                 sql: str) -> None:
    from metrics.pipeline.spark import to_polars

    duck = duckdb.sql(sql).pl()
    spark_frame = to_polars(spark_session.sql(to_dialect(sql, "spark")))
    assert_same_frame("constructs", duck, spark_frame, ordered=True)


@pytest.fixture(scope="module")
def sample_tables() -> dict[str, pl.DataFrame]:
    return read_sample()


@spark
def test_every_table_and_column_agrees_on_the_shipped_sample(
        spark_session: Any, sample_tables: dict[str, pl.DataFrame]) -> None:
    last = sample_tables["appointments"]["appointment_date"].max()
    assert isinstance(last, date)
    params = Params.last_24_months(last)
    duck = duckdb_run(sample_tables, params)
    assert duck["patients"].height > 1000  # the comparison covers real volume
    assert_engines_agree(duck, spark_run(spark_session, sample_tables, params))


@spark
def test_outputs_agree_on_a_generated_extract_with_other_options(spark_session: Any) -> None:
    tables = generate(SMALL)
    params = Params(date(2025, 1, 1), date(2026, 6, 30), min_contacts=3, staff_group="clinical",
                    modes=("face_to_face", "telephone"), collapse_same_day=False)
    duck = duckdb_run(tables, params)
    assert duck["practices"]["eligible_patients"].sum() > 50
    assert_engines_agree(duck, spark_run(spark_session, tables, params, with_steps=False))


# ---- the CLI ---------------------------------------------------------------------------------


def extract_arguments(folder: Path, suffix: str = "csv") -> list[str]:
    return [f"--{t}={folder / f'{t}.{suffix}'}" for t in ("appointments", "patients",
                                                          "practices")]


@pytest.fixture(scope="module")
def small_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SMALL generated extract written as CSV and as Parquet files."""
    folder = tmp_path_factory.mktemp("extract")
    for name, frame in generate(SMALL).items():
        frame.write_csv(folder / f"{name}.csv")
        frame.write_parquet(folder / f"{name}.parquet")
    return folder


def assert_same_files(duck: Path, spark_dir: Path) -> None:
    """Every CSV byte-equal, or equal cell by cell (floats to TOLERANCE); definitions.json
    equal but for the engine named."""
    names = sorted(p.name for p in duck.iterdir())
    assert names == sorted(p.name for p in spark_dir.iterdir())
    assert {f"{o}.csv" for o in engine.OUTPUTS} <= set(names)
    for name in names:
        left, right = (duck / name).read_text(), (spark_dir / name).read_text()
        if name == "definitions.json":
            assert left.replace('"engine": "duckdb"', '"engine": "spark"') == right
        elif left != right:
            a = pl.read_csv(duck / name, infer_schema=False)
            b = pl.read_csv(spark_dir / name, infer_schema=False)
            assert a.columns == b.columns and a.height == b.height, name
            for column in a.columns:
                for x, y in zip(a[column].to_list(), b[column].to_list(), strict=True):
                    assert x == y or values_equal(float(x), float(y)), (name, column, x, y)


def cli_compute(folder: Path, suffix: str, out: Path, *engine_options: str) -> None:
    code = cli.main(["--quiet", "compute", *extract_arguments(folder, suffix), "--out", str(out),
                     *engine_options])
    assert code == 0


@spark
def test_cli_on_spark_writes_the_files_duckdb_writes_from_csv(small_extract: Path,
                                                               tmp_path: Path) -> None:
    """The real command in its own process (its own JVM, started and stopped by the CLI), run
    from an analyst's folder, which it leaves as it was (no `spark-warehouse` left behind)."""
    cli_compute(small_extract, "csv", tmp_path / "duckdb")
    folder = tmp_path / "analyst"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "metrics", "--quiet", "compute", "--engine", "spark",
         "--spark-master", "local[2]", *extract_arguments(small_extract),
         "--out", str(tmp_path / "spark")],
        cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same_files(tmp_path / "duckdb", tmp_path / "spark")
    assert list(folder.iterdir()) == []


@spark
def test_cli_on_spark_writes_the_files_duckdb_writes_from_parquet(
        spark_session: Any, small_extract: Path, tmp_path: Path) -> None:
    """In this process: the CLI uses the running session (as in a notebook) and leaves it on."""
    cli_compute(small_extract, "parquet", tmp_path / "duckdb")
    cli_compute(small_extract, "parquet", tmp_path / "spark", "--engine", "spark")
    assert_same_files(tmp_path / "duckdb", tmp_path / "spark")
    assert not spark_session.sparkContext._jsc.sc().isStopped()



@spark
def test_lake_tables_in_spark_dataframes_out_agree_with_duckdb(
        spark_session: Any, small_extract: Path) -> None:
    """compute_on_spark: the workspace path, reading Parquet with Spark, nothing collected."""
    from metrics.pipeline.spark import compute_on_spark, to_polars

    tables = generate(SMALL)
    params = Params(date(2025, 1, 1), date(2026, 6, 30))
    sources = {t: spark_session.read.parquet(str(small_extract / f"{t}.parquet"))
               for t in ("appointments", "patients", "practices")}
    backend, outputs, used = compute_on_spark(spark_session, sources, params)
    try:
        assert used == params
        got = {name: to_polars(frame) for name, frame in outputs.items()}
    finally:
        backend.close()
    duck = duckdb_run(tables, params)
    for name in engine.OUTPUTS:
        assert_same_frame(name, duck[name], got[name], ordered=True)
