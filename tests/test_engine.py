"""The engine's own mechanics, which no index defines but every result relies on: how the
pipeline numbers patients and groups them (queries/patient_keys.sql, queries/patient_cells.sql),
and that a step computed a month at a time equals it over all months (metrics/engine.py)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import engine
from metrics.sample import SampleConfig, generate


def _loaded(tables: dict[str, pl.DataFrame]) -> engine.DuckDBBackend:
    backend = engine.DuckDBBackend(duckdb.connect())
    engine.register_tables(backend, tables)
    return backend


@pytest.fixture(scope="module")
def computed() -> engine.DuckDBBackend:
    backend = _loaded(generate(SampleConfig(practices=3, pcns=1, scale=0.01)))
    engine.run_pipeline(backend, engine.default_params(backend))
    return backend


def test_every_patient_has_one_key_numbered_practice_by_practice(
        computed: engine.DuckDBBackend) -> None:
    keys = computed.fetch("SELECT patient_id, practice_code, patient_key FROM patient_keys")
    patients = computed.fetch("SELECT patient_id FROM patient_practice")
    assert keys.height == patients.height > 100
    assert sorted(keys["patient_id"]) == sorted(patients["patient_id"])
    # dense 1..n, in (practice_code, patient_id) order
    ordered = keys.sort("practice_code", "patient_id")
    assert ordered["patient_key"].to_list() == list(range(1, keys.height + 1))
    assert keys["practice_code"].n_unique() > 1


def test_patients_share_a_cell_exactly_when_they_share_every_attribute(
        computed: engine.DuckDBBackend) -> None:
    cells = computed.fetch("SELECT * FROM patient_cells")
    attributes = ["practice_code", "usual_gp_id", "age_band", "imd_quintile", "contacts_band"]
    per_cell = cells.group_by("cell_id").agg(pl.struct(attributes).n_unique().alias("kinds"))
    assert per_cell["kinds"].max() == 1  # one set of attributes per cell
    assert cells.select(attributes).n_unique() == cells["cell_id"].n_unique()
    assert sorted(cells["cell_id"].unique()) == list(range(1, cells["cell_id"].n_unique() + 1))
    assert cells.height == computed.fetch("SELECT count(*) AS n FROM patient_contacts")["n"][0]


def test_a_month_at_a_time_gives_the_rows_of_all_months_at_once() -> None:
    # DuckDB computes engine.PER_MONTH_STEPS one month at a time (Spark in one query): the rows
    # must not depend on which.
    tables = generate(SampleConfig(practices=2, pcns=1, scale=0.01))
    by_month, at_once = _loaded(tables), _loaded(tables)
    params = engine.default_params(by_month)
    engine.run_pipeline(by_month, params)
    for name, frame in engine.parameter_frames(params).items():
        at_once.register(name, frame)
    for step in engine.PIPELINE:
        at_once.materialise(step, engine.query_text(step))
    assert engine.PER_MONTH_STEPS
    for step in engine.PER_MONTH_STEPS:
        rows = [b.fetch(f"SELECT * FROM {step}") for b in (by_month, at_once)]
        keys = [c for c, t in rows[0].schema.items() if not t.is_float()]
        rows = [r.sort(keys) for r in rows]
        assert rows[0].height > 200  # rows in every month (e.g. lists x 24 months)
        # sums of doubles in another order: equal to 1e-12
        assert_frame_equal(rows[0], rows[1], check_exact=False, rel_tol=1e-12, abs_tol=0)
