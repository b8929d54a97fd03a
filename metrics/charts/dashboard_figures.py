"""The dashboard's figures: a page's `Table` in, a titled plotly figure out (pure functions).

Why a layer over metrics.charts: every figure must name its index, window, staff group and
whether it shows a mean of patient values or a pooled ratio, and must draw the same numbers the
table beside it lists (after disclosure control). These functions pick the columns from the
index definition and write the subtitle; the drawing itself is metrics.charts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import plotly.graph_objects as go
import polars as pl

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
from metrics.charts.style import value_format
from metrics.methods import IndexDefinition, index
from metrics.params import STAFF_GROUP_LABELS, Params
from metrics.read.labels import ROLE_GROUP_ORDER
from metrics.read.table import Table
from metrics.stats import FunnelResult, SpcResult

NO_DATA = "No data for this selection"


def window_text(params: Params) -> str:
    return (f"{params.window_start:%b %Y} to {params.window_end:%b %Y} "
            f"({len(_months(params))} months)")


def _months(params: Params) -> list[date]:
    from metrics.pipeline.engine import months_in

    return months_in(params)


def staff_text(d: IndexDefinition, params: Params) -> str:
    """SLICC and OPR always count GP contacts, whatever the staff-group filter."""
    group = "gp" if d.key in ("slicc", "opr") else params.staff_group
    return "staff group " + STAFF_GROUP_LABELS[group].split(" (")[0]


def subtitle(d: IndexDefinition, params: Params, n_text: str | None = None,
             period: str | None = None) -> str:
    """'UPC, mean of patient values · Nov 2024 to Oct 2026 (24 months) · staff group GP · n'."""
    parts = [f"{d.name}, {d.summary}", period or window_text(params), staff_text(d, params)]
    if n_text:
        parts.append(n_text)
    return " · ".join(parts)


def n_column(d: IndexDefinition) -> str:
    return d.denominator_col


def n_label(d: IndexDefinition) -> str:
    return "eligible patients" if d.kind == "mean" else d.n_label


def total_n(frame: pl.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.height == 0:
        return None
    value = frame[column].cast(pl.Float64, strict=False).sum()
    return float(value) if value is not None else None


def n_text(frame: pl.DataFrame, d: IndexDefinition, what: str = "") -> str | None:
    total = total_n(frame, n_column(d))
    if total is None:
        return None
    return f"n = {total:,.0f} {n_label(d)}{what}"


def _has_values(frame: pl.DataFrame, column: str) -> bool:
    return column in frame.columns and frame[column].drop_nulls().len() > 0


def empty_message(table: Table, column: str) -> str:
    """Why a chart has nothing to draw: rows whose every figure disclosure control hid say so
    (with the rule), since "no data" would tell a reviewer the groups do not exist."""
    if table.frame.height and column in table.controlled() and table.masked(column).all():
        rule = table.rule
        return (f"Hidden by disclosure control: every group here has counts under "
                f"{rule.suppress_below} or rests on fewer than {rule.min_practices} practices")
    return NO_DATA


def comparison_figure(table: Table, key: str, params: Params, *, title: str,
                      label_col: str = "label", highlight: str | None = None,
                      reference: float | None = None, reference_label: str = "Overall",
                      n_summary: str | None = None, sort: str = "label") -> go.Figure:
    """Units side by side with 95% intervals (Wilson for ratios, t for means).

    The subtitle's n is the units' total unless `n_summary` says otherwise (units that
    overlap, such as a practice and its PCN, must not be added up)."""
    d = index(key)
    frame = table.numeric()
    if not _has_values(frame, d.value_col):
        return empty_figure(title, empty_message(table, d.value_col))
    return interval_chart(
        frame, label_col=label_col, value_col=d.value_col, lci_col=f"{d.key}_lci",
        uci_col=f"{d.key}_uci", n_col=n_column(d), title=title,
        subtitle=subtitle(d, params, n_summary or n_text(frame, d)), percent=d.percent,
        n_label=n_label(d), reference=reference, reference_label=reference_label,
        highlight=highlight, x_title=f"{d.name} (95% interval)", sort=sort)


def trend_figure(table: Table, params: Params, *, title: str, series_col: str = "label"
                 ) -> go.Figure:
    """Monthly SLICC lines, one per series; a month without contacts is a gap."""
    d = index("slicc")
    frame = table.numeric()
    if not _has_values(frame, "slicc"):
        return empty_figure(title, empty_message(table, "slicc"))
    n = total_n(frame, "slicc_denominator")
    return line_chart(
        frame, period_col="month", value_col="slicc", n_col="slicc_denominator", title=title,
        subtitle=subtitle(d, params, f"n = {n:,.0f} GP contacts" if n is not None else None,
                          period=f"each month, {window_text(params)}"),
        series_col=series_col, percent=True, n_label="GP contacts of named-GP patients",
        y_title="SLICC")


def spc_figure(table: Table, params: Params, *, title: str, value_col: str = "slicc",
               n_col: str = "slicc_denominator", n_label: str = "GP contacts",
               period: str | None = None) -> go.Figure:
    """XmR chart of a table made by `results.spc_table` (its SpcResult is drawn; the table
    lists the same points with their limits and reasons)."""
    frame = table.numeric()
    result = table.result
    if not isinstance(result, SpcResult) or not _has_values(frame, value_col):
        return empty_figure(title, NO_DATA)
    d = index("upc" if value_col == "upc_mean" else "slicc")
    if value_col == "slicc":  # monthly counts add up; rolling windows overlap and do not
        n_text = f"n = {total_n(frame, n_col) or 0:,.0f} {n_label}"
    else:
        last = frame.filter(pl.col(value_col).is_not_null()).row(-1, named=True)
        n_text = f"n = {last[n_col] or 0:,.0f} {n_label} in the 12 months to {last['month']:%b %Y}"
    points = result.points.join(frame.select("month", n_col), on="month", how="left")
    result = SpcResult(points, result.direction, result.variation, result.variation_side,
                       result.assurance, result.target, result.latest_period)
    fig = spc_chart(
        result, title=title, period_col="month", value_col=value_col, percent=d.percent,
        subtitle=subtitle(d, params, n_text,
                          period=period or f"each month, {window_text(params)}"),
        y_title=d.name, n_col=n_col, n_label=n_label)
    if "short_history" in frame.columns:
        _short_history(fig, frame, value_col, d.percent)
    return fig


SHORT_HISTORY = "Under 12 months of data behind it (left out of the limits)"


def _short_history(fig: go.Figure, frame: pl.DataFrame, value_col: str, percent: bool
                   ) -> None:
    """Rolling points whose 12 months reach back before the data: hollow, and not judged."""
    short = frame.filter(pl.col("short_history").fill_null(False)
                         & pl.col(value_col).is_not_null())
    if short.height == 0:
        return
    fmt = value_format(percent)
    fig.add_trace(go.Scatter(
        x=short["month"].to_list(), y=short[value_col].to_list(), mode="markers",
        name=SHORT_HISTORY, marker={"symbol": "circle-open", "size": 10, "color": "#555555"},
        hovertemplate=(f"<b>%{{x|%b %Y}}</b><br>%{{y:{fmt}}}<br>Fewer than 12 months of data "
                       "in this window: reads high, so left out of the limits and rules"
                       "<extra></extra>")))


def spc_icons(table: Table) -> list[tuple[str, str]]:
    """The SPC icons as (kind, text): 'variation' always, 'assurance' when a target is set."""
    result = table.result
    if not isinstance(result, SpcResult) or result.variation is None:
        return []
    icons = [(result.variation, f"Variation: {result.variation_text}")]
    if result.assurance is not None:
        icons.append((result.assurance, f"Assurance: {result.assurance_text}"))
    return icons


def decile_figure(table: Table, params: Params, *, title: str, unit_name: str,
                  peers: str = "practices") -> go.Figure:
    """The practice's monthly SLICC over the deciles of its peers (all practices or an ICB's)."""
    frame = table.numeric()
    if frame.height == 0 or not _has_values(frame, "p50"):
        return empty_figure(title, NO_DATA)
    bands = frame.select("month", pl.col("practices").alias("units"),
                         *[c for c in frame.columns if c.startswith("p") and c[1:].isdigit()])
    unit = frame.select("month", "practice_slicc", "percentile", "practice_slicc_denominator")
    d = index("slicc")
    return decile_chart(
        bands, unit, title=title, period_col="month", value_col="practice_slicc",
        unit_name=unit_name, percentile_col="percentile", n_col="practice_slicc_denominator",
        n_label="GP contacts", percent=True, y_title="SLICC",
        subtitle=subtitle(d, params, _decile_n(frame, peers),
                          period=f"each month, {window_text(params)}"),
        peers_label="practices")


def _decile_n(frame: pl.DataFrame, peers: str) -> str:
    """'n = 3,053 GP contacts in the practice; deciles of up to 40 practices'."""
    own = total_n(frame, "practice_slicc_denominator") or 0
    units = frame["practices"].max() or 0
    return f"n = {own:,.0f} GP contacts in the practice; deciles of up to {units:,} {peers}"


def funnel_figure(table: Table, key: str, params: Params, *, title: str,
                  label_col: str = "practice_code", selected: str | None = None) -> go.Figure:
    """Funnel plot of a table made by `results.funnel_table`: target = the overall value;
    95% and 99.8% limits (adjusted or not, as the table was computed)."""
    d = index(key)
    result = table.result
    if not isinstance(result, FunnelResult):
        return empty_figure(title, "Too few units with data for a funnel plot")
    # only the units the table still lists (a reviewer's scope may have removed some; the
    # target and limits stay those of every unit, as a benchmark)
    shown = table.frame[label_col].cast(pl.Utf8).to_list() if label_col in table.frame.columns \
        else []
    units = result.units.filter(pl.col(label_col).cast(pl.Utf8).is_in(shown))
    result = replace(result, units=units)
    usable = units.filter(pl.col("value").is_not_null())
    return funnel_chart(
        result, label_col=label_col, title=title,
        subtitle=subtitle(d, params, n_text(usable, d)), selected=selected,
        percent=d.percent, precision_label=n_label(d), y_title=d.name)


def size_figure(table: Table, key: str, params: Params, *, title: str,
                label_col: str = "practice_code", group_col: str | None = "pcn_code",
                highlight: str | None = None) -> go.Figure:
    """Continuity against list size (larger practices tend to lose continuity)."""
    d = index(key)
    frame = table.numeric()
    if not _has_values(frame, d.value_col) or not _has_values(frame, "list_size"):
        return empty_figure(title, NO_DATA)
    if group_col is not None and frame[group_col].dtype == pl.Boolean:
        frame = frame.with_columns(pl.col(group_col).replace_strict(
            {True: "Personal lists", False: "No personal lists"}, default=None,
            return_dtype=pl.Utf8))
    return size_scatter(
        frame, x_col="list_size", y_col=d.value_col, label_col=label_col, n_col=n_column(d),
        title=title, subtitle=subtitle(d, params, n_text(frame, d)), group_col=group_col,
        highlight=highlight, percent=d.percent, n_label=n_label(d), y_title=d.name,
        x_title="Registered list size")


def mix_figure(table: Table, params: Params, *, title: str, by: str) -> go.Figure:
    """Shares of attended appointments by role group or mode, per unit."""
    from metrics.read.labels import MODE_LABELS

    frame = table.numeric()
    if frame.height == 0 or total_n(frame, "numerator") in (None, 0.0):
        return empty_figure(title, NO_DATA)
    order = list(ROLE_GROUP_ORDER) if by == "role" else list(MODE_LABELS.values())
    n = total_n(frame.filter(pl.col("unit") == frame["unit"][0]), "numerator")
    fig = mix_chart(frame.with_columns(pl.col("numerator").fill_null(0)),
                    group_col="unit", category_col="category", count_col="numerator",
                    title=title, category_order=order, n_label="attended appointments",
                    subtitle=(f"attended appointments of every role and mode · "
                              f"{window_text(params)} · n = {n or 0:,.0f} for "
                              f"{frame['unit'][0]}"))
    return fig


def gp_share_figure(table: Table, params: Params, *, title: str) -> go.Figure:
    frame = table.numeric()
    if not _has_values(frame, "share"):
        return empty_figure(title, NO_DATA)
    n = total_n(frame, "denominator")
    return line_chart(
        frame.with_columns(pl.lit("Share with a GP").alias("series")), period_col="month",
        value_col="share", n_col="denominator", series_col="series", title=title,
        subtitle=(f"GP, GP registrar or locum GP / all attended appointments · each month, "
                  f"{window_text(params)} · n = {n or 0:,.0f} appointments"),
        percent=True, n_label="attended appointments", y_title="Share with a GP")
