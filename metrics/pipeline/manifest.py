"""The SQL pipeline as declared once, in queries/pipeline.toml: which file each query name is,
the steps in order, and what each step is to the engine, the refresh and Spark.

Why: step order, per-month behaviour, refresh roles and portability were spread over lists in
several modules and over which files happened to exist. Declared beside the SQL, they are read
here and nowhere else, and tests/unit/test_pipeline_manifest.py checks them against the SQL itself.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
MANIFEST = QUERIES_DIR / "pipeline.toml"

STAGES = ("patients", "contacts", "indices", "groups", "series")
# The folder (under queries/) of each kind of file that is not a pipeline step.
KIND_FOLDERS: dict[str, str] = {"output": "outputs", "refresh": "refresh", "gpad": "gpad",
                                "read": "reads", "ingest": "ingest"}
REFRESH_ROLES = ("merged", "boundary_months")

STEP_KEYS = {"name", "stage", "spark", "per_month", "result", "refresh", "refresh_query",
             "state", "state_query", "keep_in_place"}
QUERY_KEYS = {"name", "kind", "output", "spark"}


class ManifestError(RuntimeError):
    """queries/pipeline.toml is inconsistent, or a query name is not declared in it."""


@dataclass(frozen=True)
class Query:
    """One SQL file: its name (the file's stem), kind ("step" or a KIND_FOLDERS key) and
    folder under queries/."""

    name: str
    kind: str
    folder: str
    spark: bool = False
    output: str | None = None  # kind "output": the CLI's name for it (<output>.csv)

    @property
    def path(self) -> Path:
        return QUERIES_DIR / self.folder / f"{self.name}.sql"


@dataclass(frozen=True)
class Step:
    """One pipeline step, as declared (field meanings: the header of queries/pipeline.toml)."""

    name: str
    stage: str
    order: int  # position in the pipeline, from 0
    spark: bool = False
    per_month: str | None = None  # the spans table its query reads whole
    result: bool = False
    refresh: str | None = None  # a REFRESH_ROLES value, or None: rerun in full
    refresh_query: str | None = None
    state: bool = False
    state_query: str | None = None
    keep_in_place: str | None = None

    @property
    def folder(self) -> str:
        return f"pipeline/{self.stage}"


@dataclass(frozen=True)
class Manifest:
    """Every declared step (in order) and every declared file by name (steps included)."""

    steps: tuple[Step, ...]
    queries: dict[str, Query]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise ManifestError(f"{name} is not a pipeline step in {MANIFEST.name}")

    def of_kind(self, kind: str) -> tuple[Query, ...]:
        return tuple(q for q in self.queries.values() if q.kind == kind)


def _checked_keys(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = ", ".join(sorted(set(entry) - allowed))
    if unknown or "name" not in entry:
        problem = f"unknown keys {unknown}" if unknown else "no name"
        raise ManifestError(f"{MANIFEST.name}: {where} {entry.get('name', '?')}: {problem}")


def parse(data: dict[str, Any]) -> Manifest:
    """The manifest from the parsed TOML, refusing what would make it ambiguous."""
    steps: list[Step] = []
    queries: dict[str, Query] = {}

    def declare(query: Query) -> None:
        if query.name in queries:
            raise ManifestError(f"{MANIFEST.name}: {query.name} is declared twice")
        queries[query.name] = query

    for order, entry in enumerate(data.get("step", [])):
        _checked_keys(entry, STEP_KEYS, "step")
        step = Step(order=order, **entry)
        if step.stage not in STAGES:
            raise ManifestError(f"{MANIFEST.name}: step {step.name}: unknown stage {step.stage}")
        if (step.refresh is None) != (step.refresh_query is None) or (
                step.refresh not in (None, *REFRESH_ROLES)):
            raise ManifestError(f"{MANIFEST.name}: step {step.name}: refresh must be one of "
                                f"{', '.join(REFRESH_ROLES)}, with its refresh_query")
        if not step.state and (step.state_query or step.keep_in_place):
            raise ManifestError(f"{MANIFEST.name}: step {step.name}: state_query and "
                                "keep_in_place need state = true")
        steps.append(step)
        declare(Query(step.name, "step", step.folder, step.spark))
    for entry in data.get("query", []):
        _checked_keys(entry, QUERY_KEYS, "query")
        kind = entry.get("kind", "")
        if kind not in KIND_FOLDERS:
            raise ManifestError(f"{MANIFEST.name}: query {entry['name']}: unknown kind {kind!r}")
        if (kind == "output") != ("output" in entry):
            raise ManifestError(f"{MANIFEST.name}: query {entry['name']}: an output, and only "
                                "an output, names its CLI output")
        declare(Query(folder=KIND_FOLDERS[kind], **entry))
    for step in steps:
        for named in (step.refresh_query, step.state_query, step.keep_in_place):
            declared = queries.get(named) if named is not None else None
            if named is not None and (declared is None or declared.kind != "refresh"):
                raise ManifestError(f"{MANIFEST.name}: step {step.name}: {named} is not a "
                                    "declared refresh query")
    return Manifest(tuple(steps), queries)


@cache
def manifest() -> Manifest:
    """queries/pipeline.toml, read once."""
    with MANIFEST.open("rb") as file:
        return parse(tomllib.load(file))


def query_path(name: str) -> Path:
    """The file of a declared query name."""
    query = manifest().queries.get(name)
    if query is None:
        raise ManifestError(f"no query {name} is declared in {MANIFEST}")
    return query.path


@cache
def query_text(name: str) -> str:
    """The SQL of a declared query (header comment included)."""
    path = query_path(name)
    if not path.is_file():
        raise ManifestError(f"{name} is declared in {MANIFEST.name} but {path} does not exist")
    return path.read_text(encoding="utf-8")
