"""Dot chart with confidence intervals for comparing units side by side (e.g. all PCNs)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import (
    OKABE_ITO,
    SELECTED_COLOUR,
    SELECTED_SYMBOL,
    apply_layout,
    value_format,
)


def interval_chart(df: pl.DataFrame, *, label_col: str, value_col: str, lci_col: str,
                   uci_col: str, n_col: str, title: str, subtitle: str | None = None,
                   percent: bool = True, n_label: str = "patients",
                   sort: Literal["value", "label", "input"] = "label",
                   reference: float | None = None, reference_label: str = "Overall",
                   highlight: str | None = None, x_title: str | None = None) -> go.Figure:
    """Horizontal dots with error bars (Wilson or t intervals), one row per unit.

    Traces: "Estimate (95% CI)" for all units but the highlighted one, "Selected: name" for
    `highlight` (its own symbol), and a vertical reference line named `reference_label`.
    Units without a value are listed with no dot. Sorting by label by default: ranking by
    value invites league-table reading of intervals that overlap; "input" keeps the rows'
    own order (age bands, quintiles).
    """
    fmt = value_format(percent)
    frame = (df if sort == "input"
             else df.sort(value_col if sort == "value" else label_col, nulls_last=True))
    frame = frame.with_columns(pl.col(label_col).cast(pl.Utf8))
    chosen = (frame[label_col] == highlight).to_numpy() if highlight else np.zeros(
        frame.height, dtype=bool)
    hover = (f"<b>%{{y}}</b><br>%{{x:{fmt}}} (95% CI %{{customdata[0]:{fmt}}} to "
             f"%{{customdata[1]:{fmt}}})<br>n = %{{customdata[2]:,.0f}} {n_label}"
             "<extra></extra>")
    fig = go.Figure()
    for name, mask, colour, symbol, size in (
            ("Estimate (95% CI)", ~chosen, OKABE_ITO["blue"], "circle", 9),
            (f"Selected: {highlight}", chosen, SELECTED_COLOUR, SELECTED_SYMBOL, 15)):
        if not mask.any():
            continue
        part = frame.filter(pl.Series(mask))
        value = part[value_col].cast(pl.Float64).to_numpy()
        lci = part[lci_col].cast(pl.Float64).to_numpy()
        uci = part[uci_col].cast(pl.Float64).to_numpy()
        fig.add_trace(go.Scatter(
            x=value, y=part[label_col].to_list(), mode="markers", name=name,
            marker={"color": colour, "symbol": symbol, "size": size},
            error_x={"type": "data", "symmetric": False, "array": uci - value,
                     "arrayminus": value - lci, "color": colour, "thickness": 1.5},
            customdata=np.column_stack([lci, uci, part[n_col].cast(pl.Float64).to_numpy()]),
            hovertemplate=hover))
    if reference is not None:
        fig.add_trace(go.Scatter(
            x=[reference, reference], y=[frame[label_col][0], frame[label_col][-1]],
            mode="lines", name=reference_label,
            line={"color": OKABE_ITO["bluish_green"], "dash": "dash"},
            hovertemplate=f"{reference_label} %{{x:{fmt}}}<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=frame[label_col].to_list(),
                     autorange="reversed")
    height = max(320, 90 + 26 * frame.height)
    return apply_layout(fig, title, subtitle, x_title=x_title, percent_x=percent,
                        height=height)
