"""Confidence intervals for the figures the dashboard shows.

Proportions (SLICC, OPR, pooled UPC, shares) get the Wilson score interval, the Fingertips/OHID
convention (PHEindicatormethods): unlike the Wald interval it stays inside [0, 1] and keeps its
coverage for small denominators and proportions near 0 or 1.

    Wilson (Wilson 1927; Newcombe, Stat Med 1998;17:857, method 3), p = x/n, z = z_{1-a/2}:
        centre = (p + z^2/(2n)) / (1 + z^2/n)
        half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2))

Means of patient values (mean UPC, mean COC) get the t interval from the patient-level spread:

    mean +/- t_{n-1, 1-a/2} * sd / sqrt(n)

Blank (null) where the interval is undefined: a denominator of 0, fewer than 2 patients, or a
missing input. Closed forms in polars expressions keep it vectorised; the tests check them
against statsmodels' `proportion_confint(method="wilson")`.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats


def z_value(level: float = 0.95) -> float:
    """Two-sided standard normal quantile for a confidence level (0.95 -> 1.959964)."""
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1, got {level}")
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def wilson_exprs(numerator: pl.Expr, denominator: pl.Expr, level: float = 0.95
                 ) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper Wilson limits as polars expressions; null where denominator <= 0."""
    z = z_value(level)
    n = denominator.cast(pl.Float64)
    p = numerator.cast(pl.Float64) / n
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z / shrink * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt()
    valid = denominator > 0
    lower = pl.when(valid).then((centre - half).clip(0.0, 1.0))
    upper = pl.when(valid).then((centre + half).clip(0.0, 1.0))
    return lower, upper


def wilson_interval(numerator: np.ndarray | float, denominator: np.ndarray | float,
                    level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson limits for arrays (or scalars); NaN where the denominator is 0."""
    x, n = np.broadcast_arrays(np.atleast_1d(np.asarray(numerator, dtype=float)),
                               np.atleast_1d(np.asarray(denominator, dtype=float)))
    frame = pl.DataFrame({"x": x, "n": n})
    lower, upper = wilson_exprs(pl.col("x"), pl.col("n"), level)
    out = frame.select(lower.alias("lo"), upper.alias("hi")).fill_null(float("nan"))
    return out["lo"].to_numpy(), out["hi"].to_numpy()


def with_wilson(df: pl.DataFrame, num_col: str, den_col: str, prefix: str,
                level: float = 0.95) -> pl.DataFrame:
    """`df` with `<prefix>_lci` and `<prefix>_uci` Wilson limits for num_col / den_col."""
    lower, upper = wilson_exprs(pl.col(num_col), pl.col(den_col), level)
    return df.with_columns(lower.alias(f"{prefix}_lci"), upper.alias(f"{prefix}_uci"))


def mean_interval(mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray | float,
                  level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """t-interval limits for means of n patient values; NaN where n < 2 or an input is NaN."""
    mean_a, sd_a, n_a = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=float)) for v in (mean, sd, n)))
    valid = (n_a >= 2) & np.isfinite(mean_a) & np.isfinite(sd_a)
    dof = np.where(valid, n_a - 1, 1.0)
    t = stats.t.ppf(1 - (1 - level) / 2, dof)
    half = t * sd_a / np.sqrt(np.where(valid, n_a, 1.0))
    nan = np.full_like(mean_a, np.nan)
    return np.where(valid, mean_a - half, nan), np.where(valid, mean_a + half, nan)


def with_mean_ci(df: pl.DataFrame, mean_col: str, sd_col: str, n_col: str, prefix: str,
                 level: float = 0.95) -> pl.DataFrame:
    """`df` with `<prefix>_lci` and `<prefix>_uci` t-interval limits (null where undefined)."""
    def column(name: str) -> np.ndarray:
        return df[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()

    lower, upper = mean_interval(column(mean_col), column(sd_col), column(n_col), level)
    return df.with_columns(
        pl.Series(f"{prefix}_lci", lower, dtype=pl.Float64).fill_nan(None),
        pl.Series(f"{prefix}_uci", upper, dtype=pl.Float64).fill_nan(None),
    )
