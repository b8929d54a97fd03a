"""Deprivation: continuity by the practice's deprivation band and by the patient's own band."""

from __future__ import annotations

import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from views import common

# (page table, heading, where the band comes from)
BANDS = (
    ("practice_band", "Practice band",
     "From the practice's population-weighted IMD decile; `practices` counts the practices in "
     "each band."),
    ("patient_band", "Patient band",
     "From the patient's own LSOA decile, whichever practice they are registered with."),
)


def main() -> None:
    ctx = common.context()
    d = index(ctx.sel.index)
    st.title("Deprivation")
    common.page_caption(f"{d.name} ({d.summary})", figures.window_text(ctx.params),
                        "IMD 2019 quintile, Q1 = most deprived", "NHS disclosure rule applied")
    tables = common.tables(ctx, "deprivation")
    for band, heading, source in BANDS:
        st.subheader(heading)
        st.caption(source)
        common.chart_and_table(figures.comparison_figure(
            tables[band], d.key, ctx.params,
            title=f"{d.name} by {heading.lower().replace(' band', '')} deprivation quintile",
            sort="input"), tables[band], ctx, key=f"deprivation_{band}")
    st.subheader("Monthly SLICC by practice band")
    common.chart_and_table(figures.trend_figure(
        tables["practice_band_monthly"], ctx.params,
        title="Monthly SLICC by practice deprivation quintile"), tables["practice_band_monthly"],
        ctx, key="deprivation_trend", expander="Monthly figures")


main()
