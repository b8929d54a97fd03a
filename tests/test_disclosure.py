"""Disclosure control follows the NHS rule (nhs-conventions.md) on every shared figure."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.disclosure import NHS_RULE, NO_CONTROL, apply


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
                       "upc_sd": [0.2, 0.3], "upc_pooled": [0.6, 0.5]})
    out = apply(df, NHS_RULE)
    assert out["upc_mean"].to_list() == ["*", "0.55"]
    assert out["upc_sd"].to_list() == ["*", "0.3"]
    assert out["upc_pooled"].to_list() == ["*", "0.5"]
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
