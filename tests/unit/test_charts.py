"""Chart builders: the figure objects carry the expected traces, values, limits and flags."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import plotly.graph_objects as go
import polars as pl
import pytest

from metrics.charts import (
    decile_chart,
    empty_figure,
    funnel_chart,
    interval_chart,
    line_chart,
    mix_chart,
    size_scatter,
    spc_chart,
)
from metrics.charts.style import OKABE_ITO, SERIES_SYMBOLS, SPC_STYLE
from metrics.stats import (
    decile_bands,
    funnel_means,
    funnel_proportions,
    percentile_ranks,
    with_wilson,
    xmr,
)


def names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data]


def trace(fig: go.Figure, name: str) -> go.Scatter:
    (found,) = [t for t in fig.data if t.name == name]
    return found


def annotation(fig: go.Figure, name: str):
    (found,) = [a for a in fig.layout.annotations if a.name == name]
    return found


def months(count: int) -> list[date]:
    return pl.date_range(date(2024, 1, 1), date(2030, 1, 1), "1mo", eager=True)[:count].to_list()


def serialisable(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


# --- funnel -----------------------------------------------------------------------------

@pytest.fixture
def practices() -> pl.DataFrame:
    return pl.DataFrame({
        "practice": ["Small", "Typical", "High", "Low", "Big", "Closed"],
        "num": [6, 100, 330, 120, 1000, 0],
        "den": [10, 200, 500, 400, 2000, 0],
    })


def test_funnel_chart_traces_limits_and_target(practices):
    res = funnel_proportions(practices, "num", "den", overdispersion=False)
    fig = funnel_chart(res, label_col="practice", title="SLICC by practice",
                       subtitle="GP contacts, Jan 2024, pooled", selected="Typical")
    assert names(fig) == ["99.8% limits", "95% limits", "Target", "Within limits",
                          "Outside 99.8% limits", "Selected: Typical"]
    lim = trace(fig, "95% limits")
    grid = res.curve["precision"].to_list()
    assert list(lim.x) == grid + [None] + grid
    assert list(lim.y) == res.curve["lower95"].to_list() + [None] + res.curve[
        "upper95"].to_list()
    assert list(trace(fig, "Target").y) == [res.target] * 2 == [1556 / 3110] * 2
    assert fig.layout.title.text == "SLICC by practice"
    assert fig.layout.title.subtitle.text == "GP contacts, Jan 2024, pooled"
    assert fig.layout.yaxis.tickformat == ".1~%"  # 30%, 30.5%: never two ticks both "30%"
    serialisable(fig)


def test_funnel_chart_flags_label_outliers_and_leave_out_blank_units(practices):
    res = funnel_proportions(practices, "num", "den", overdispersion=False)
    fig = funnel_chart(res, label_col="practice", title="SLICC")
    flagged = res.units.filter(pl.col("flag998").is_not_null())["practice"].to_list()
    assert sorted(flagged) == ["High", "Low"]
    out = trace(fig, "Outside 99.8% limits")
    assert list(out.text) == flagged
    assert out.marker.symbol == "square" and out.mode == "markers+text"
    inside = trace(fig, "Within limits")
    assert inside.text is None and inside.marker.symbol == "circle"
    assert sorted(c[0] for c in inside.customdata) == ["Big", "Small", "Typical"]
    assert sum(len(t.x) for t in fig.data if t.name.startswith(("Within", "Outside"))) == 5


def test_a_selected_outlier_is_labelled_once_by_its_own_trace(practices):
    res = funnel_proportions(practices, "num", "den", overdispersion=False)
    fig = funnel_chart(res, label_col="practice", title="SLICC", selected="High")
    assert list(trace(fig, "Outside 99.8% limits").text) == ["", "Low"]
    assert list(trace(fig, "Selected: High").text) == ["High"]


def test_funnel_hover_shows_numerator_denominator_and_interval(practices):
    res = funnel_proportions(practices, "num", "den")
    fig = funnel_chart(res, label_col="practice", title="SLICC", selected="Typical",
                       precision_label="GP contacts")
    star = trace(fig, "Selected: Typical")
    assert star.marker.symbol == "star" and list(star.x) == [200] and list(star.y) == [0.5]
    assert "%{customdata[2]:,.0f} / %{x:,.0f} GP contacts" in star.hovertemplate
    assert "95% CI %{customdata[3]:.1%}" in star.hovertemplate
    label, z, numerator, lci, uci = star.customdata[0]
    assert (label, numerator) == ("Typical", 100)
    assert (lci, uci) == pytest.approx((0.4314, 0.5686), abs=1e-4)


def test_funnel_note_says_whether_limits_were_widened(practices):
    adjusted = funnel_proportions(practices, "num", "den")
    assert adjusted.tau2 > 0
    text = annotation(funnel_chart(adjusted, label_col="practice", title="t"),
                      "dispersion").text
    assert text.startswith("limits widened for over-dispersion")
    plain = funnel_proportions(practices, "num", "den", overdispersion=False)
    assert annotation(funnel_chart(plain, label_col="practice", title="t"),
                      "dispersion").text.startswith("unadjusted limits")


def test_funnel_of_means_hovers_patient_counts():
    df = pl.DataFrame({"practice": ["A", "B", "C"], "upc_mean": [0.6, 0.5, 0.7],
                       "upc_sd": [0.3, 0.3, 0.3], "patients": [100, 400, 50]})
    res = funnel_means(df, "upc_mean", "upc_sd", "patients", bounds=(0, 1))
    fig = funnel_chart(res, label_col="practice", title="Mean UPC", percent=False,
                       precision_label="eligible patients")
    assert "n = %{x:,.0f} eligible patients" in fig.data[3].hovertemplate
    assert "%{y:.3f}" in fig.data[3].hovertemplate
    assert fig.layout.yaxis.tickformat is None
    serialisable(fig)


# --- SPC --------------------------------------------------------------------------------

@pytest.fixture
def spc_result():
    values = [0.5, 0.52] * 8 + [0.9, None, 0.51]
    df = pl.DataFrame({"month": months(len(values)), "slicc": values,
                       "den": list(range(100, 100 + len(values)))})
    return xmr(df, "month", "slicc", target=0.5, rebase_at=[date(2024, 9, 1)])


def test_spc_chart_traces_segments_and_gaps(spc_result):
    fig = spc_chart(spc_result, title="Monthly SLICC", subtitle="A81001, GP contacts",
                    period_col="month", value_col="slicc", n_col="den")
    # the 0.90 lifts the second segment's mean: the months before it sit 7+ below it
    assert names(fig) == ["Monthly value", "Centre (mean)", "Process limits",
                          "Special cause improvement", "Special cause concern", "Target 50%"]
    line = trace(fig, "Monthly value")
    assert line.y[17] is None and line.connectgaps is False
    pts = spc_result.points
    c0, c1 = pts["centre"][0], pts["centre"][-1]
    assert list(trace(fig, "Centre (mean)").y) == [c0, c0, None, c1, c1]
    limits = list(trace(fig, "Process limits").y)
    assert limits == [pts["lower"][0]] * 2 + [None, pts["lower"][-1], pts["lower"][-1], None,
                      pts["upper"][0], pts["upper"][0], None] + [pts["upper"][-1]] * 2
    assert list(trace(fig, "Target 50%").y) == [0.5, 0.5]
    serialisable(fig)


def test_spc_special_points_coloured_and_shaped_with_their_reason(spc_result):
    fig = spc_chart(spc_result, title="t", period_col="month", value_col="slicc",
                    n_col="den")
    special = trace(fig, "Special cause improvement")
    expected = spc_result.points.filter(pl.col("type") == "improvement")
    assert list(special.x) == expected["month"].to_list()
    assert (special.marker.color, special.marker.symbol) == SPC_STYLE["improvement"]
    reasons = [c[0] for c in special.customdata]
    assert reasons == expected["reason"].to_list()
    assert "above the upper process limit" in reasons[-1]
    assert "n = %{customdata[1]:,.0f} contacts" in special.hovertemplate
    concern = trace(fig, "Special cause concern")
    assert (concern.marker.color, concern.marker.symbol) == SPC_STYLE["concern"]
    assert len(concern.x) == 8 and "below the centre line" in concern.customdata[0][0]


def test_spc_icons_are_annotations(spc_result):
    fig = spc_chart(spc_result, title="t", period_col="month", value_col="slicc")
    assert annotation(fig, "variation").text == (
        f"Variation: {spc_result.variation_text}")
    assert annotation(fig, "assurance").text == f"Assurance: {spc_result.assurance_text}"
    no_target = xmr(pl.DataFrame({"period": months(3), "value": [0.5, 0.6, 0.55]}))
    fig2 = spc_chart(no_target, title="t", percent=False)
    assert [a.name for a in fig2.layout.annotations] == ["variation"]
    assert "Target" not in " ".join(names(fig2))


# --- deciles ----------------------------------------------------------------------------

def test_decile_chart_bands_median_and_the_unit_with_its_percentile():
    jan, feb, mar = months(3)
    df = pl.DataFrame({"month": [jan] * 4 + [feb] * 4 + [mar] * 4,
                       "practice": ["A", "B", "C", "D"] * 3,
                       "slicc": [0.1, 0.2, 0.3, 0.4, 0.2, 0.3, 0.4, 0.5, None, 0.3, 0.4, 0.6],
                       "den": [10, 20, 30, 40] * 3})
    bands = decile_bands(df, "month", "slicc")
    unit = percentile_ranks(df, "month", "practice", "slicc").filter(
        pl.col("practice") == "A").filter(pl.col("month") != feb)  # Feb row missing entirely
    fig = decile_chart(bands, unit, title="SLICC against all practices", period_col="month",
                       value_col="slicc", unit_name="A81001", n_col="den")
    assert names(fig) == [f"{p}th percentile" for p in (10, 20, 30, 40)] + ["Median"] + [
        f"{p}th percentile" for p in (60, 70, 80, 90)] + ["Deciles (10th to 90th)", "A81001"]
    median = trace(fig, "Median")
    assert median.line.dash == "solid" and list(median.y) == pytest.approx([0.25, 0.35, 0.4])
    assert {t.line.dash for t in fig.data[:9] if t.name != "Median"} == {"dash"}
    assert list(trace(fig, "10th percentile").y) == pytest.approx([0.13, 0.23, 0.32])
    practice = trace(fig, "A81001")
    assert list(practice.y) == [0.1, None, None]
    assert practice.customdata[0].tolist() == [0.0, 10.0]
    assert "th percentile" in practice.hovertemplate and "n = " in practice.hovertemplate
    assert "of %{customdata:,} practices" in median.hovertemplate
    serialisable(fig)


# --- interval (error bar) chart ---------------------------------------------------------

def test_interval_chart_error_bars_n_and_highlight():
    pcns = with_wilson(pl.DataFrame({"pcn": ["U3", "U1", "U2"], "num": [81, 40, 15],
                                     "den": [263, 50, 148]}).with_columns(
        slicc=pl.col("num") / pl.col("den")), "num", "den", "slicc")
    fig = interval_chart(pcns, label_col="pcn", value_col="slicc", lci_col="slicc_lci",
                         uci_col="slicc_uci", n_col="den", title="SLICC by PCN",
                         highlight="U3", reference=136 / 461, reference_label="All PCNs",
                         n_label="GP contacts")
    assert names(fig) == ["Estimate (95% CI)", "Selected: U3", "All PCNs"]
    dots = trace(fig, "Estimate (95% CI)")
    assert list(dots.y) == ["U1", "U2"]
    assert list(dots.x) == pytest.approx([0.8, 15 / 148])
    lo, hi = pcns.sort("pcn")["slicc_lci"][:2].to_numpy(), pcns.sort("pcn")["slicc_uci"][
        :2].to_numpy()
    np.testing.assert_allclose(dots.error_x.arrayminus, dots.x - lo)
    np.testing.assert_allclose(dots.error_x.array, hi - dots.x)
    star = trace(fig, "Selected: U3")
    assert star.customdata[0].tolist() == pytest.approx([0.2553, 0.3662, 263], abs=5e-5)
    assert "n = %{customdata[2]:,.0f} GP contacts" in star.hovertemplate
    assert list(trace(fig, "All PCNs").x) == [136 / 461] * 2
    assert list(fig.layout.yaxis.categoryarray) == ["U1", "U2", "U3"]
    by_value = interval_chart(pcns, label_col="pcn", value_col="slicc", lci_col="slicc_lci",
                              uci_col="slicc_uci", n_col="den", title="t", sort="value")
    assert list(by_value.layout.yaxis.categoryarray) == ["U2", "U3", "U1"]
    serialisable(fig)


# --- monthly line chart -----------------------------------------------------------------

def test_line_chart_shows_missing_months_as_gaps_per_series():
    jan, feb, mar, apr = months(4)
    df = pl.DataFrame({"month": [jan, feb, apr, jan, feb, mar, apr],
                       "practice": ["B", "B", "B", "A", "A", "A", "A"],
                       "slicc": [0.5, 0.6, 0.7, 0.4, None, 0.45, 0.5],
                       "den": [10, 12, 14, 20, 0, 22, 24]})
    fig = line_chart(df, period_col="month", value_col="slicc", n_col="den",
                     series_col="practice", title="SLICC")
    assert names(fig) == ["A", "B"]
    a, b = fig.data
    assert list(a.y) == [0.4, None, 0.45, 0.5] and list(b.y) == [0.5, 0.6, None, 0.7]
    assert list(b.x) == [jan, feb, mar, apr]
    assert np.isnan(b.customdata[2]) and b.customdata[3] == 14
    assert a.connectgaps is False and b.connectgaps is False
    assert (a.marker.symbol, b.marker.symbol) == SERIES_SYMBOLS[:2]
    # four months: one tick a month, named by month, never by day
    assert (fig.layout.xaxis.dtick, fig.layout.xaxis.tickformat) == ("M1", "%b %Y")
    assert a.line.color != b.line.color and a.line.dash != b.line.dash
    assert "n = %{customdata:,.0f} contacts" in a.hovertemplate
    single = line_chart(df.filter(pl.col("practice") == "A"), period_col="month",
                        value_col="slicc", n_col="den", title="t")
    assert names(single) == ["slicc"]
    serialisable(fig)


# --- mix (stacked shares) ---------------------------------------------------------------

def test_mix_chart_stacks_shares_with_counts_and_patterns():
    df = pl.DataFrame({"practice": ["A", "A", "A", "B", "B"],
                       "role": ["gp", "nurse", "gp", "gp", "pharmacist"],
                       "appointments": [10, 5, 5, 4, 4]})
    fig = mix_chart(df, group_col="practice", category_col="role", count_col="appointments",
                    title="Who patients saw", category_order=["gp", "nurse", "pharmacist"],
                    category_labels={"gp": "GP"})
    assert names(fig) == ["GP", "nurse", "pharmacist"]
    assert fig.layout.barmode == "stack"
    gp = trace(fig, "GP")
    assert list(gp.y) == ["A", "B"] and list(gp.x) == [0.75, 0.5]
    assert gp.customdata.tolist() == [[15, 20], [4, 8]]
    assert list(trace(fig, "nurse").x) == [0.25, 0.0]
    assert len({t.marker.pattern.shape for t in fig.data}) == 3
    assert len({t.marker.color for t in fig.data}) == 3
    assert "of %{customdata[1]:,} appointments" in gp.hovertemplate
    serialisable(fig)


# --- scatter against list size ----------------------------------------------------------

def test_size_scatter_groups_highlight_and_fitted_line():
    df = pl.DataFrame({"practice": ["A", "B", "C", "D"], "list_size": [3000, 6000, 9000, 12000],
                       "upc": [0.8, 0.65, 0.6, 0.45], "patients": [900, 1500, 2000, 2600],
                       "quintile": ["Q1", "Q2", "Q1", None]})
    fig = size_scatter(df, x_col="list_size", y_col="upc", label_col="practice",
                       n_col="patients", title="UPC against list size", group_col="quintile",
                       highlight="C", percent=False)
    assert names(fig) == ["Q1", "Q2", "Not known", "Selected: C",
                          "Least-squares line"]
    assert list(trace(fig, "Q1").x) == [3000, 9000]
    assert trace(fig, "Q1").marker.symbol != trace(fig, "Q2").marker.symbol
    slope, intercept = np.polyfit([3000, 6000, 9000, 12000], [0.8, 0.65, 0.6, 0.45], 1)
    line = trace(fig, "Least-squares line")
    assert list(line.y) == pytest.approx([intercept + slope * 3000, intercept + slope * 12000])
    assert slope < 0
    assert trace(fig, "Selected: C").customdata.tolist() == [["C", 2000.0]]
    assert "n = %{customdata[1]:,.0f} patients" in trace(fig, "Q1").hovertemplate
    serialisable(fig)


# --- shared -----------------------------------------------------------------------------

def test_empty_figure_says_there_is_no_data():
    fig = empty_figure("SLICC by practice")
    assert fig.layout.title.text == "SLICC by practice"
    assert annotation(fig, "empty").text == "No data for this selection"
    assert len(fig.data) == 0


def test_palette_is_okabe_ito():
    assert OKABE_ITO["blue"] == "#0072B2" and OKABE_ITO["vermillion"] == "#D55E00"
    assert len(set(SERIES_SYMBOLS)) == len(SERIES_SYMBOLS)


def test_a_chart_whose_every_group_is_hidden_says_so_not_no_data() -> None:
    from metrics.charts.dashboard_figures import comparison_figure
    from metrics.disclosure import NHS_RULE
    from metrics.params import Params
    from metrics.read.table import Table, disclose, with_interval

    # two deprivation bands of two practices each: both under the 3-practice rule
    rows = pl.DataFrame({"label": ["Q1", "Q2"], "practices": [2, 2],
                         "slicc": [0.4, 1 / 3], "slicc_numerator": [400, 300],
                         "slicc_denominator": [1000, 900]})
    frame = disclose(with_interval(rows, "slicc"), NHS_RULE)
    hidden = Table("q", "By band", frame, "all", NHS_RULE)
    window = Params(date(2024, 1, 1), date(2024, 12, 31))
    fig = comparison_figure(hidden, "slicc", window, title="SLICC by band")
    message = [a.text for a in fig.layout.annotations if a.name == "empty"]
    assert message == ["Hidden by disclosure control: every group here has counts under 8 "
                       "or rests on fewer than 3 practices"]
    none = Table("q", "By band", hidden.frame.head(0), "all", NHS_RULE)
    fig = comparison_figure(none, "slicc", window, title="SLICC by band")
    assert [a.text for a in fig.layout.annotations if a.name == "empty"] == [
        "No data for this selection"]
