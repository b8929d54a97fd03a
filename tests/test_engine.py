"""The engine's own keys and cells: how the pipeline numbers patients and groups them, which
no index defines but every roll-up relies on (metrics/engine.py, queries/patient_keys.sql,
queries/patient_cells.sql)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from metrics import engine
from metrics.sample import SampleConfig, generate


@pytest.fixture(scope="module")
def computed() -> engine.DuckDBBackend:
    backend = engine.DuckDBBackend(duckdb.connect())
    engine.register_tables(backend, generate(SampleConfig(practices=3, pcns=1, scale=0.01)))
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
