"""queries/pipeline.toml, the one declaration of the SQL pipeline (metrics/pipeline/manifest.py),
checked against the files and the SQL itself:

- every .sql file under queries/ is declared exactly once, in the folder of its kind or stage,
  and every declared file exists;
- the declared order is a dependency order: each step reads only input tables and steps
  declared before it (as sqlglot parses its SQL);
- a per-month step's spans table is an earlier step that it reads;
- the refresh's files are declared as refresh queries, and each is used;
- the Spark-portable files are the steps and outputs metrics/pipeline/spark.py runs.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from metrics.params import Params
from metrics.pipeline import engine, refresh
from metrics.pipeline.manifest import (
    KIND_FOLDERS,
    MANIFEST,
    QUERIES_DIR,
    ManifestError,
    Step,
    manifest,
    parse,
)
from metrics.pipeline.spark import spark_queries
from metrics.schema import TABLES

ROOT = Path(__file__).resolve().parents[2]
# What a step may read besides earlier steps: the canonical tables and the parameter tables.
INPUT_TABLES = frozenset(TABLES) | frozenset(
    engine.parameter_frames(Params(date(2024, 11, 1), date(2026, 10, 31))))


def tables_read(name: str) -> set[str]:
    """The tables a query reads: every table its SQL names, less its own CTEs."""
    tree = sqlglot.parse_one(engine.query_text(name), read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {table.name for table in tree.find_all(exp.Table)} - ctes


def order_problems(steps: tuple[Step, ...]) -> list[str]:
    """Each table a step reads that is neither an input table nor a step declared before it."""
    problems, earlier = [], set()
    for step in steps:
        for table in sorted(tables_read(step.name) - INPUT_TABLES - earlier):
            problems.append(f"{step.name} reads {table}, which is not declared before it")
        earlier.add(step.name)
    return problems


# ---- files ----------------------------------------------------------------------------------


def test_every_sql_file_is_declared_exactly_once_and_every_declared_file_exists() -> None:
    with MANIFEST.open("rb") as file:
        raw = tomllib.load(file)
    names = Counter(entry["name"] for entry in (*raw["step"], *raw["query"]))
    assert [name for name, n in names.items() if n > 1] == []
    files = {p.relative_to(QUERIES_DIR).as_posix() for p in QUERIES_DIR.rglob("*.sql")}
    declared = {q.path.relative_to(QUERIES_DIR).as_posix() for q in manifest().queries.values()}
    assert sorted(files - declared) == []  # on disk, not declared (or in another folder)
    assert sorted(declared - files) == []  # declared, not on disk
    assert len(manifest().queries) == len(files) == sum(names.values())


def test_each_file_lives_in_the_folder_of_its_stage_or_kind() -> None:
    for step in manifest().steps:
        assert step.folder == f"pipeline/{step.stage}"
    for query in manifest().queries.values():
        if query.kind != "step":
            assert query.folder == KIND_FOLDERS[query.kind]


def test_names_resolve_through_the_manifest_and_unknown_names_are_refused() -> None:
    assert engine.query_text("group_practices").startswith("-- group_practices:")
    with pytest.raises(engine.EngineError, match="no query no_such_query is declared"):
        engine.query_text("no_such_query")
    with pytest.raises(ManifestError, match="declared twice"):
        parse({"step": [{"name": "upc", "stage": "indices"}],
               "query": [{"name": "upc", "kind": "read"}]})
    with pytest.raises(ManifestError, match="unknown keys"):
        parse({"step": [{"name": "upc", "stage": "indices", "per_mnth": "gp_spans"}]})


# ---- order ----------------------------------------------------------------------------------


def test_each_step_reads_only_input_tables_and_steps_declared_before_it() -> None:
    assert order_problems(manifest().steps) == []


def test_swapping_two_dependent_steps_breaks_the_order() -> None:
    steps = list(manifest().steps)
    keys, contacts = engine.PIPELINE.index("patient_keys"), engine.PIPELINE.index("contacts")
    steps[keys], steps[contacts] = steps[contacts], steps[keys]
    assert "contacts reads patient_keys, which is not declared before it" in order_problems(
        tuple(steps))


def test_a_per_month_step_reads_its_spans_table_an_earlier_step() -> None:
    assert engine.PER_MONTH_STEPS  # inferred_gp, list_rolling_upc
    for name, spans in engine.PER_MONTH_STEPS.items():
        step, spans_step = manifest().step(name), manifest().step(spans)
        assert spans_step.order < step.order
        assert spans in tables_read(name)
        assert "months" in tables_read(name)  # what the backend cuts into batches


def test_outputs_and_results_read_the_pipeline() -> None:
    for query in engine.OUTPUTS.values():
        assert tables_read(query) <= INPUT_TABLES | set(engine.PIPELINE), query
    assert set(engine.RESULT_TABLES) <= set(engine.PIPELINE)
    assert len(engine.OUTPUTS) == len(manifest().of_kind("output"))


# ---- refresh --------------------------------------------------------------------------------


def test_refresh_roles_name_declared_refresh_queries() -> None:
    assert refresh.MERGED_STEPS and refresh.BOUNDARY_MONTH_STEPS and refresh.KEPT_STATE_STEPS
    assert not set(refresh.MERGED_STEPS) & set(refresh.BOUNDARY_MONTH_STEPS)
    for step in manifest().steps:
        for name in (step.refresh_query, step.state_query, step.keep_in_place):
            if name is not None:
                assert manifest().queries[name].kind == "refresh", (step.name, name)
    # the new month runs every step up to the last merged one, which are all among them
    assert set(refresh.MERGED_STEPS) <= set(refresh.NEW_MONTH_STEPS)
    assert engine.PIPELINE[:len(refresh.NEW_MONTH_STEPS)] == refresh.NEW_MONTH_STEPS


def test_every_query_that_is_not_a_step_or_an_output_is_used() -> None:
    # by a step's refresh role, or by name in metrics/ (outputs are used through OUTPUTS)
    named_by_steps = {n for s in manifest().steps
                      for n in (s.refresh_query, s.state_query, s.keep_in_place) if n}
    code = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "metrics").rglob("*.py")))
    unused = [q.name for q in manifest().queries.values()
              if q.kind not in ("step", "output") and q.name not in named_by_steps
              and f'"{q.name}"' not in code]
    assert unused == []


def test_a_step_with_a_refresh_role_names_its_query() -> None:
    with pytest.raises(ManifestError, match="refresh must be one of"):
        parse({"step": [{"name": "contacts", "stage": "contacts", "refresh": "merged"}]})
    with pytest.raises(ManifestError, match="not a declared refresh query"):
        parse({"step": [{"name": "contacts", "stage": "contacts", "refresh": "merged",
                         "refresh_query": "refresh_contacts"}]})


# ---- Spark ----------------------------------------------------------------------------------


def test_the_spark_portable_files_are_the_steps_and_outputs_spark_runs() -> None:
    # Spark runs engine.run_pipeline (every step) and engine.collect_outputs (OUTPUTS)
    assert set(spark_queries()) == {*engine.PIPELINE, *engine.OUTPUTS.values()}
    assert all(step.spark for step in manifest().steps)


def test_a_step_not_declared_portable_is_refused_on_spark(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from metrics.pipeline import spark

    portable = tuple(q for q in spark_queries() if q != "upc")
    monkeypatch.setattr(spark, "spark_queries", lambda: portable)
    backend = spark.SparkBackend.__new__(spark.SparkBackend)  # no session: refused before SQL
    with pytest.raises(engine.EngineError, match="step upc is not declared Spark-portable"):
        backend.materialise("upc", engine.query_text("upc"))
