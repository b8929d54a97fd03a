"""Monthly decile bands and percentile ranks (OpenPrescribing: PERCENTILE_CONT, PERCENT_RANK)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from metrics.stats.deciles import PERCENTILES, decile_bands, percentile_ranks

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


@pytest.fixture
def slicc() -> pl.DataFrame:
    return pl.DataFrame({
        "month": [JAN] * 5 + [FEB] * 3 + [MAR] * 2,
        "practice": ["A", "B", "C", "D", "E", "A", "B", "C", "A", "B"],
        "icb": ["Q1", "Q1", "Q1", "Q2", "Q2", "Q1", "Q1", "Q2", "Q1", "Q1"],
        "slicc": [0.1, 0.2, 0.2, 0.4, None, 0.5, float("nan"), 0.3, None, None],
    })


def test_deciles_interpolate_linearly_between_ordered_values(slicc):
    bands = decile_bands(slicc, "month", "slicc")
    jan = bands.row(0, named=True)
    # sorted 0.1, 0.2, 0.2, 0.4: the p-th percentile sits at position 3p/100
    assert jan["units"] == 4
    assert [jan[f"p{p}"] for p in PERCENTILES] == pytest.approx(
        [0.13, 0.16, 0.19, 0.2, 0.2, 0.2, 0.22, 0.28, 0.34])
    assert jan["p50"] == pytest.approx(float(np.median([0.1, 0.2, 0.2, 0.4])))


def test_a_month_without_values_keeps_its_row_with_blank_bands(slicc):
    bands = decile_bands(slicc, "month", "slicc")
    assert bands["month"].to_list() == [JAN, FEB, MAR]
    assert bands["units"].to_list() == [4, 2, 0]
    assert bands["p10"][1] == pytest.approx(0.32)  # 0.3, 0.5 (NaN left out)
    assert bands["p90"][2] is None


def test_bands_over_a_chosen_subset(slicc):
    q1 = ["A", "B", "C"]
    bands = decile_bands(slicc, "month", "slicc", unit_col="practice", units=q1)
    assert bands["units"].to_list() == [3, 2, 0]
    assert bands["p50"][0] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        decile_bands(slicc, "month", "slicc", units=q1)


def test_percentile_rank_is_percent_rank_with_ties_at_the_lowest(slicc):
    ranked = percentile_ranks(slicc, "month", "practice", "slicc")
    jan = ranked.filter(pl.col("month") == JAN)["percentile"].to_list()
    assert jan[:4] == pytest.approx([0.0, 100 / 3, 100 / 3, 100.0])
    assert jan[4] is None


def test_a_unit_without_a_value_is_not_ranked(slicc):
    ranked = percentile_ranks(slicc, "month", "practice", "slicc")
    assert ranked.filter(pl.col("month") == FEB)["percentile"].to_list() == [100.0, None, 0.0]
    assert ranked.filter(pl.col("month") == MAR)["percentile"].to_list() == [None, None]


def test_the_only_unit_with_a_value_sits_at_zero_and_subsets_rank_among_themselves(slicc):
    ranked = percentile_ranks(slicc, "month", "practice", "slicc", units=["A", "C", "D"])
    assert ranked["practice"].to_list() == ["A", "C", "D", "A", "C", "A"]
    assert ranked["percentile"].to_list() == [0.0, 50.0, 100.0, 100.0, 0.0, None]
    solo = percentile_ranks(slicc, "month", "practice", "slicc", units=["A"])
    assert solo["percentile"].to_list() == [0.0, 0.0, None]
