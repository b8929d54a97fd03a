"""Screen formatting of result tables and headline figures (the views' side of the read layer).

Numbers reach the screen as numbers with a suppression mask (metrics.read.table.Table): a
column with nothing suppressed stays numeric and is formatted by st.dataframe's column config;
where a '*' stands, the column is written as text, each number formatted by its kind
(51.7%, 0.612, 1,235). Column kinds come from metrics.read.table.column_kind, the one place.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.disclosure import SUPPRESSED
from metrics.read.table import Table, column_kind

FORMATS = {"percent": "percent", "mean": "%.3f", "count": "localized", "percentile": "%.0f",
           "z": "%.2f"}


def format_number(value: float | None, kind: str) -> str | None:
    if value is None:
        return None
    number = float(value)
    return {"percent": f"{number:.1%}", "mean": f"{number:.3f}", "count": f"{number:,.0f}",
            "percentile": f"{number:.0f}", "z": f"{number:.2f}"}[kind]


def display_frame(table: Table) -> pl.DataFrame:
    """A table for the screen: controlled columns as floats where nothing in them is
    suppressed (so they sort and format as numbers); where a '*' stands, the column as text."""
    frame = table.numeric()
    out = []
    for name in table.controlled():
        masked = table.masked(name)
        kind = column_kind(name)
        if not masked.any():
            continue  # already a float column
        if kind is None:
            out.append(table.shown()[name])
            continue
        # in Python, not map_elements: a Python UDF on polars' thread pool deadlocks against
        # another session's to_pandas (st.dataframe) and hangs the whole server
        out.append(pl.Series(name, [SUPPRESSED if hide else format_number(v, kind)
                                    for v, hide in zip(frame[name].to_list(), masked.to_list(),
                                                       strict=True)], dtype=pl.Utf8))
    return frame.with_columns(out) if out else frame


def column_config(frame: pl.DataFrame) -> dict[str, object]:
    """Number formats by column kind: percentages, means to 3 places, counts with commas."""
    config: dict[str, object] = {}
    for name, dtype in frame.schema.items():
        kind = column_kind(name)
        if kind is None or not dtype.is_numeric():
            continue
        config[name] = st.column_config.NumberColumn(name, format=FORMATS[kind])
    return config


def metric_value(value: object, percent: bool) -> str:
    """A headline value as text: '51.7%', '0.612', '*' (suppressed) or 'no data'."""
    if value is None:
        return "no data"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    return f"{value:.1%}" if percent else f"{value:.3f}"


def count_text(value: object) -> str:
    if value is None:
        return "0"
    if isinstance(value, str):
        try:
            return f"{float(value):,.0f}"
        except ValueError:
            return value
    return f"{value:,.0f}"
