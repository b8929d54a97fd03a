"""Line chart of monthly series; a month without data is a gap, never a zero."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import apply_layout, series_style, value_format
from metrics.stats.spc import complete_months


def line_chart(df: pl.DataFrame, *, period_col: str, value_col: str, n_col: str, title: str,
               subtitle: str | None = None, series_col: str | None = None,
               percent: bool = True, n_label: str = "contacts",
               y_title: str | None = None) -> go.Figure:
    """One line per series (or one line), months completed so missing months break the line.

    Trace names are the series values (or `value_col` when there is one series); each has
    its own colour, marker symbol and dash. Hover shows month, value and n.
    """
    fmt = value_format(percent)
    groups = ([(str(k[0]), part) for k, part in df.group_by(series_col, maintain_order=True)]
              if series_col else [(value_col, df)])
    if series_col:
        groups.sort(key=lambda g: g[0])
    fig = go.Figure()
    for i, (name, part) in enumerate(groups):
        style = series_style(i)
        months = complete_months(part.select(period_col, value_col, n_col), period_col)
        fig.add_trace(go.Scatter(
            x=months[period_col].to_list(), y=months[value_col].to_list(),
            mode="lines+markers", name=name, connectgaps=False,
            line={"color": style["color"], "dash": style["dash"], "width": 2},
            marker={"color": style["color"], "symbol": style["symbol"], "size": 7},
            customdata=months[n_col].cast(pl.Float64).fill_null(np.nan).to_numpy(),
            hovertemplate=(f"<b>{name}</b> %{{x|%b %Y}}<br>%{{y:{fmt}}}<br>"
                           f"n = %{{customdata:,.0f}} {n_label}<extra></extra>")))
    fig = apply_layout(fig, title, subtitle, y_title=y_title, percent_y=percent)
    # Monthly points: month ticks (a short series would otherwise get day ticks).
    periods = df[period_col].n_unique() if df.height else 0
    return fig.update_xaxes(tickformat="%b %Y", dtick="M1" if periods <= 12 else None)
