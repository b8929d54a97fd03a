"""National context figures (GPAD published figures): pure builders from gpad.Context frames.

Why separate: the page only picks what to draw; the labels saying these are NHS England's
published figures, the month and the counts behind every share are fixed here.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from metrics.charts.mix import mix_chart
from metrics.charts.style import empty_figure
from metrics.charts.trend import line_chart

SOURCE = "NHS England, Appointments in General Practice (published figures)"
MEASURE_TITLES = {"staff": "who the appointment was with (HCP type)",
                  "mode": "how it took place (appointment mode)",
                  "status": "appointment status"}
CATEGORY_LABELS = {
    "gp": "GP", "other_practice_staff": "Other practice staff", "unknown": "Unknown",
    "face_to_face": "Face to face", "telephone": "Telephone", "video_online": "Video or online",
    "home_visit": "Home visit", "attended": "Attended", "did_not_attend": "Did not attend (DNA)",
}
CATEGORY_ORDER = {
    "staff": ("gp", "other_practice_staff", "unknown"),
    "mode": ("face_to_face", "telephone", "video_online", "home_visit", "unknown"),
    "status": ("attended", "did_not_attend", "unknown"),
}
LEVEL_ORDER = ("practice", "pcn", "sub_icb", "england")


def with_units(frame: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """The long frame with a `unit` label per level (`Practice A81001`, `England`, ...)."""
    return frame.with_columns(unit=pl.col("level").replace_strict(labels, default=pl.col("level")))


def share_trend(frame: pl.DataFrame, measure: str, category: str, labels: dict[str, str],
                *, title: str) -> go.Figure:
    """One line per level: the monthly share of `category` among all appointments, n = all
    appointments of the level and month."""
    part = with_units(frame.filter((pl.col("measure") == measure)
                                   & (pl.col("category") == category)), labels)
    if part.is_empty():
        return empty_figure(title, "No GPAD figures loaded for this selection")
    months = part["month"].unique().sort()
    span = f"{months[0]:%b %Y}" + (f" to {months[-1]:%b %Y}" if len(months) > 1 else "")
    return line_chart(
        part.sort("level", "month"), period_col="month", value_col="share", n_col="total",
        series_col="unit", title=title, n_label="appointments (all statuses and staff)",
        subtitle=f"{SOURCE}, {span}: {CATEGORY_LABELS.get(category, category)} as a share of "
                 "all appointments; England = every practice in the loaded files")


def mix_for_month(frame: pl.DataFrame, measure: str, month: date, labels: dict[str, str],
                  *, title: str) -> go.Figure:
    """100% bars per level for one month: the mix of `measure` with its counts."""
    part = with_units(frame.filter((pl.col("measure") == measure)
                                   & (pl.col("month") == month)), labels)
    if part.is_empty():
        return empty_figure(title, "No GPAD figures loaded for this month")
    order = {label: i for i, label in enumerate(labels[lv] for lv in LEVEL_ORDER if lv in labels)}
    part = part.with_columns(pl.col("unit").replace_strict(order, default=len(order))
                             .alias("_order")).sort("_order")
    part = part.with_columns(unit=pl.format("{}. {}", pl.col("_order") + 1, pl.col("unit")))
    return mix_chart(part, group_col="unit", category_col="category", count_col="appointments",
                     title=title, category_order=CATEGORY_ORDER[measure],
                     category_labels=CATEGORY_LABELS, n_label="appointments",
                     subtitle=f"{SOURCE}, {month:%B %Y}: {MEASURE_TITLES[measure]}, share of "
                              "all appointments")
