"""SPC (XmR) chart: monthly values, centre and limits per segment, special causes, icons."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import OKABE_ITO, SPC_STYLE, apply_layout, value_format
from metrics.stats.spc import SpcResult

TYPE_NAMES = {"improvement": "Special cause improvement", "concern": "Special cause concern"}


def _by_segment(points: pl.DataFrame, period_col: str, column: str) -> tuple[list, list]:
    """x, y for a per-segment horizontal line; None between segments breaks the line."""
    xs: list = []
    ys: list = []
    for seg in points["segment"].unique(maintain_order=True).to_list():
        part = points.filter(pl.col("segment") == seg)
        if xs:
            xs.append(None)
            ys.append(None)
        xs += [part[period_col][0], part[period_col][-1]]
        ys += [part[column][0], part[column][0]]
    return xs, ys


def spc_chart(result: SpcResult, *, title: str, subtitle: str | None = None,
              period_col: str = "period", value_col: str = "value", percent: bool = True,
              y_title: str | None = None, n_col: str | None = None,
              n_label: str = "contacts", target_label: str | None = None) -> go.Figure:
    """XmR chart of `result` (from metrics.stats.spc.xmr).

    Traces: "Monthly value" (line with gaps at missing months; common-cause markers),
    "Centre (mean)", "Process limits" (upper and lower, segment by segment), one trace per
    special-cause type present (colour and symbol differ), and "Target" when set. The
    variation and assurance icons are annotations named "variation" and "assurance". Hover
    shows the month, value, n (from `n_col`) and the reason a point is or is not special.
    """
    fmt = value_format(percent)
    pts = result.points
    n_values = (pts[n_col].cast(pl.Float64).to_numpy() if n_col
                else np.full(pts.height, np.nan))
    custom = np.column_stack([pts["reason"].fill_null("No data").to_numpy(), n_values])
    n_text = f"n = %{{customdata[1]:,.0f}} {n_label}<br>" if n_col else ""
    hover = (f"<b>%{{x|%b %Y}}</b><br>%{{y:{fmt}}}<br>{n_text}%{{customdata[0]}}"
             "<extra></extra>")
    colour, symbol = SPC_STYLE["common"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=pts[period_col].to_list(), y=pts[value_col].to_list(), mode="lines+markers",
        name="Monthly value", connectgaps=False, line={"color": colour, "width": 1.5},
        marker={"color": colour, "symbol": symbol, "size": 7}, customdata=custom,
        hovertemplate=hover))
    x, y = _by_segment(pts, period_col, "centre")
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="Centre (mean)", hoverinfo="skip",
                             line={"color": OKABE_ITO["black"], "width": 1.5}))
    xl, yl = _by_segment(pts, period_col, "lower")
    xu, yu = _by_segment(pts, period_col, "upper")
    fig.add_trace(go.Scatter(x=xl + [None] + xu, y=yl + [None] + yu, mode="lines",
                             name="Process limits", hoverinfo="skip",
                             line={"color": OKABE_ITO["black"], "dash": "dash", "width": 1}))
    for kind, name in TYPE_NAMES.items():
        mask = (pts["type"] == kind).fill_null(False).to_numpy()
        if not mask.any():
            continue
        colour, symbol = SPC_STYLE[kind]
        fig.add_trace(go.Scatter(
            x=pts[period_col].to_numpy()[mask], y=pts[value_col].to_numpy()[mask],
            mode="markers", name=name, customdata=custom[mask], hovertemplate=hover,
            marker={"color": colour, "symbol": symbol, "size": 11,
                    "line": {"width": 1, "color": "#333333"}}))
    if result.target is not None and pts.height:
        shown = f"{result.target:.0%}" if percent else f"{result.target:g}"
        label = target_label or f"Target {shown}"
        fig.add_trace(go.Scatter(
            x=[pts[period_col][0], pts[period_col][-1]], y=[result.target] * 2, mode="lines",
            name=label, line={"color": OKABE_ITO["bluish_green"], "dash": "dashdot"},
            hovertemplate=f"{label}<extra></extra>"))
    _icons(fig, result)
    return apply_layout(fig, title, subtitle, y_title=y_title, percent_y=percent)


def _icons(fig: go.Figure, result: SpcResult) -> None:
    colour = SPC_STYLE[result.variation or "common"][0]
    texts = [("variation", f"Variation: {result.variation_text}", colour)]
    if result.assurance is not None:
        texts.append(("assurance", f"Assurance: {result.assurance_text}",
                      OKABE_ITO["black"]))
    for i, (name, text, col) in enumerate(texts):  # inside the plot's top-right corner
        fig.add_annotation(text=text, name=name, showarrow=False, xref="paper", yref="paper",
                           x=0.995, y=0.99 - 0.08 * i, xanchor="right", yanchor="top",
                           font={"size": 12, "color": col}, bordercolor=col, borderwidth=1,
                           borderpad=3, bgcolor="white")
