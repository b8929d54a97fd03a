"""SLICC against the inferred regular GP, drawn at the end of the My practice page: for exports
that name no GP. Always labelled as the inferred variant, never mixed with SLICC."""

from __future__ import annotations

import streamlit as st

from metrics import inferred, results
from metrics.access import Viewer
from metrics.charts.trend import line_chart
from metrics.params import Params
from metrics.results import Table
from views import common

PERCENT = ("slicc_inferred", "inferred_gp_coverage", "slicc_inferred_lci", "slicc_inferred_uci")


@st.cache_data(max_entries=64, show_spinner=False)
def load(db: str, version: tuple[int, int], params: Params | None, practice: str,
         viewer: Viewer) -> tuple[Table | None, Table | None]:
    """The practice's monthly table and (own view only) its per-inferred-GP table."""
    source = common.source(db, version, params)
    return (inferred.practice_monthly(source, practice, viewer),
            inferred.gp_lists(source, practice, viewer))


def show(table: Table, ctx: common.Context) -> None:
    frame = results.display_frame(table.frame)
    config = {c: st.column_config.NumberColumn(c, format="percent")
              for c in PERCENT if c in frame.columns and frame.schema[c].is_numeric()}
    st.dataframe(frame, column_config=config, hide_index=True, key=f"table_{table.key}")
    st.caption(f"Disclosure control: {table.rule.describe()}."
               + (f" Exact: {table.own_rows}." if table.own_rows else ""))
    st.download_button("Download CSV", data=lambda: results.export_csv(table, ctx.params,
                                                                        ctx.sel),
                       file_name=results.export_name(table, "csv"), mime="text/csv",
                       key=f"download_{table.key}", icon=":material/download:")


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
        monthly, gps = load(ctx.db, ctx.version, ctx.source_params, practice, ctx.viewer)
    if monthly is None:
        st.info("This database was built before the inferred-GP figures existed: rebuild it "
                "on the Data page to see them.", icon=":material/refresh:")
        return
    numeric = monthly.numeric()
    n = numeric["slicc_inferred_denominator"].sum()
    st.plotly_chart(line_chart(
        numeric, period_col="month", value_col="slicc_inferred",
        n_col="slicc_inferred_denominator", n_label="GP contacts of patients with an inferred GP",
        title=f"{inferred.NAME}, {practice}, by month",
        subtitle=f"Inferred variant (not SLICC), pooled per month; n = {n:,.0f} GP contacts "
                 "of patients with an inferred GP over the window"),
        key="practice_slicc_inferred")
    with st.expander("Monthly inferred-GP figures"):
        show(monthly, ctx)
    if gps is not None and not gps.empty:
        with st.expander("Per inferred GP (internal use only: figures about named staff)"):
            show(gps, ctx)
