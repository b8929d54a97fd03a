"""Wilson intervals for proportions and t intervals for means of patient values."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from metrics.stats.intervals import (
    mean_interval,
    wilson_interval,
    with_mean_ci,
    with_wilson,
    z_value,
)


def test_z_value_for_the_usual_levels():
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.998) == pytest.approx(3.090232, abs=1e-6)
    with pytest.raises(ValueError):
        z_value(1.0)


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [  # Newcombe, Stat Med 1998;17:857, Table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_matches_newcombe_1998(x, n, lower, upper):
    lo, hi = wilson_interval(x, n)
    assert lo[0] == pytest.approx(lower, abs=5e-5)
    assert hi[0] == pytest.approx(upper, abs=5e-5)


def test_wilson_reproduces_the_published_slicc_interval():
    # Sidaway-Lee et al. BJGP 2019: SLICC 51.7% (95% CI 51.2 to 52.2) over 35,622 appointments.
    lo, hi = wilson_interval(round(0.517 * 35622), 35622)
    assert (round(lo[0] * 100, 1), round(hi[0] * 100, 1)) == (51.2, 52.2)


def test_wilson_hand_computed_at_half():
    # p = 1/2, n = 4, z = 1.96: centre 0.5, half = z/(1+z^2/4) * sqrt(1/16 + z^2/64)
    z = z_value(0.95)
    half = z / (1 + z * z / 4) * math.sqrt(1 / 16 + z * z / 64)
    lo, hi = wilson_interval(2, 4)
    assert (lo[0], hi[0]) == pytest.approx((0.5 - half, 0.5 + half))


@pytest.mark.parametrize("level", [0.8, 0.95, 0.998])
def test_wilson_agrees_with_statsmodels_over_a_grid(level):
    sizes = np.array([1, 2, 5, 10, 37, 250, 10_000])
    n = np.tile(sizes, 3)
    x = np.concatenate([np.zeros(7), sizes // 3, sizes])
    lo, hi = wilson_interval(x, n, level)
    ref_lo, ref_hi = proportion_confint(x, n, alpha=1 - level, method="wilson")
    np.testing.assert_allclose(lo, ref_lo, atol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-12)


def test_with_wilson_adds_prefixed_columns_blank_for_empty_denominator():
    df = pl.DataFrame({"unit": ["a", "b", "c"], "num": [81, 0, None], "den": [263, 0, 10]})
    out = with_wilson(df, "num", "den", "slicc")
    assert out.columns == ["unit", "num", "den", "slicc_lci", "slicc_uci"]
    assert out["slicc_lci"][0] == pytest.approx(0.2553, abs=5e-5)
    assert out["slicc_uci"][0] == pytest.approx(0.3662, abs=5e-5)
    assert out["slicc_lci"][1:].to_list() == [None, None]
    assert out["slicc_uci"][1:].to_list() == [None, None]


def test_mean_interval_hand_computed():
    # mean 0.6, sd 0.3, n 10: t_{9, 0.975} = 2.262157; half = 2.262157 * 0.3 / sqrt(10)
    lo, hi = mean_interval(0.6, 0.3, 10)
    half = 2.2621571628 * 0.3 / math.sqrt(10)
    assert (lo[0], hi[0]) == pytest.approx((0.6 - half, 0.6 + half), abs=1e-9)


def test_mean_interval_agrees_with_scipy_on_raw_values():
    values = np.array([0.5, 1.0, 0.25, 0.75, 0.6, 1.0, 0.4])
    ref = stats.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    lo, hi = mean_interval(values.mean(), values.std(ddof=1), len(values), level=0.9)
    assert (lo[0], hi[0]) == pytest.approx(ref)


def test_with_mean_ci_blank_below_two_patients_or_missing_sd():
    df = pl.DataFrame({"upc_mean": [0.6, 0.9, 0.5, None], "upc_sd": [0.3, None, 0.0, 0.2],
                       "eligible_patients": [10, 1, 4, 5]})
    out = with_mean_ci(df, "upc_mean", "upc_sd", "eligible_patients", "upc")
    half = 2.2621571628 * 0.3 / math.sqrt(10)
    assert out["upc_lci"][0] == pytest.approx(0.6 - half, abs=1e-9)
    assert out["upc_uci"][0] == pytest.approx(0.6 + half, abs=1e-9)
    assert out["upc_lci"].to_list()[1:] == [None, 0.5, None]
    assert out["upc_uci"].to_list()[1:] == [None, 0.5, None]
