"""Overview: the whole dataset. Headline SLICC, UPC and COC with their n, PCNs side by side,
and the monthly trend."""

from __future__ import annotations

import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from views import common


def headline(ctx: common.Context, summary: dict, latest: dict | None) -> None:
    """Four headline figures, each with its n and interval."""
    cols = st.columns(4)
    slicc = index("slicc")
    common.headline(cols[0], "SLICC over the window", common.metric_value(summary["slicc"], True),
                    f"{common.count_text(summary['slicc_numerator'])} of "
                    f"{common.count_text(summary['slicc_denominator'])} GP contacts · 95% CI "
                    f"{common.metric_value(summary['slicc_lci'], True)} to "
                    f"{common.metric_value(summary['slicc_uci'], True)}",
                    help=f"{slicc.full_name}: {slicc.formula}. Pooled over GP contacts.")
    if latest is not None:
        common.headline(cols[1], f"SLICC in {latest['month']:%b %Y}",
                        common.metric_value(latest["slicc"], True),
                        f"{common.count_text(latest['slicc_numerator'])} of "
                        f"{common.count_text(latest['slicc_denominator'])} GP contacts",
                        help="The last month of the window, pooled over GP contacts.")
    for col, key in ((cols[2], "upc"), (cols[3], "coc")):
        d = index(key)
        common.headline(col, f"Mean {d.name}", common.metric_value(summary[d.value_col], False),
                        f"n = {common.count_text(summary['eligible_patients'])} eligible "
                        f"patients · 95% CI {common.metric_value(summary[f'{key}_lci'], False)} "
                        f"to {common.metric_value(summary[f'{key}_uci'], False)}",
                        help=f"{d.full_name}: {d.formula}. Mean of patient values.")


def main() -> None:
    ctx = common.context()
    d = index(ctx.sel.index)
    st.title("Continuity of care: overview")
    common.page_caption("Every practice in the data", figures.window_text(ctx.params),
                        figures.staff_text(d, ctx.params),
                        f"comparisons show {d.name} ({d.summary})")
    tables = common.tables(ctx, "overview")
    summary = tables["summary"].numeric()
    if summary.height == 0 or summary["slicc_denominator"].fill_null(0).sum() == 0 and \
            summary["eligible_patients"].fill_null(0).sum() == 0:
        st.info("No contacts in this window with these filters. Widen the window or the "
                "modes in the sidebar.", icon=":material/search_off:")
        st.stop()
    trend = tables["trend"].numeric().drop_nulls("slicc")
    latest = trend.row(-1, named=True) if trend.height else None
    headline(ctx, tables["summary"].shown().row(0, named=True), latest)

    st.subheader("PCNs against their size")
    funnel = tables["pcn_funnel"]
    st.plotly_chart(figures.funnel_figure(funnel, d.key, ctx.params, title=funnel.title,
                                          label_col="pcn_code", selected=ctx.sel.pcn),
                    key="overview_pcn_funnel")
    st.caption("PCNs differ in size, so they are compared on a funnel plot first: points "
               "inside the limits differ from the overall value no more than chance allows. "
               "Practices, scopes and unadjusted limits are on the Networks page.")

    st.subheader("PCNs side by side")
    overall = tables["all"].numeric()[d.value_col][0] if tables["all"].frame.height else None
    common.chart_and_table(figures.comparison_figure(
        tables["pcns"], d.key, ctx.params, title=f"{d.name} by PCN, with 95% intervals",
        reference=overall, reference_label="All practices"), tables["pcns"], ctx,
        key="overview_pcns", caption="Sorted by PCN code, not ranked: intervals that overlap "
        "do not show a real difference.")

    st.subheader("Trend")
    common.chart_and_table(figures.trend_figure(tables["trend"], ctx.params,
                                                title="Monthly SLICC, all practices"),
                           tables["trend"], ctx, key="overview_trend",
                           expander="Monthly figures")


main()
