"""Decile bands and percentile ranks per month, as OpenPrescribing draws its measures.

For each month, over all units with a value (or a chosen subset, e.g. the practices of one ICB):
the 10th, 20th, ..., 90th percentiles by linear interpolation between order statistics
(PERCENTILE_CONT, numpy's default), the 50th being the median. A unit's percentile that month
is PERCENT_RANK x 100 = (rank - 1) / (units - 1) x 100, ties taking the lowest rank, 0 when it
is the only unit; blank when the unit has no value (a missing month is not ranked last).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def _valid(value_col: str) -> pl.Expr:
    return pl.col(value_col).is_not_null() & pl.col(value_col).is_not_nan()


def _subset(df: pl.DataFrame, unit_col: str | None, units: Sequence[str] | None
            ) -> pl.DataFrame:
    if units is None:
        return df
    if unit_col is None:
        raise ValueError("units given without unit_col")
    return df.filter(pl.col(unit_col).is_in(list(units)))


def decile_bands(df: pl.DataFrame, period_col: str, value_col: str, *,
                 unit_col: str | None = None, units: Sequence[str] | None = None
                 ) -> pl.DataFrame:
    """One row per period: `units` (count with a value) and p10 ... p90 (p50 = median).

    A period in which no unit has a value keeps its row, with 0 units and blank percentiles.
    """
    value = pl.col(value_col).filter(_valid(value_col))
    quantiles = [value.quantile(p / 100, interpolation="linear").alias(f"p{p}")
                 for p in PERCENTILES]
    return (_subset(df, unit_col, units).group_by(period_col)
            .agg(value.len().cast(pl.Int64).alias("units"), *quantiles)
            .sort(period_col))


def percentile_ranks(df: pl.DataFrame, period_col: str, unit_col: str, value_col: str, *,
                     units: Sequence[str] | None = None) -> pl.DataFrame:
    """`df` (or its subset) with `percentile`, 0-100, ranked within each period."""
    frame = _subset(df, unit_col, units)
    valid = _valid(value_col)
    ranked = pl.when(valid).then(pl.col(value_col))
    count = valid.sum().over(period_col)
    rank = ranked.rank("min").over(period_col)
    percentile = (pl.when(~valid).then(None)
                  .when(count <= 1).then(0.0)
                  .otherwise((rank - 1) / (count - 1) * 100))
    return frame.with_columns(percentile.cast(pl.Float64).alias("percentile"))
