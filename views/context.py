"""National context: NHS England's published GPAD figures for the practice, its PCN, its sub-ICB
and England (who appointments were with, how they took place, DNA rate), the context a thin
GP-only export lacks."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import gpad
from metrics.charts import context as charts
from metrics.read import context as national
from views import common


@st.cache_data(max_entries=64, show_spinner=False)
def load(db: str, version: tuple[int, int], practice: str) -> gpad.Context | None:
    """GPAD context for one practice (cached per database version), read through the store's
    result source (metrics.read.context): the page opens no connection of its own."""
    return national.context(common.source(db, version, None), practice)


def share_text(frame: pl.DataFrame, level: str, month: object, measure: str,
               category: str) -> tuple[str, str]:
    row = frame.filter((pl.col("level") == level) & (pl.col("month") == month)
                       & (pl.col("measure") == measure) & (pl.col("category") == category))
    if row.is_empty():
        return "no data", ""
    r = row.row(0, named=True)
    return (common.metric_value(r["share"], True),
            f"{common.count_text(r['appointments'])} of {common.count_text(r['total'])} "
            "appointments")


def main() -> None:
    ctx = common.context()
    st.title("National context")
    st.caption(f"Source: {charts.SOURCE}. These are NHS England's published practice-level "
               "figures (every appointment type and staff group, as the practice's system "
               "reported them), not computed from your extract; shares are of all appointments.")
    code = ctx.sel.practice
    if code is None:
        st.info("Choose a practice in the sidebar to see it against its PCN, its sub-ICB and "
                "England.", icon=":material/touch_app:")
        st.stop()
    with common.error_panel("The national figures could not be loaded"):
        data = load(ctx.db, ctx.version, code)
    if data is None or data.frame.is_empty():
        st.info("No GPAD files are loaded. Load NHS England's practice-level files with "
                "`python -m metrics ingest-gpad Practice_Level_Crosstab_*.csv`.",
                icon=":material/cloud_off:")
        st.stop()
    if not data.in_gpad:
        st.warning(f"Practice {code} has no rows in the loaded GPAD files (not published, "
                   "closed or merged): its PCN, sub-ICB and England are shown from the "
                   "practices extract.", icon=":material/search_off:")
    labels = gpad.unit_labels(data)
    months = data.months
    month = st.select_slider("Month", months, value=months[-1], key="context_month",
                             format_func=lambda m: f"{m:%b %Y}") if len(months) > 1 \
        else months[0]
    first = next(lv for lv in charts.LEVEL_ORDER if lv in labels)
    st.subheader(f"{labels[first]}, {month:%B %Y}")
    cols = st.columns(3)
    for col, (name, measure, category) in zip(cols, (
            ("Appointments with a GP", "staff", "gp"),
            ("Face to face", "mode", "face_to_face"),
            ("Did not attend (DNA rate)", "status", "did_not_attend")), strict=True):
        value, n = share_text(data.frame, first, month, measure, category)
        col.metric(name, value, help="Share of all appointments in the month (published GPAD "
                                     "figures).")
        col.caption(n)

    left, right = st.columns(2)
    left.plotly_chart(charts.mix_for_month(data.frame, "staff", month, labels,
                                           title="GPs and other practice staff"),
                      key="context_staff")
    right.plotly_chart(charts.mix_for_month(data.frame, "mode", month, labels,
                                            title="Mode mix"), key="context_mode")
    left, right = st.columns(2)
    left.plotly_chart(charts.share_trend(data.frame, "staff", "gp", labels,
                                         title="Share of appointments with a GP, by month"),
                      key="context_gp_trend")
    right.plotly_chart(charts.share_trend(data.frame, "status", "did_not_attend", labels,
                                          title="DNA rate, by month"), key="context_dna_trend")
    practices = dict(data.frame.filter(pl.col("month") == month)
                     .select("level", "practices").unique().iter_rows())
    st.caption(" · ".join(f"{labels[lv]}: {practices.get(lv, 0):,} practice(s)"
                          for lv in charts.LEVEL_ORDER if lv in labels)
               + f" in {month:%b %Y}. England is every practice in the loaded files: load "
                 "every region's file of a month for the whole country.")
    with st.expander("Figures and source files"):
        common.show_table(gpad.context_table(data), ctx,
                          caption="Published figures with the counts behind every share.")
        st.dataframe(data.sources, hide_index=True, key="context_sources")


main()
