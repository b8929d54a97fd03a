"""Funnel plots for comparing units of very different sizes (Spiegelhalter 2005).

Each unit's indicator y_i is judged against a target theta_0 with a standard error s_i that
shrinks with its precision (denominator or number of patients):

    z_i = (g(y_i) - g(theta_0)) / s_i,     limits: g^-1(g(theta_0) +/- z_a * s)

* proportions (SLICC, OPR): by default the variance-stabilising arcsine square-root scale that
  NHS-R FunnelPlotR uses, g(p) = asin(sqrt(p)), s = 1 / (2 sqrt(n)); or `scale="normal"`,
  g(p) = p, s = sqrt(theta_0 (1 - theta_0) / n) (Spiegelhalter, Stat Med 2005;24:1185).
* means of patient values (mean UPC, mean COC): g(y) = y, s = sigma / sqrt(n), sigma the
  patient-level standard deviation pooled within units, sqrt(sum((n_i-1) sd_i^2) / sum(n_i-1)),
  so that differences between units are left to the over-dispersion term.

Over-dispersion (Spiegelhalter, Qual Saf Health Care 2005;14:347; as NHS-R FunnelPlotR): the
z-scores are winsorised at their 10th and 90th percentiles (R's default quantile), then

    phi   = (1/I) sum z_w^2                                        (I units)
    tau^2 = 0                                                      if I phi <= I - 1
          = (I phi - (I - 1)) / (sum w_i - sum w_i^2 / sum w_i),   w_i = 1 / s_i^2, otherwise

(the DerSimonian-Laird moment estimator on winsorised z-scores), and s is replaced by
sqrt(s^2 + tau^2) in z-scores, limits and flags. 95% limits use z = 1.959964, 99.8% z = 3.090232.
phi and tau^2 are always reported; `overdispersion=False` draws the unadjusted limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from metrics.stats.intervals import mean_interval, wilson_interval, z_value

LEVELS = {"95": 0.95, "998": 0.998}
Scale = Literal["arcsine", "normal"]
Array = np.ndarray


@dataclass(frozen=True)
class FunnelResult:
    """A funnel: per-unit z-scores, limits and flags, and the limit curves for plotting.

    `units` is the input frame plus `value`, `precision`, `lci` and `uci` (the unit's own 95%
    interval: Wilson, or t for means), `z` (unadjusted), `z_adj` (the one flags use),
    `lower95`, `upper95`, `lower998`, `upper998`, `flag95`, `flag998` ("high", "low" or null).
    `curve` has `precision` and the same four limits over a grid. `numerator_col` names the
    input's numerator column for proportions (for hover text), None for means.
    """

    units: pl.DataFrame
    curve: pl.DataFrame
    kind: Literal["proportion", "mean"]
    target: float
    phi: float
    tau2: float
    adjusted: bool  # limits and flags include tau2
    trim: float
    numerator_col: str | None = None


@dataclass(frozen=True)
class _Transform:
    forward: Callable[[Array], Array]
    inverse: Callable[[Array], Array]
    se: Callable[[Array], Array]  # standard error on the forward scale at precision n


def winsorise(z: Array, trim: float = 0.1) -> Array:
    """Clamp z-scores to their `trim` and 1-`trim` quantiles (linear, i.e. R's type 7)."""
    if trim <= 0 or len(z) == 0:
        return z.copy()
    low, high = np.quantile(z, [trim, 1 - trim])
    return np.clip(z, low, high)


def dispersion_ratio(z_winsorised: Array) -> float:
    """phi = mean of squared (winsorised) z-scores; above 1 means over-dispersion."""
    return float(np.mean(z_winsorised ** 2)) if len(z_winsorised) else float("nan")


def tau_squared(phi: float, s: Array) -> float:
    """Between-unit variance of the additive random-effects model (0 when I phi <= I - 1)."""
    units = len(s)
    if units < 2 or not np.isfinite(phi) or units * phi <= units - 1:
        return 0.0
    w = 1 / s ** 2
    return float(max(0.0, (units * phi - (units - 1)) / (w.sum() - (w ** 2).sum() / w.sum())))


def pooled_sd(sd: Array, n: Array) -> float:
    """Within-unit patient-level sd: sqrt(sum((n_i - 1) sd_i^2) / sum(n_i - 1))."""
    ok = np.isfinite(sd) & np.isfinite(n) & (n >= 2)
    dof = (n[ok] - 1).sum()
    if dof <= 0:
        raise ValueError("need a unit with 2 or more patients and an sd to pool")
    return float(np.sqrt(((n[ok] - 1) * sd[ok] ** 2).sum() / dof))


def _limits(target: float, se: Array, t: _Transform) -> dict[str, Array]:
    out = {}
    for name, level in LEVELS.items():
        z = z_value(level)
        out[f"lower{name}"] = t.inverse(t.forward(target) - z * se)
        out[f"upper{name}"] = t.inverse(t.forward(target) + z * se)
    return out


def _flags(z: Array, level: float) -> list[str | None]:
    limit = z_value(level)
    return [None if not np.isfinite(v) else "high" if v > limit else "low" if v < -limit
            else None for v in z]


def _grid(precision: Array, points: int) -> Array:
    top = float(precision.max()) if len(precision) else 1.0
    return np.unique(np.geomspace(1.0, max(top * 1.05, 2.0), points))


def _float(series: Array, name: str) -> pl.Series:
    return pl.Series(name, series, dtype=pl.Float64).fill_nan(None)


def _funnel(df: pl.DataFrame, kind: Literal["proportion", "mean"], value: Array,
            precision: Array, interval: tuple[Array, Array], target: float, t: _Transform, *,
            overdispersion: bool, trim: float, grid: Sequence[float] | None,
            grid_points: int, numerator_col: str | None = None) -> FunnelResult:
    ok = np.isfinite(value) & (precision > 0)
    se = np.full(len(value), np.nan)
    z = np.full(len(value), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        se[ok] = t.se(precision[ok])
        z[ok] = (t.forward(value[ok]) - t.forward(target)) / se[ok]
        phi = dispersion_ratio(winsorise(z[ok], trim))
        tau2 = tau_squared(phi, se[ok])
        extra = tau2 if overdispersion else 0.0
        se_adj = np.sqrt(se ** 2 + extra)
        z_adj = (t.forward(value) - t.forward(target)) / se_adj
        unit_limits = _limits(target, se_adj, t)
        x = (np.asarray(grid, dtype=float) if grid is not None
             else _grid(precision[ok], grid_points))
        curve_limits = _limits(target, np.sqrt(t.se(x) ** 2 + extra), t)
    z_adj[~ok] = np.nan
    units = df.with_columns(
        _float(value, "value"), _float(precision, "precision"), _float(interval[0], "lci"),
        _float(interval[1], "uci"), _float(z, "z"),
        _float(z_adj, "z_adj"), *(_float(v, k) for k, v in unit_limits.items()),
        pl.Series("flag95", _flags(z_adj, LEVELS["95"]), dtype=pl.Utf8),
        pl.Series("flag998", _flags(z_adj, LEVELS["998"]), dtype=pl.Utf8),
    )
    curve = pl.DataFrame({"precision": x, **curve_limits})
    return FunnelResult(units, curve, kind, float(target), phi, tau2, overdispersion, trim,
                        numerator_col)


def _column(df: pl.DataFrame, name: str) -> Array:
    return df[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()


def _identity(y: Array) -> Array:
    return y


def _arcsine(p: Array) -> Array:
    return np.arcsin(np.sqrt(np.clip(p, 0.0, 1.0)))


def _inverse_arcsine(angle: Array) -> Array:
    # Clamp the angle first: sin^2 would fold a negative angle back above 0.
    return np.sin(np.clip(angle, 0.0, np.pi / 2)) ** 2


def funnel_proportions(df: pl.DataFrame, num_col: str, den_col: str, *,
                       target: float | None = None, overdispersion: bool = True,
                       trim: float = 0.1, scale: Scale = "arcsine",
                       grid: Sequence[float] | None = None, grid_points: int = 200
                       ) -> FunnelResult:
    """Funnel for numerator/denominator units; target defaults to the pooled proportion.

    Units with a zero or missing denominator keep their row with null value, z and flags.
    """
    num, den = _column(df, num_col), _column(df, den_col)
    den = np.where(np.isfinite(den), den, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(den > 0, num / den, np.nan)
    ok = np.isfinite(value)
    if target is None:
        if not ok.any():
            raise ValueError("no unit has a denominator above 0")
        target = float(num[ok].sum() / den[ok].sum())
    theta = target
    if scale == "arcsine":
        t = _Transform(_arcsine, _inverse_arcsine, lambda n: 1 / (2 * np.sqrt(n)))
    elif scale == "normal":
        t = _Transform(_identity, lambda p: np.clip(p, 0.0, 1.0),
                       lambda n: np.sqrt(theta * (1 - theta) / n))
    else:
        raise ValueError(f"unknown scale {scale!r}")
    return _funnel(df, "proportion", value, den, wilson_interval(num, den), target, t,
                   overdispersion=overdispersion, trim=trim, grid=grid, grid_points=grid_points,
                   numerator_col=num_col)


def funnel_means(df: pl.DataFrame, mean_col: str, sd_col: str, n_col: str, *,
                 target: float | None = None, sd: float | None = None,
                 bounds: tuple[float, float] | None = None, overdispersion: bool = True,
                 trim: float = 0.1, grid: Sequence[float] | None = None,
                 grid_points: int = 200) -> FunnelResult:
    """Funnel for means of patient values with precision n (patients).

    target defaults to the overall patient mean sum(n_i y_i) / sum(n_i); `sd` (sigma) to the
    pooled within-unit sd. `bounds` clips the limits to the index's range, e.g. (0, 1).
    """
    mean, spread, n = _column(df, mean_col), _column(df, sd_col), _column(df, n_col)
    n = np.where(np.isfinite(n), n, 0.0)
    value = np.where(n > 0, mean, np.nan)
    ok = np.isfinite(value)
    if target is None:
        if not ok.any():
            raise ValueError("no unit has patients")
        target = float((n[ok] * value[ok]).sum() / n[ok].sum())
    sigma = pooled_sd(spread, n) if sd is None else float(sd)
    low, high = bounds if bounds is not None else (-np.inf, np.inf)
    t = _Transform(_identity, lambda y: np.clip(y, low, high), lambda k: sigma / np.sqrt(k))
    return _funnel(df, "mean", value, n, mean_interval(mean, spread, n), target, t,
                   overdispersion=overdispersion, trim=trim, grid=grid, grid_points=grid_points)
