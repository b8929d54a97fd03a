"""XmR limits, the four special-cause rules, gaps, rebasing and the icons (Making Data Count)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.stats.spc import SLICC_TARGETS, complete_months, xmr

START = date(2023, 1, 1)


def months(count: int, start: date = START) -> list[date]:
    return pl.date_range(start, date(2040, 1, 1), "1mo", eager=True)[:count].to_list()


def series(values: list[float | None], start: date = START) -> pl.DataFrame:
    return pl.DataFrame({"period": months(len(values), start), "value": values},
                        schema={"period": pl.Date, "value": pl.Float64})


def flagged(points: pl.DataFrame, column: str) -> list[int]:
    return [i for i, v in enumerate(points[column].to_list()) if v]


BASE = [10.0, 11.0] * 8  # centre 10.5 on its own, every moving range 1


def test_limits_are_mean_plus_minus_2_66_mean_moving_range():
    res = xmr(series([10, 12, 10, 12, 10, 12]))
    row = res.points.row(0, named=True)
    assert row["centre"] == pytest.approx(11)
    assert res.points["mr"].to_list() == [None, 2, 2, 2, 2, 2]
    assert (row["lower"], row["upper"]) == pytest.approx((11 - 5.32, 11 + 5.32))
    assert (row["near_lower"], row["near_upper"]) == pytest.approx((11 - 5.32 * 2 / 3,
                                                                     11 + 5.32 * 2 / 3))
    assert res.points["type"].to_list() == ["common"] * 6
    assert not res.points["special"].any()


def test_an_outlying_moving_range_is_screened_from_the_mean_moving_range():
    # MRs 1 x 15 and 9: first mean 24/16 = 1.5; 9 >= 3.267 * 1.5 is dropped -> mean MR 1
    values = BASE + [20.0]
    screened = xmr(series(values)).points.row(0, named=True)
    centre = sum(values) / 17
    assert screened["upper"] == pytest.approx(centre + 2.66 * 1.0)
    raw = xmr(series(values), screen_outliers=False).points.row(0, named=True)
    assert raw["upper"] == pytest.approx(centre + 2.66 * 1.5)


def test_rule_point_outside_the_limits():
    res = xmr(series(BASE + [20.0]))
    assert flagged(res.points, "outside") == [16]
    last = res.points.row(16, named=True)
    assert (last["type"], last["signal"]) == ("improvement", "high")
    assert last["reason"] == "Special cause improvement: above the upper process limit"
    assert (res.variation, res.variation_side) == ("improvement", "high")
    assert res.variation_text == "Special cause variation: improvement (high)"
    lower_is_better = xmr(series(BASE + [20.0]), direction="lower")
    assert lower_is_better.points["type"][16] == "concern"
    assert lower_is_better.variation == "concern"


def test_rule_seven_in_a_row_on_one_side_of_the_centre():
    # the 11 at index 7 joins the run of 10.6/10.7 above the centre (10.16); index 15 breaks it
    values = [9.0, 11.0] * 4 + [10.6, 10.7] * 3 + [10.6] + [9.0, 11.0] * 2
    res = xmr(series(values))
    assert res.points["centre"][0] == pytest.approx(sum(values) / 19)
    assert flagged(res.points, "shift") == list(range(7, 15))
    assert flagged(res.points, "special") == list(range(7, 15))
    assert set(res.points["type"][7:15]) == {"improvement"}
    assert res.points["reason"][10] == (
        "Special cause improvement: part of 7 or more points in a row above the centre line")


def test_six_in_a_row_on_one_side_is_common_cause():
    values = [9.0, 11.0] * 4 + [10.6, 10.7] * 3 + [9.0, 11.0] * 2  # 11 then 6 above
    res = xmr(series(values))
    assert flagged(res.points, "shift") == list(range(7, 14))  # 11 + six = seven
    values[7] = 9.5  # now only the six
    assert flagged(xmr(series(values)).points, "shift") == []


def test_rule_seven_rising_points_coloured_by_the_way_they_run():
    # 1..7 rise from below the centre (4.4) to above it: all improvement when higher is better
    values = [4.0, 6.0, 4.0, 6.0, 4.0, 1, 2, 3, 4, 5, 6, 7, 4.0, 6.0, 4.0]
    res = xmr(series(values))
    assert res.points["centre"][0] == pytest.approx(4.4)
    assert flagged(res.points, "outside") == [] and flagged(res.points, "shift") == []
    assert res.points["trend"].to_list()[5:12] == [1] * 7
    assert flagged(res.points, "special") == list(range(5, 12))
    assert set(res.points["type"][5:12]) == {"improvement"}
    assert set(res.points["signal"][5:12]) == {"high"}
    falling = xmr(series([8 - v if i in range(5, 12) else v for i, v in enumerate(values)]))
    assert falling.points["trend"].to_list()[5:12] == [-1] * 7
    assert set(falling.points["type"][5:12]) == {"concern"}


def test_six_rising_points_or_a_tie_is_no_trend():
    six = [4.0, 6.0, 4.0, 6.0, 4.0, 1, 2, 3, 4, 5, 6, 4.0, 6.0, 4.0]
    assert flagged(xmr(series(six)).points, "trend") == []
    tie = [4.0, 6.0, 4.0, 6.0, 4.0, 1, 2, 3, 3, 5, 6, 7, 4.0, 6.0, 4.0]
    assert flagged(xmr(series(tie)).points, "trend") == []


def test_rule_two_of_three_near_the_same_limit():
    values = BASE + [13.2, 11.5, 13.3]
    res = xmr(series(values))
    row = res.points.row(0, named=True)
    assert all(row["near_upper"] < v < row["upper"] for v in (13.2, 13.3))  # outer third
    assert row["centre"] < 11.5 < row["near_upper"]  # same side, not near
    assert flagged(res.points, "two_of_three") == [16, 18]
    assert res.points["type"].to_list()[16:] == ["improvement", "common", "improvement"]
    assert "2 of 3 points in a row close to the upper limit" in res.points["reason"][18]


def test_two_near_points_with_one_across_the_centre_are_not_flagged():
    res = xmr(series(BASE + [13.2, 9.5, 13.3]))
    assert flagged(res.points, "two_of_three") == []


def test_missing_months_stay_missing_and_break_the_moving_range():
    df = series([10.0, 12.0, None, 11.0, 13.0]).filter(pl.col("period") != date(2023, 4, 1))
    res = xmr(df)  # April has no row at all, March a null value
    assert res.points["period"].to_list() == months(5)
    assert res.points["value"].to_list() == [10, 12, None, None, 13]
    assert res.points["mr"].to_list() == [None, 2, None, None, None]
    assert res.points["type"].to_list() == ["common", "common", None, None, "common"]
    assert res.points["special"].to_list() == [False] * 5
    row = res.points.row(0, named=True)
    assert (row["centre"], row["upper"]) == pytest.approx((35 / 3, 35 / 3 + 2.66 * 2))


def test_a_gap_neither_breaks_nor_extends_a_run():
    values: list[float | None] = [9.0, 11.0] * 4 + [10.6, 10.7, 10.6, None, 10.7, 10.6, 10.7]
    values += [9.0, 11.0] * 2
    res = xmr(series(values))
    assert flagged(res.points, "shift") == [7, 8, 9, 10, 12, 13, 14]


def test_rebase_gives_each_segment_its_own_limits():
    values = [10.0, 12.0] * 3 + [20.0, 22.0] * 3
    res = xmr(series(values), rebase_at=[date(2023, 7, 15)])
    assert res.points["segment"].to_list() == [0] * 6 + [1] * 6
    assert res.points["centre"].to_list() == [11.0] * 6 + [21.0] * 6
    assert res.points["mr"][6] is None  # no moving range across the rebase
    assert res.points["upper"].to_list() == pytest.approx([11 + 5.32] * 6 + [21 + 5.32] * 6)
    assert res.points["segment_points"].to_list() == [6] * 12
    assert not res.points["special"].any()
    unbased = xmr(series(values))
    assert unbased.points["special"].any()


def test_assurance_from_the_latest_limits_and_the_direction():
    res = xmr(series([0.60, 0.64] * 6), target=SLICC_TARGETS["good"])  # limits 0.62 +/- 0.106
    assert res.assurance == "pass"
    assert res.assurance_text == "Consistently passes the target"
    assert xmr(series([0.60, 0.64] * 6), target=SLICC_TARGETS["excellent"]).assurance == "fail"
    assert xmr(series([0.60, 0.64] * 6), target=0.6).assurance == "inconsistent"
    assert xmr(series([0.60, 0.64] * 6), target=0.5, direction="lower").assurance == "fail"
    assert xmr(series([0.60, 0.64] * 6)).assurance is None
    assert SLICC_TARGETS == {"good": 0.50, "excellent": 0.75}


def test_variation_icon_reads_the_latest_observed_month():
    res = xmr(series(BASE + [20.0, None]))
    assert res.latest_period == date(2024, 5, 1)
    assert res.variation == "improvement"
    common = xmr(series([10, 12, 10, 12, 10, 12]))
    assert (common.variation, common.variation_side) == ("common", None)
    assert common.variation_text == "Common cause variation"
    empty = xmr(series([None, None]))
    assert (empty.variation, empty.assurance, empty.variation_text) == (None, None, "No data")


def test_a_single_month_has_no_limits():
    res = xmr(series([0.5]), target=0.5)
    row = res.points.row(0, named=True)
    assert (row["centre"], row["lower"], row["upper"], row["type"]) == (0.5, None, None,
                                                                        "common")
    assert row["reason"].startswith("No process limits yet")
    assert res.assurance is None


def test_complete_months_rejects_two_rows_in_one_month():
    df = pl.DataFrame({"period": [date(2024, 1, 1), date(2024, 1, 20)], "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="more than one row per month"):
        complete_months(df)


def test_custom_column_names_are_kept():
    df = series([10, 12, 10]).rename({"period": "month", "value": "slicc"})
    res = xmr(df, "month", "slicc")
    assert res.points.columns[:2] == ["month", "slicc"]


def test_other_input_columns_follow_their_month_and_stay_blank_in_gaps():
    df = series([0.5, None, 0.6]).with_columns(den=pl.Series([10, None, 20]))
    df = df.filter(pl.col("value").is_not_null())  # February has no row at all
    res = xmr(df)
    assert res.points["den"].to_list() == [10, None, 20]
    assert res.points.columns[-1] == "den"
