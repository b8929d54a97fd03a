"""Stacked bars of shares: who patients saw (role) and how (mode), per group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.charts.style import BAR_PATTERNS, SERIES_COLOURS, apply_layout


def mix_shares(df: pl.DataFrame, group_col: str, category_col: str, count_col: str
               ) -> pl.DataFrame:
    """Every group x category with its count (0 if absent), the group's total and share."""
    counts = df.group_by(group_col, category_col).agg(pl.col(count_col).sum())
    grid = (counts.select(group_col).unique()
            .join(counts.select(category_col).unique(), how="cross"))
    return (grid.join(counts, on=[group_col, category_col], how="left")
            .with_columns(pl.col(count_col).fill_null(0))
            .with_columns(total=pl.col(count_col).sum().over(group_col))
            .with_columns(share=pl.when(pl.col("total") > 0)
                          .then(pl.col(count_col) / pl.col("total")))
            .sort(group_col, category_col))


def mix_chart(df: pl.DataFrame, *, group_col: str, category_col: str, count_col: str,
              title: str, subtitle: str | None = None,
              category_order: Sequence[str] | None = None,
              category_labels: dict[str, str] | None = None,
              n_label: str = "appointments", horizontal: bool = True) -> go.Figure:
    """100% stacked bars: each group's count split by category, as shares.

    One bar trace per category (named by `category_labels` or the category), colour and fill
    pattern both differing. Hover: group, category, share, count and the group's total.
    """
    frame = mix_shares(df, group_col, category_col, count_col).with_columns(
        pl.col(group_col).cast(pl.Utf8))
    present = frame[category_col].unique().to_list()
    order = [c for c in (category_order or sorted(present)) if c in present]
    labels = category_labels or {}
    axis, value = ("%{y}", "%{x:.1%}") if horizontal else ("%{x}", "%{y:.1%}")
    fig = go.Figure()
    for i, cat in enumerate(order):
        part = frame.filter(pl.col(category_col) == cat)
        groups, share = part[group_col].to_list(), part["share"].to_list()
        name = labels.get(cat, cat)
        fig.add_trace(go.Bar(
            x=share if horizontal else groups, y=groups if horizontal else share,
            orientation="h" if horizontal else "v", name=name,
            marker={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)],
                    "pattern": {"shape": BAR_PATTERNS[i % len(BAR_PATTERNS)]},
                    "line": {"color": "white", "width": 0.5}},
            customdata=np.column_stack([part[count_col].to_numpy(), part["total"].to_numpy()]),
            hovertemplate=(f"<b>{axis}</b><br>{name}: {value}<br>%{{customdata[0]:,}} of "
                           f"%{{customdata[1]:,}} {n_label}<extra></extra>")))
    fig.update_layout(barmode="stack")
    groups = frame[group_col].unique().sort().to_list()
    if horizontal:
        fig.update_yaxes(categoryorder="array", categoryarray=groups, autorange="reversed")
    height = max(320, 120 + 30 * len(groups)) if horizontal else 480
    return apply_layout(fig, title, subtitle, percent_x=horizontal, percent_y=not horizontal,
                        height=height)
