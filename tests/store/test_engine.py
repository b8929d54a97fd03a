"""The engine's own mechanics, which no index defines but every result relies on: how the
pipeline numbers patients and groups them (queries/pipeline/patients/patient_keys.sql,
queries/pipeline/groups/patient_cells.sql), the spans the monthly steps read
(queries/pipeline/series/pair_spans.sql), and that a step computed a few months per query equals
it over all months, however the months are cut (metrics/pipeline/engine.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.params import Params
from metrics.pipeline import engine
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


@pytest.mark.parametrize("months_per_query", [1, 5])
def test_a_few_months_per_query_give_the_rows_of_all_months_at_once(
        months_per_query: int) -> None:
    # DuckDB computes engine.PER_MONTH_STEPS a few months per query, one at a time on a large
    # extract (Spark in one query): the rows must not depend on how the months are cut (5 cuts
    # the window's 24 months unevenly).
    tables = generate(SampleConfig(practices=2, pcns=1, scale=0.01))
    by_month, at_once = _loaded(tables), _loaded(tables)
    by_month.months_per_query = months_per_query
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


def test_a_query_covers_fewer_months_the_larger_its_spans_table() -> None:
    # every month of the window at 1M appointments (216,000 GP spans), about five at 10M,
    # one at a time from about 30M (engine.SPAN_ROWS_PER_QUERY)
    assert engine.months_per_query(216_087, 24) == 24
    assert engine.months_per_query(2_165_960, 24) == 5
    assert engine.months_per_query(15_000_000, 24) == 1
    assert engine.months_per_query(0, 24) == 24
    assert engine.months_per_query(100, 3) == 3


def test_month_batches_cover_every_month_once_in_order() -> None:
    months = engine.months_frame(engine.months_in(Params(date(2024, 11, 1),
                                                         date(2026, 10, 31))))
    for per_query in (1, 5, 24, 30):
        batches = engine.month_batches(months, per_query)
        assert [b.height for b in batches[:-1]] == [per_query] * (len(batches) - 1)
        assert 1 <= batches[-1].height <= per_query
        assert_frame_equal(pl.concat(batches), months)
    assert len(engine.month_batches(months, 5)) == 5  # 5 + 5 + 5 + 5 + 4


def test_the_backend_cuts_by_the_size_of_the_step_s_spans_table(
        computed: engine.DuckDBBackend) -> None:
    months = computed.fetch("SELECT * FROM months ORDER BY month_start")
    rows = computed.fetch("SELECT count(*) AS n FROM counted_spans")["n"][0]
    assert rows < engine.SPAN_ROWS_PER_QUERY / 24  # a small extract: every month in one query
    assert [b.height for b in computed.month_batches(months, "counted_spans")] == [24]


def test_pair_spans_count_each_pair_s_twelve_months_ending_with_each_month() -> None:
    # Staff group "clinical": nurses' contacts count in n (UPC's) but not in gp_n (SLICC's), so
    # the two counts of one window differ. Expected by brute force from the monthly counts.
    backend = _loaded(generate(SampleConfig(practices=2, pcns=1, scale=0.01)))
    engine.run_pipeline(backend, replace(engine.default_params(backend), staff_group="clinical"))
    day = pl.col("last_date").cast(pl.Int32).alias("last_day")
    monthly = backend.fetch("SELECT patient_key, clinician_key, month_number, n, gp_n, "
                            "gp_last_date AS last_date FROM patient_clinician_monthly"
                            ).with_columns(day).drop("last_date")
    pair = ["patient_key", "clinician_key"]
    first, last = monthly["month_number"].min(), monthly["month_number"].max()
    grid = (monthly.select(pair).unique()
            .join(pl.DataFrame({"month_number": range(first, last + 12)},
                               schema={"month_number": pl.Int32}), how="cross")
            .join(monthly, on=[*pair, "month_number"], how="left").fill_null(0)
            .sort([*pair, "month_number"]))
    twelve = {"window_size": 12, "min_samples": 1}
    expected = grid.with_columns(
        pl.col("n").rolling_sum(**twelve).over(pair),
        pl.col("gp_n").rolling_sum(**twelve).over(pair),
        pl.col("last_day").rolling_max(**twelve).over(pair),
    ).filter((pl.col("n") > 0) | (pl.col("gp_n") >= 2))
    spans = backend.fetch("SELECT * FROM pair_spans").with_columns(day)
    covered = (spans.with_columns(pl.int_ranges("from_month", "to_month", dtype=pl.Int32)
                                  .alias("month_number"))
               .explode("month_number"))
    assert covered.select([*pair, "month_number"]).is_duplicated().sum() == 0  # one span a month
    columns = [*pair, "month_number", "n", "gp_n"]
    assert_frame_equal(covered.select(columns).sort(columns),
                       expected.select(columns).sort(columns))
    assert (monthly["n"] != monthly["gp_n"]).sum() > 100
    # the latest GP contact, where a GP history is read (gp_spans: two contacts or more)
    gp = [*pair, "month_number", "last_day"]
    assert_frame_equal(covered.filter(pl.col("gp_n") >= 2).select(gp).sort(gp),
                       expected.filter(pl.col("gp_n") >= 2).select(gp).sort(gp))
