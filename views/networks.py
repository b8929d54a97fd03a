"""Networks: the funnel plot leads (not a league table), then all PCNs side by side, the
practices of one PCN, and continuity against list size."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from metrics.read.networks import NetworkOptions
from metrics.read.table import Table
from views import common

GROUPS = {"pcn_code": "PCN", "personal_lists": "Personal lists", "practice_imd_quintile":
          "Practice deprivation quintile"}


def label_of(table: Table, column: str, code: str | None) -> str | None:
    if code is None or column not in table.frame.columns:
        return None
    rows = table.frame.filter(pl.col(column) == code)
    return rows["label"][0] if rows.height else None


def choices(ctx: common.Context) -> NetworkOptions:
    """The funnel's units, scope and limits (bound to the URL)."""
    left, middle, right = st.columns(3)
    unit = left.radio("Funnel units", list(common.FUNNEL_UNITS),
                      format_func=common.FUNNEL_UNITS.get, horizontal=True, key="funnel_unit",
                      bind="query-params")
    scope = middle.radio("Compare within", list(common.FUNNEL_SCOPES),
                         format_func=common.FUNNEL_SCOPES.get, horizontal=True, key="scope",
                         bind="query-params")
    code = None
    if scope != "all":
        _, _, directory = common.store_info(ctx.db, ctx.version)
        directory = ctx.viewer.restrict_frame(directory)  # a reviewer picks only in scope
        codes = directory[f"{scope}_code"].drop_nulls().unique().sort().to_list()
        default = common.default_scope_code(ctx, scope)
        code = middle.selectbox(
            "ICB" if scope == "icb" else "PCN", codes, key="scope_code",
            index=codes.index(default) if default in codes else 0,
            help="Defaults to the selected practice's (or the sidebar PCN's).")
    adjusted = right.toggle("Widen limits for over-dispersion", value=True, key="dispersion",
                            bind="query-params",
                            help="Additive random-effects adjustment (Spiegelhalter 2005), "
                                 "trimming 10% at each end as NHS-R FunnelPlotR does. Off: "
                                 "the unadjusted binomial or normal limits.")
    return NetworkOptions(unit=unit, scope=scope, code=code, overdispersion=adjusted)


def main() -> None:
    ctx = common.context()
    d = index(ctx.sel.index)
    st.title("Networks")
    common.page_caption(f"{d.name} ({d.summary})", figures.window_text(ctx.params),
                        figures.staff_text(d, ctx.params), "NHS disclosure rule applied")
    options = choices(ctx)
    tables = common.tables(ctx, "networks", options=options)
    funnel = tables["funnel"]
    code_col = "practice_code" if options.unit == "practice" else "pcn_code"
    selected = ctx.sel.practice if options.unit == "practice" else ctx.sel.pcn
    st.plotly_chart(figures.funnel_figure(
        funnel, d.key, ctx.params, title=funnel.title,
        label_col=code_col, selected=selected), key="networks_funnel")
    st.caption("Each point is plotted against its size; the target is the overall value of "
               "the units shown. Points outside the 99.8% limits are labelled: a small unit "
               "can sit far from the target by chance, and the limits show how far.")
    with st.expander("Funnel figures (z-scores, limits at each unit's size, flags)"):
        common.show_table(funnel, ctx)

    st.subheader("All PCNs side by side")
    everyone = tables["all"].numeric()  # the whole data's own row, as the Overview shows it
    overall = everyone[d.value_col][0] if everyone.height else None
    common.chart_and_table(figures.comparison_figure(
        tables["pcns"], d.key, ctx.params, title=f"{d.name} by PCN, with 95% intervals",
        highlight=label_of(tables["pcns"], "pcn_code", ctx.sel.pcn), reference=overall,
        reference_label="All practices"), tables["pcns"], ctx, key="networks_pcns",
        caption="Sorted by code, not ranked: intervals that overlap do not show a real "
                "difference.")

    st.subheader("Practices within a PCN")
    if "pcn_practices" in tables:
        inner = tables["pcn_practices"]
        common.chart_and_table(figures.comparison_figure(
            inner, d.key, ctx.params, title=f"{d.name}: {inner.title}",
            highlight=label_of(inner, "practice_code", ctx.sel.practice)), inner, ctx,
            key="networks_pcn_practices")
    else:
        st.info("Choose a PCN (or a practice) in the sidebar to see its practices.",
                icon=":material/touch_app:")

    if "pcn_spc" in tables:
        spc = tables["pcn_spc"]
        st.subheader("The PCN month by month")
        st.caption("XmR chart of the PCN's monthly SLICC (Making Data Count): hover a point "
                   "for why it is or is not special cause. Targets, rebasing and rolling UPC "
                   "are on the My practice page.")
        common.spc_badges(spc)
        common.chart_and_table(figures.spc_figure(spc, ctx.params, title=spc.title), spc, ctx,
                               key="networks_pcn_spc", expander="SPC figures")

    st.subheader("Continuity against list size")
    group = st.radio("Colour and shape by", list(GROUPS), format_func=GROUPS.get,
                     horizontal=True, key="size_group")
    st.plotly_chart(figures.size_figure(
        tables["practices"], d.key, ctx.params,
        title=f"{d.name} against registered list size", group_col=group,
        highlight=ctx.sel.practice), key="networks_size")
    st.caption("Larger practices tend to lose continuity. The dashed line is a least-squares "
               "fit, drawn to show the slope, not a target.")
    with st.expander("All practices (sorted by code, with intervals)"):
        common.show_table(tables["practices"], ctx)


main()
