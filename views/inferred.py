"""SLICC against the inferred regular GP, drawn at the end of the My practice page: for exports
that name no GP. Always labelled as the inferred variant, never mixed with SLICC."""

from __future__ import annotations

import streamlit as st

from metrics.charts.trend import line_chart
from metrics.read import inferred
from views import common


def show_inferred_slicc(ctx: common.Context) -> None:
    """The inferred variant for the selected practice, with its definition and caveat."""
    practice = ctx.sel.practice
    if practice is None:
        return
    st.subheader(f"{inferred.NAME} (inferred variant)")
    st.caption(f"For exports that name no GP. {inferred.DEFINITION[0].upper()}"
               f"{inferred.DEFINITION[1:]}.")
    st.warning(inferred.CAVEAT, icon=":material/history:")
    with common.error_panel("The inferred-GP figures could not be loaded"):
        tables = common.page_tables(ctx.db, ctx.version, ctx.source_params, "inferred",
                                    ctx.sel, ctx.viewer)
    monthly, gps = tables.get("monthly"), tables.get("gps")
    if monthly is None:
        st.info("This database was built before the inferred-GP figures existed: rebuild it "
                "on the Data page to see them.", icon=":material/refresh:")
        return
    numeric = monthly.numeric()
    n = numeric["slicc_inferred_denominator"].sum()
    common.chart_and_table(line_chart(
        numeric, period_col="month", value_col="slicc_inferred",
        n_col="slicc_inferred_denominator", n_label="GP contacts of patients with an inferred GP",
        title=f"{inferred.NAME}, {practice}, by month",
        subtitle=f"Inferred variant (not SLICC), pooled per month; n = {n:,.0f} GP contacts "
                 "of patients with an inferred GP over the window"), monthly, ctx,
        key="practice_slicc_inferred", expander="Monthly inferred-GP figures")
    if gps is not None and not gps.empty:
        with st.expander("Per inferred GP (internal use only: figures about named staff)"):
            common.show_table(gps, ctx)
