"""Networks: the funnel plot leads (not a league table), then all PCNs side by side, the
practices of one PCN, and continuity against list size."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from metrics.results import Table
from views import common

UNITS = {"practice": "Practices", "pcn": "PCNs"}
SCOPES = {"all": "Everything", "icb": "The practice's ICB", "pcn": "The PCN"}
GROUPS = {"pcn_code": "PCN", "personal_lists": "Personal lists", "practice_imd_quintile":
          "Practice deprivation quintile"}


def label_of(table: Table, column: str, code: str | None) -> str | None:
    if code is None or column not in table.frame.columns:
        return None
    rows = table.frame.filter(pl.col(column) == code)
    return rows["label"][0] if rows.height else None


def main() -> None:
    ctx = common.context()
    d = index(ctx.sel.index)
    st.title("Networks")
    st.caption(f"{d.name} ({d.summary}) · {figures.window_text(ctx.params)} · "
               f"{figures.staff_text(d, ctx.params)} · NHS disclosure rule applied")
    left, middle, right = st.columns(3)
    unit = left.radio("Funnel units", list(UNITS), format_func=UNITS.get, horizontal=True,
                      key="funnel_unit", bind="query-params")
    scope = middle.radio("Compare within", list(SCOPES), format_func=SCOPES.get,
                         horizontal=True, key="scope", bind="query-params")
    adjusted = right.toggle("Widen limits for over-dispersion", value=True, key="dispersion",
                            help="Additive random-effects adjustment (Spiegelhalter 2005), "
                                 "trimming 10% at each end as NHS-R FunnelPlotR does. Off: "
                                 "the unadjusted binomial or normal limits.")
    tables = common.tables(ctx, "networks", options=(unit, scope))
    funnel = tables["funnel"]
    code_col = "practice_code" if unit == "practice" else "pcn_code"
    selected = ctx.sel.practice if unit == "practice" else ctx.sel.pcn
    st.plotly_chart(figures.funnel_figure(
        funnel, d.key, ctx.params, title=f"{d.name}: funnel plot of {funnel.title.lower()}",
        label_col=code_col, selected=selected, overdispersion=adjusted),
        key="networks_funnel")
    st.caption("Points outside the 99.8% limits are labelled. A small practice can sit far "
               "from the target by chance; the limits show how far.")

    st.subheader("All PCNs side by side")
    overall = None
    values = tables["practices"].numeric()
    if d.kind == "ratio" and values.height:
        num = values[f"{d.key}_numerator"].sum()
        den = values[f"{d.key}_denominator"].sum()
        overall = num / den if den else None
    st.plotly_chart(figures.comparison_figure(
        tables["pcns"], d.key, ctx.params, title=f"{d.name} by PCN, with 95% intervals",
        highlight=label_of(tables["pcns"], "pcn_code", ctx.sel.pcn), reference=overall,
        reference_label="All practices"), key="networks_pcns")
    common.show_table(tables["pcns"], ctx, caption="Sorted by code, not ranked.")

    st.subheader("Practices within a PCN")
    if "pcn_practices" in tables:
        inner = tables["pcn_practices"]
        st.plotly_chart(figures.comparison_figure(
            inner, d.key, ctx.params, title=f"{d.name}: {inner.title}",
            highlight=label_of(inner, "practice_code", ctx.sel.practice)),
            key="networks_pcn_practices")
        common.show_table(inner, ctx)
    else:
        st.info("Choose a PCN (or a practice) in the sidebar to see its practices.",
                icon=":material/touch_app:")

    st.subheader("Continuity against list size")
    group = st.radio("Colour and shape by", list(GROUPS), format_func=GROUPS.get,
                     horizontal=True, key="size_group")
    st.plotly_chart(figures.size_figure(
        tables["practices"], d.key, ctx.params,
        title=f"{d.name} against registered list size", group_col=group,
        highlight=ctx.sel.practice), key="networks_size")
    with st.expander("All practices (sorted by code, with intervals)"):
        common.show_table(tables["practices"], ctx)


main()
