"""Disclosure control follows the NHS rule (docs/methods.md) on every shared figure, and
nothing shown beside a controlled count gives it back."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.disclosure import NHS_RULE, NO_CONTROL, apply
from tests.inversion import invert_t, invert_wilson, wilson


def test_counts_one_to_seven_are_starred_others_rounded_to_five_zero_stays() -> None:
    df = pl.DataFrame({"contacts": [0, 1, 7, 8, 12, 13, 1002, None]})
    assert apply(df, NHS_RULE)["contacts"].to_list() == [
        "0", "*", "*", "10", "10", "15", "1000", None]


def test_ratios_are_recomputed_from_the_rounded_counts() -> None:
    df = pl.DataFrame({"slicc": [53 / 98, 3 / 40, 0 / 20, None, 5 / 6],
                       "slicc_numerator": [53, 3, 0, 0, 5],
                       "slicc_denominator": [98, 40, 20, 0, 6]})
    out = apply(df, NHS_RULE)
    assert out["slicc"].to_list() == [str(55 / 100), "*", "0.0", None, "*"]
    assert out["slicc_numerator"].to_list() == ["55", "*", "0", "0", "*"]
    assert out["slicc_denominator"].to_list() == ["100", "40", "20", "0", "*"]


def test_a_mean_over_fewer_than_eight_patients_is_not_shown() -> None:
    df = pl.DataFrame({"eligible_patients": [7, 8], "upc_mean": [0.61, 0.55],
                       "upc_sd": [0.2, 0.3]})
    out = apply(df, NHS_RULE)
    assert out["upc_mean"].to_list() == ["*", "0.55"]
    assert out["upc_sd"].to_list() == ["*", "0.3"]
    assert out["eligible_patients"].to_list() == ["*", "10"]


def test_no_control_keeps_exact_numbers_for_the_practice_view() -> None:
    df = pl.DataFrame({"contacts": [3], "upc_mean": [0.5], "eligible_patients": [3]})
    assert apply(df, NO_CONTROL).equals(df)


def test_patient_level_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="patient-level"):
        apply(pl.DataFrame({"patient_id": ["p1"], "upc": [1.0]}), NHS_RULE)


def test_the_rule_describes_itself_for_export_headers() -> None:
    assert "counts 1-7 shown as *" in NHS_RULE.describe()
    assert "nearest 5" in NHS_RULE.describe()


def test_a_ratio_without_its_counts_is_never_shown_exactly() -> None:
    # upc_pooled = 6/10 beside no counts: nothing derived from counts may leave unrounded
    df = pl.DataFrame({"eligible_patients": [9], "upc_pooled": [0.6]})
    assert apply(df, NHS_RULE)["upc_pooled"].to_list() == ["*"]


def test_wilson_limits_are_computed_from_the_rounded_counts() -> None:
    # exact 53/98 would invert to 53 and 98; the limits shown are those of 55/100
    df = pl.DataFrame({"slicc": [53 / 98], "slicc_numerator": [53], "slicc_denominator": [98],
                       "slicc_lci": [0.44], "slicc_uci": [0.64]})
    out = apply(df, NHS_RULE).row(0, named=True)
    assert (out["slicc_lci"], out["slicc_uci"]) == pytest.approx(wilson(55, 100), abs=1e-12)
    assert invert_wilson(out["slicc_lci"], out["slicc_uci"]) == pytest.approx((55, 100))


def test_a_means_t_limits_use_the_rounded_number_of_patients() -> None:
    # 13 patients are shown as 15: the limits are mean +/- t(14) sd / sqrt(15)
    df = pl.DataFrame({"eligible_patients": [13], "upc_mean": [0.6], "upc_sd": [0.2],
                       "upc_lci": [0.0], "upc_uci": [1.0]})
    out = apply(df, NHS_RULE).row(0, named=True)
    half = 2.1447866879169273 * 0.2 / math.sqrt(15)
    assert (out["upc_lci"], out["upc_uci"]) == pytest.approx((0.6 - half, 0.6 + half))


def test_intervals_are_hidden_with_their_value_and_unknown_intervals_are_dropped() -> None:
    df = pl.DataFrame({"slicc": [3 / 40], "slicc_numerator": [3], "slicc_denominator": [40],
                       "slicc_lci": [0.02], "slicc_uci": [0.2], "eligible_patients": [7],
                       "upc_mean": [0.5], "upc_sd": [0.1], "upc_lci": [0.4], "upc_uci": [0.6],
                       "mystery_lci": [0.1], "mystery_uci": [0.2]})
    out = apply(df, NHS_RULE).row(0, named=True)
    assert [out[c] for c in ("slicc_lci", "slicc_uci", "upc_lci", "upc_uci", "mystery_lci",
                             "mystery_uci")] == [None] * 6


def test_coverage_is_computed_from_the_rounded_counts() -> None:
    # named-GP coverage 9/13 would give both counts back; shown: 10/15
    df = pl.DataFrame({"named_gp_coverage": [9 / 13], "slicc_denominator": [9],
                       "gp_contacts": [13], "slicc_numerator": [8], "slicc": [8 / 9]})
    out = apply(df, NHS_RULE).row(0, named=True)
    assert float(out["named_gp_coverage"]) == pytest.approx(10 / 15)
    few = pl.DataFrame({"named_gp_coverage": [3 / 13], "slicc_denominator": [3],
                        "gp_contacts": [13]})
    assert apply(few, NHS_RULE)["named_gp_coverage"].to_list() == ["*"]
    alone = pl.DataFrame({"inferred_gp_coverage": [0.5]})  # its counts are not in the frame
    assert apply(alone, NHS_RULE)["inferred_gp_coverage"].to_list() == ["*"]


def test_one_suppressed_member_of_a_total_takes_the_next_smallest_with_it() -> None:
    # PCN P1: A 3 (suppressed), B 40, C 22 -> C is suppressed too, or P1 - B - C gives A;
    # PCN P2: two suppressed members already hide each other; P3 has none
    df = pl.DataFrame({"pcn": ["P1", "P1", "P1", "P2", "P2", "P2", "P3", "P3"],
                       "contacts": [3, 40, 22, 2, 4, 50, 30, 12]})
    out = apply(df, NHS_RULE, partition=["pcn"])
    assert out["contacts"].to_list() == ["*", "40", "*", "*", "*", "50", "30", "10"]
    assert apply(df, NHS_RULE)["contacts"].to_list()[:3] == ["*", "40", "20"]  # no partition


def test_complementary_suppression_hides_the_ratios_built_on_the_count() -> None:
    df = pl.DataFrame({"category": ["GP", "Nurse", "Pharmacist"], "numerator": [50, 5, 12],
                       "denominator": [67, 67, 67], "share": [50 / 67, 5 / 67, 12 / 67]})
    out = apply(df, NHS_RULE, partition=[])
    assert out["numerator"].to_list() == ["50", "*", "*"]
    assert out["share"].to_list() == [str(50 / 65), "*", "*"]


def test_a_group_of_fewer_than_three_practices_is_not_shown() -> None:
    # two practices: the group less one practice's own exact figures is the other practice
    df = pl.DataFrame({"practices": [2, 3, None], "contacts": [400, 400, 400],
                       "slicc": [0.5, 0.5, 0.5], "slicc_numerator": [100, 100, 100],
                       "slicc_denominator": [200, 200, 200], "eligible_patients": [50, 50, 50],
                       "upc_mean": [0.6, 0.6, 0.6], "upc_sd": [0.2, 0.2, 0.2]})
    out = apply(df, NHS_RULE)
    assert out.row(0) == (2, "*", "*", "*", "*", "*", "*", "*")
    assert out.row(1) == (3, "400", "0.5", "100", "200", "50", "0.6", "0.2")
    assert out.row(2)[1:] == out.row(1)[1:]  # blank `practices`: a practice, not a group
    assert apply(df, NO_CONTROL).equals(df)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.integers(1, 400), st.floats(0.0, 1.0), st.floats(0.01, 0.5))
def test_no_interval_or_ratio_gives_an_exact_count_back(k: int, extra: int, mean: float,
                                                        sd: float) -> None:
    n = k + extra
    df = pl.DataFrame({"slicc": [k / n], "slicc_numerator": [k], "slicc_denominator": [n],
                       "slicc_lci": [0.0], "slicc_uci": [1.0], "eligible_patients": [n],
                       "upc_mean": [mean], "upc_sd": [sd], "upc_lci": [0.0], "upc_uci": [1.0]})
    out = apply(df, NHS_RULE).row(0, named=True)
    if out["slicc_lci"] is not None:
        num, den = invert_wilson(out["slicc_lci"], out["slicc_uci"])
        assert den == pytest.approx(int(out["slicc_denominator"]), abs=1e-3)
        assert num == pytest.approx(int(out["slicc_numerator"]), abs=1e-3)
        assert round(den) % 5 == 0 and round(num) % 5 == 0
        assert float(out["slicc"]) * int(out["slicc_denominator"]) == pytest.approx(
            int(out["slicc_numerator"]))
    if out["upc_lci"] is not None:
        assert invert_t(out["upc_lci"], out["upc_uci"], sd) == int(out["eligible_patients"])
        assert int(out["eligible_patients"]) % 5 == 0
