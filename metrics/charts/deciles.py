"""Decile chart (OpenPrescribing style): a unit's monthly value over the deciles of its peers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import OKABE_ITO, apply_layout, value_format
from metrics.stats.deciles import PERCENTILES
from metrics.stats.spc import complete_months


def _ordinal(p: int) -> str:
    return f"{p}th percentile"


def decile_chart(bands: pl.DataFrame, unit_series: pl.DataFrame | None, *, title: str,
                 subtitle: str | None = None, period_col: str = "period",
                 value_col: str = "value", unit_name: str = "Selected",
                 percentile_col: str | None = "percentile", n_col: str | None = None,
                 n_label: str = "contacts", percent: bool = True,
                 y_title: str | None = None, peers_label: str = "practices") -> go.Figure:
    """Deciles from `metrics.stats.deciles.decile_bands` with one unit's line on top.

    Traces: "10th percentile" ... "90th percentile" (dashed, out of the legend) with "Median"
    (solid) among them, a legend-only "Deciles (10th to 90th)", then the unit's line named
    `unit_name` with its percentile and n in hover. Missing months are gaps.
    """
    fmt = value_format(percent)
    bands = complete_months(bands, period_col)
    x = bands[period_col].to_list()
    units = bands["units"].fill_null(0).to_numpy()
    fig = go.Figure()
    for p in PERCENTILES:
        median = p == 50
        name = "Median" if median else _ordinal(p)
        fig.add_trace(go.Scatter(
            x=x, y=bands[f"p{p}"].to_list(), mode="lines", name=name, connectgaps=False,
            legendgroup="median" if median else "deciles", showlegend=median,
            line={"color": OKABE_ITO["blue"], "dash": "solid" if median else "dash",
                  "width": 2.5 if median else 1},
            customdata=units,
            hovertemplate=(f"{name}: %{{y:{fmt}}}<br>of %{{customdata:,}} {peers_label}"
                           "<extra></extra>")))
    fig.add_trace(go.Scatter(  # legend entry standing for the eight dashed decile lines
        x=[None], y=[None], mode="lines", name="Deciles (10th to 90th)", legendgroup="deciles",
        line={"color": OKABE_ITO["blue"], "dash": "dash", "width": 1}, hoverinfo="skip"))
    if unit_series is not None and unit_series.height:
        series = complete_months(unit_series, period_col)
        pct = (series[percentile_col].cast(pl.Float64).to_numpy()
               if percentile_col else np.full(series.height, np.nan))
        n = (series[n_col].cast(pl.Float64).to_numpy() if n_col
             else np.full(series.height, np.nan))
        n_text = f"<br>n = %{{customdata[1]:,.0f}} {n_label}" if n_col else ""
        pct_text = "<br>%{customdata[0]:.0f}th percentile" if percentile_col else ""
        fig.add_trace(go.Scatter(
            x=series[period_col].to_list(), y=series[value_col].to_list(),
            mode="lines+markers", name=unit_name, connectgaps=False,
            line={"color": OKABE_ITO["vermillion"], "width": 2.5},
            marker={"symbol": "circle", "size": 7},
            customdata=np.column_stack([pct, n]),
            hovertemplate=(f"<b>{unit_name}</b> %{{x|%b %Y}}<br>%{{y:{fmt}}}"
                           f"{pct_text}{n_text}<extra></extra>")))
    return apply_layout(fig, title, subtitle, y_title=y_title, percent_y=percent)
