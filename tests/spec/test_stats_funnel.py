"""Funnel limits, z-scores, over-dispersion and flags (Spiegelhalter 2005; NHS-R FunnelPlotR)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from metrics.stats.funnel import (
    dispersion_ratio,
    funnel_means,
    funnel_proportions,
    pooled_sd,
    tau_squared,
    winsorise,
)

Z95, Z998 = 1.959964, 3.090232


def units(num: list[int], den: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"unit": [f"P{i}" for i in range(len(num))], "num": num, "den": den})


def means(values: list[float], n: list[int], sd: float = 1.0) -> pl.DataFrame:
    return pl.DataFrame({"unit": [f"P{i}" for i in range(len(values))], "mean": values,
                         "sd": [sd] * len(values), "n": n})


def test_arcsine_limits_at_one_half_have_a_closed_form():
    # asin(sqrt(.5)) = pi/4 and s = 1/(2*10): sin^2(pi/4 +/- d) = (1 +/- sin 2d) / 2
    res = funnel_proportions(units([50], [100]), "num", "den", target=0.5,
                             overdispersion=False, grid=[100])
    row = res.curve.row(0, named=True)
    for name, z in (("95", Z95), ("998", Z998)):
        half = math.sin(2 * z * 0.05) / 2
        assert row[f"lower{name}"] == pytest.approx(0.5 - half, abs=1e-6)
        assert row[f"upper{name}"] == pytest.approx(0.5 + half, abs=1e-6)
    assert row["lower95"] == pytest.approx(0.40263, abs=1e-5)


def test_normal_scale_limits_are_the_textbook_binomial_approximation():
    # Spiegelhalter 2005: p0 +/- z sqrt(p0 (1 - p0) / n); p0 = 0.2, n = 400 -> s = 0.02
    res = funnel_proportions(units([80], [400]), "num", "den", target=0.2, scale="normal",
                             overdispersion=False, grid=[400])
    row = res.curve.row(0, named=True)
    assert (row["lower95"], row["upper95"]) == pytest.approx((0.1608007, 0.2391993), abs=1e-7)
    assert (row["lower998"], row["upper998"]) == pytest.approx((0.1381954, 0.2618046), abs=1e-7)


def test_target_defaults_to_the_pooled_proportion_not_the_mean_of_proportions():
    res = funnel_proportions(units([10, 90], [100, 300]), "num", "den")
    assert res.target == pytest.approx(100 / 400)


def test_unit_z_score_on_the_arcsine_scale():
    res = funnel_proportions(units([64, 50], [100, 100]), "num", "den", target=0.5,
                             overdispersion=False)
    z = (math.asin(0.8) - math.pi / 4) / 0.05
    assert res.units["z"][0] == pytest.approx(z)
    assert res.units["flag95"].to_list() == ["high", None]
    assert res.units["flag998"].to_list() == [None, None]  # z = 2.57 < 3.09


def test_small_denominator_lower_limit_stops_at_zero_instead_of_folding_back():
    res = funnel_proportions(units([1], [4]), "num", "den", target=0.05, overdispersion=False,
                             grid=[1, 4])
    assert res.curve["lower95"].to_list() == [0.0, 0.0]
    assert res.curve["upper95"][0] == pytest.approx(math.sin(math.asin(math.sqrt(0.05))
                                                              + Z95 * 0.5) ** 2, abs=1e-6)


def test_zero_denominator_stays_blank_and_out_of_the_estimates():
    res = funnel_proportions(units([30, 0, 60], [100, 0, 200]), "num", "den")
    blank = res.units.row(1, named=True)
    assert (blank["value"], blank["z"], blank["z_adj"], blank["flag95"], blank["lower95"]) == (
        None, None, None, None, None)
    assert res.target == pytest.approx(0.3)


def test_winsorise_clamps_to_r_type7_deciles():
    # sorted z = -2, 0, 1, 3: 10th percentile at position 0.3 -> -1.4; 90th at 2.7 -> 2.4
    np.testing.assert_allclose(winsorise(np.array([3.0, -2.0, 0.0, 1.0])), [2.4, -1.4, 0, 1])
    np.testing.assert_allclose(winsorise(np.array([3.0, -2.0]), trim=0), [3.0, -2.0])


def test_tau_squared_is_zero_when_i_phi_is_at_most_i_minus_1():
    s = np.array([0.1, 0.2, 0.05, 0.1])
    assert tau_squared(0.5, s) == 0.0
    assert tau_squared(0.75, s) == 0.0  # I phi = 3 = I - 1
    assert tau_squared(0.76, s) > 0.0
    assert tau_squared(5.0, s[:1]) == 0.0  # one unit: nothing to estimate


def test_over_dispersion_hand_computed_example():
    # sigma = 1, n = 100 -> s = 0.1; target 0 -> z = -2, 0, 1, 3.
    # winsorised: -1.4, 0, 1, 2.4 -> phi = (1.96 + 0 + 1 + 5.76) / 4 = 2.18
    # w = 100 each: tau^2 = (4 * 2.18 - 3) / (400 - 40000 / 400) = 5.72 / 300
    df = means([-0.2, 0.0, 0.1, 0.3], [100] * 4)
    res = funnel_means(df, "mean", "sd", "n", target=0.0, sd=1.0)
    assert res.phi == pytest.approx(2.18)
    assert res.tau2 == pytest.approx(5.72 / 300)
    se = math.sqrt(0.01 + 5.72 / 300)
    assert res.units["z"].to_list() == pytest.approx([-2, 0, 1, 3])
    assert res.units["z_adj"][3] == pytest.approx(0.3 / se)
    assert res.units["upper95"][3] == pytest.approx(Z95 * se, abs=1e-6)
    assert res.units["flag95"].to_list() == [None] * 4  # the adjustment widens the funnel
    plain = funnel_means(df, "mean", "sd", "n", target=0.0, sd=1.0, overdispersion=False)
    assert plain.tau2 == res.tau2 and not plain.adjusted
    assert plain.units["flag95"].to_list() == ["low", None, None, "high"]
    assert plain.units["flag998"].to_list() == [None] * 4


def test_untrimmed_tau_squared_is_the_dersimonian_laird_estimate():
    values, n = [0.55, 0.62, 0.48, 0.71, 0.60, 0.40], [40, 250, 90, 30, 500, 120]
    res = funnel_means(means(values, n, sd=0.3), "mean", "sd", "n", trim=0.0)
    ref = combine_effects(np.array(values), 0.09 / np.array(n), method_re="dl")
    assert res.target == pytest.approx(ref.mean_effect_fe)
    assert res.tau2 == pytest.approx(ref.tau2)
    assert res.phi * 6 == pytest.approx(ref.q)


def test_dispersion_ratio_is_mean_square():
    assert dispersion_ratio(np.array([1.0, -2.0, 3.0])) == pytest.approx(14 / 3)


def test_pooled_sd_weights_by_degrees_of_freedom_and_skips_single_patients():
    # sqrt((9 * 0.04 + 1 * 0.25) / 10), the n = 1 unit contributes nothing
    assert pooled_sd(np.array([0.2, 0.5, 0.9]), np.array([10.0, 2.0, 1.0])) == pytest.approx(
        math.sqrt(0.61 / 10))


def test_means_target_is_the_patient_weighted_mean_and_limits_can_be_bounded():
    df = means([0.9, 0.5], [10, 30], sd=0.3)
    res = funnel_means(df, "mean", "sd", "n", bounds=(0.0, 1.0), overdispersion=False,
                       grid=[1, 10])
    assert res.target == pytest.approx((9 + 15) / 40)
    assert res.curve["upper998"].to_list() == [1.0, pytest.approx(0.6 + Z998 * 0.3 / 10 ** .5)]
    assert res.curve["lower998"][0] == 0.0  # 0.6 - 3.09 * 0.3 < 0
    assert res.curve["lower998"][1] == pytest.approx(0.6 - Z998 * 0.3 / 10 ** .5)


def test_curve_narrows_with_precision_and_reaches_beyond_the_largest_unit():
    res = funnel_proportions(units([30, 120, 900], [50, 400, 2000]), "num", "den")
    width = (res.curve["upper95"] - res.curve["lower95"]).to_numpy()
    assert np.all(np.diff(width) <= 1e-12)
    assert res.curve["precision"].max() >= 2000
    assert res.curve["precision"].min() == 1.0
    assert (res.curve["upper998"] >= res.curve["upper95"]).all()


def test_unit_limits_equal_the_curve_at_the_same_precision():
    res = funnel_proportions(units([30, 120, 900], [50, 400, 2000]), "num", "den",
                             grid=[50, 400, 2000])
    for col in ("lower95", "upper95", "lower998", "upper998"):
        assert res.units[col].to_list() == pytest.approx(res.curve[col].to_list())


def test_units_carry_their_own_95_percent_interval_for_hover_text():
    res = funnel_proportions(units([81, 0], [263, 0]), "num", "den")
    assert res.numerator_col == "num"
    assert res.units["lci"][0] == pytest.approx(0.2553, abs=5e-5)  # Newcombe 1998, Wilson
    assert res.units["uci"][0] == pytest.approx(0.3662, abs=5e-5)
    assert (res.units["lci"][1], res.units["uci"][1]) == (None, None)
    mres = funnel_means(means([0.6, 0.5], [10, 1], sd=0.3), "mean", "sd", "n")
    assert mres.numerator_col is None
    assert mres.units["lci"][0] == pytest.approx(0.6 - 2.2621571628 * 0.3 / math.sqrt(10))
    assert mres.units["lci"][1] is None  # a single patient has no interval
