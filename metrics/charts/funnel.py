"""Funnel chart: units against their precision, with target, 95% and 99.8% limit curves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import FUNNEL_STYLE, OKABE_ITO, apply_layout, value_format
from metrics.stats.funnel import FunnelResult

POINT_CLASSES = {  # class -> legend name
    "within": "Within limits",
    "outside95": "Outside 95% limits",
    "outside998": "Outside 99.8% limits",
}


def _band(curve: pl.DataFrame, level: str) -> tuple[list, list]:
    """Lower then upper curve in one trace, split by a None."""
    x = curve["precision"].to_list()
    return x + [None] + x, curve[f"lower{level}"].to_list() + [None] + curve[
        f"upper{level}"].to_list()


def _hover(result: FunnelResult, fmt: str, precision_label: str) -> str:
    counts = (f"%{{customdata[2]:,.0f}} / %{{x:,.0f}} {precision_label}"
              if result.numerator_col else f"n = %{{x:,.0f}} {precision_label}")
    return ("<b>%{customdata[0]}</b><br>"
            f"%{{y:{fmt}}} (95% CI %{{customdata[3]:{fmt}}} to %{{customdata[4]:{fmt}}})<br>"
            f"{counts}<br>z = %{{customdata[1]:.2f}}<extra></extra>")


def _classify(units: pl.DataFrame) -> pl.Series:
    return (units.select(
        pl.when(pl.col("flag998").is_not_null()).then(pl.lit("outside998"))
        .when(pl.col("flag95").is_not_null()).then(pl.lit("outside95"))
        .otherwise(pl.lit("within")).alias("class"))["class"])


def funnel_chart(result: FunnelResult, *, label_col: str, title: str,
                 subtitle: str | None = None, selected: str | None = None,
                 percent: bool = True, precision_label: str = "contacts",
                 x_title: str | None = None, y_title: str | None = None,
                 label_outliers: str = "998") -> go.Figure:
    """Funnel plot of `result`.

    Traces: "99.8% limits" and "95% limits" (lower and upper as one line each), "Target",
    one marker trace per point class present (shape and colour differ), and "Selected: name"
    (a star) when `selected` matches a label. Units outside the `label_outliers` limits
    ("95" or "998") carry their name as text. Units without a value are left out.
    """
    fmt = value_format(percent)
    fig = go.Figure()
    for level, name, dash in (("998", "99.8% limits", "dash"), ("95", "95% limits", "dot")):
        x, y = _band(result.curve, level)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, hoverinfo="skip",
                                 line={"color": OKABE_ITO["black"] if level == "998"
                                       else OKABE_ITO["blue"], "dash": dash, "width": 1.5}))
    x_range = [float(result.curve["precision"].min()), float(result.curve["precision"].max())]
    fig.add_trace(go.Scatter(
        x=x_range, y=[result.target] * 2, mode="lines", name="Target",
        line={"color": OKABE_ITO["bluish_green"], "width": 2},
        hovertemplate=f"Target %{{y:{fmt}}}<extra></extra>"))
    units = result.units.filter(pl.col("value").is_not_null())
    units = units.with_columns(_classify(units))
    numerator = (units[result.numerator_col].cast(pl.Float64) if result.numerator_col
                 else pl.Series([np.nan] * units.height))
    custom = np.column_stack([units[label_col].cast(pl.Utf8).to_numpy(),
                              units["z_adj"].to_numpy(), numerator.to_numpy(),
                              units["lci"].to_numpy(), units["uci"].to_numpy()])
    hover = _hover(result, fmt, precision_label)
    labelled = {"95": ("outside95", "outside998"), "998": ("outside998",)}[label_outliers]
    for cls, name in POINT_CLASSES.items():
        mask = (units["class"] == cls).to_numpy()
        if not mask.any():
            continue
        colour, symbol = FUNNEL_STYLE[cls]
        # the selected unit is labelled once, by its own trace
        text = [t if t != selected else ""
                for t in units.filter(pl.Series(mask))[label_col].cast(pl.Utf8).to_list()]
        fig.add_trace(go.Scatter(
            x=units["precision"].to_numpy()[mask], y=units["value"].to_numpy()[mask],
            mode="markers+text" if cls in labelled else "markers", name=name,
            text=text if cls in labelled else None, textposition="top center",
            marker={"color": colour, "symbol": symbol, "size": 9,
                    "line": {"width": 1, "color": "#333333"}},
            customdata=custom[mask], hovertemplate=hover))
    if selected is not None:
        mask = (units[label_col].cast(pl.Utf8) == selected).to_numpy()
        if mask.any():
            colour, symbol = FUNNEL_STYLE["selected"]
            fig.add_trace(go.Scatter(
                x=units["precision"].to_numpy()[mask], y=units["value"].to_numpy()[mask],
                mode="markers+text", name=f"Selected: {selected}", text=[selected],
                textposition="bottom center",
                marker={"color": OKABE_ITO["yellow"], "symbol": symbol, "size": 18,
                        "line": {"width": 2, "color": colour}},
                customdata=custom[mask], hovertemplate=hover))
    adjusted = ("limits widened for over-dispersion" if result.adjusted and result.tau2 > 0
                else "unadjusted limits")
    note = f"{adjusted} (phi = {result.phi:.2f}, tau² = {result.tau2:.2g})"
    fig.add_annotation(text=note, showarrow=False, xref="paper", yref="paper", x=0.995,
                       y=0.01, xanchor="right", yanchor="bottom", font={"size": 12},
                       bgcolor="white", name="dispersion")  # inside, bottom right
    x_title = x_title or precision_label[:1].upper() + precision_label[1:]
    return apply_layout(fig, title, subtitle, x_title=x_title, y_title=y_title,
                        percent_y=percent)
