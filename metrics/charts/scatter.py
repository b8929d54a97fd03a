"""Continuity against list size: larger practices tend to lose continuity."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import (
    OKABE_ITO,
    SELECTED_COLOUR,
    SELECTED_SYMBOL,
    apply_layout,
    series_style,
    value_format,
)

UNKNOWN_GROUP = "Not known"


def size_scatter(df: pl.DataFrame, *, x_col: str, y_col: str, label_col: str, n_col: str,
                 title: str, subtitle: str | None = None, group_col: str | None = None,
                 highlight: str | None = None, fit: bool = True, percent: bool = True,
                 n_label: str = "patients", x_title: str = "List size",
                 y_title: str | None = None) -> go.Figure:
    """Scatter of y against x, one trace per group (shape and colour), optional OLS line.

    Traces: the group values (sorted, a missing group last as "Not known"; or "Practices"),
    "Selected: name" for `highlight`, and "Least-squares line" when `fit` and at least 3
    points have both values.
    """
    fmt = value_format(percent)
    frame = df.filter(pl.col(x_col).is_not_null() & pl.col(y_col).is_not_null()).with_columns(
        pl.col(label_col).cast(pl.Utf8))
    hover = (f"<b>%{{customdata[0]}}</b><br>{x_title}: %{{x:,.0f}}<br>%{{y:{fmt}}}<br>"
             f"n = %{{customdata[1]:,.0f}} {n_label}<extra></extra>")
    groups = (sorted(frame[group_col].unique().to_list(), key=lambda g: (g is None, str(g)))
              if group_col else ["Practices"])
    fig = go.Figure()
    for i, group in enumerate(groups):
        part = (frame if group_col is None
                else frame.filter(pl.col(group_col).is_null() if group is None
                                  else pl.col(group_col) == group))
        style = series_style(i)
        fig.add_trace(go.Scatter(
            x=part[x_col].to_list(), y=part[y_col].to_list(), mode="markers",
            name=UNKNOWN_GROUP if group is None else str(group),
            marker={"color": style["color"], "symbol": style["symbol"], "size": 8,
                    "opacity": 0.85},
            customdata=np.column_stack([part[label_col].to_numpy(),
                                        part[n_col].cast(pl.Float64).to_numpy()]),
            hovertemplate=hover))
    chosen = frame.filter(pl.col(label_col) == highlight) if highlight else frame.clear()
    if chosen.height:
        fig.add_trace(go.Scatter(
            x=chosen[x_col].to_list(), y=chosen[y_col].to_list(), mode="markers+text",
            name=f"Selected: {highlight}", text=[highlight] * chosen.height,
            textposition="top center",
            marker={"color": OKABE_ITO["yellow"], "symbol": SELECTED_SYMBOL, "size": 16,
                    "line": {"width": 2, "color": SELECTED_COLOUR}},
            customdata=np.column_stack([chosen[label_col].to_numpy(),
                                        chosen[n_col].cast(pl.Float64).to_numpy()]),
            hovertemplate=hover))
    if fit and frame.height >= 3:
        x = frame[x_col].cast(pl.Float64).to_numpy()
        y = frame[y_col].cast(pl.Float64).to_numpy()
        slope, intercept = np.polyfit(x, y, 1)
        xs = np.array([x.min(), x.max()])
        fig.add_trace(go.Scatter(
            x=xs, y=intercept + slope * xs, mode="lines", name="Least-squares line",
            line={"color": OKABE_ITO["black"], "dash": "dash"},
            hovertemplate=(f"Fitted %{{y:{fmt}}} at %{{x:,.0f}}<br>n = {frame.height:,} "
                           "practices<extra></extra>")))
    return apply_layout(fig, title, subtitle, x_title=x_title, y_title=y_title,
                        percent_y=percent)
