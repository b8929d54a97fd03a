"""Shared fixtures: `compute` runs the whole pipeline on one engine (spec tests run on every
engine, as in OpenSAFELY's ehrql).

The Spark parameter is marked `spark` (`pytest -m spark` runs it alone, `-m "not spark"` leaves
it out) and shares one local[2] session per test session; it is skipped, with the reason shown,
where PySpark or Java is not installed. Property-based tests take fewer examples on Spark
(SPARK_MAX_EXAMPLES): each example is a whole pipeline run of ~35 Spark queries.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
from hypothesis import settings

from metrics.params import Params
from metrics.pipeline.engine import compute_tables
from tests.servers import CHROMIUM_FLAGS, chromium_path

Compute = Callable[[dict[str, pl.DataFrame], Params], dict[str, pl.DataFrame]]

SPARK_MASTER = "local[2]"
SPARK_MAX_EXAMPLES = 4
# A test session's data are tiny: one shuffle partition saves scheduling on 2 cores, and the
# JVM's quick compiler alone (C1) saves compiling hot code it would not run long enough to gain
# from: about an eighth of the Spark tests' time (benchmarks aside, the product keeps both).
SPARK_TEST_CONF = {"spark.sql.shuffle.partitions": "1",
                   "spark.driver.extraJavaOptions": "-Dlog4j2.level=error "
                                                    "-XX:TieredStopAtLevel=1"}


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install -r requirements-spark.txt)"
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "Java is not installed (the Spark engine needs Java 17)"
    return None


ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local[2] SparkSession for the whole test session (~8 s to start)."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    from metrics.pipeline.spark import start_session

    session = start_session(SPARK_MASTER, app_name="continuity-tests", conf=SPARK_TEST_CONF)
    yield session
    session.stop()


@pytest.fixture(params=ENGINES, scope="session")
def compute(request: pytest.FixtureRequest) -> Compute:
    engine = request.param
    if engine == "spark":
        from metrics.pipeline.spark import compute_tables_spark

        session = request.getfixturevalue("spark_session")

        def run_spark(tables: dict[str, pl.DataFrame], params: Params
                      ) -> dict[str, pl.DataFrame]:
            return compute_tables_spark(tables, params, spark=session)

        return run_spark

    def run(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, pl.DataFrame]:
        return compute_tables(tables, params)

    return run


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spark runs (a JVM plans the whole pipeline, seconds a run) and browser tests are slow as
    well: `-m "not slow"` is the quick run of everything else."""
    for item in items:
        browser = "e2e" in item.path.parts or item.get_closest_marker("e2e")
        if browser or item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Property-based tests on the Spark engine run SPARK_MAX_EXAMPLES examples (deadline off).

    Hypothesis reads a test's settings when it is called, from the attribute @settings sets on
    it; it is swapped for this call only, so the DuckDB run keeps its own example count.
    """
    callspec = getattr(item, "callspec", None)
    function = getattr(item, "obj", None)
    if (callspec is None or callspec.params.get("compute") != "spark"
            or not hasattr(function, "hypothesis")):
        return (yield)
    attribute = "_hypothesis_internal_use_settings"
    assert hasattr(function, attribute), "hypothesis changed: cannot cut Spark examples"
    original = getattr(function, attribute)
    fewer = min(original.max_examples, SPARK_MAX_EXAMPLES)
    setattr(function, attribute, settings(original, max_examples=fewer, deadline=None))
    try:
        return (yield)
    finally:
        setattr(function, attribute, original)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright drives Debian's chromium (playwright cannot download its own here)."""
    path = chromium_path()
    if path is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_FLAGS}
