"""Shared fixtures: `compute` runs the whole pipeline on one engine (spec tests run on every
engine, as in OpenSAFELY's ehrql)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from metrics.engine import compute_tables
from metrics.params import Params

Compute = Callable[[dict[str, pl.DataFrame], Params], dict[str, pl.DataFrame]]

ENGINES = ["duckdb"]


@pytest.fixture(params=ENGINES, scope="session")
def compute(request: pytest.FixtureRequest) -> Compute:
    engine = request.param

    def run(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, pl.DataFrame]:
        return compute_tables(tables, params, engine=engine)

    return run
