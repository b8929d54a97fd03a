"""My practice: SLICC this month and over the window, UPC and COC on the window, comparison
with PCN, ICB and all, named-GP lists (own view only), patient groups, who patients saw, SPC
and deciles."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from metrics.read.spc import PracticeOptions
from metrics.read.table import Table
from views import common, inferred


def choices(ctx: common.Context, code: str) -> PracticeOptions:
    """The page's own choices for the month-by-month charts (bound to the URL)."""
    with st.container(border=True):
        left, middle, right = st.columns(3)
        series_keys = list(common.SPC_SERIES)
        if not ctx.viewer.shows_gp_lists(code):
            series_keys.remove("gp_list")
        series = left.radio("Series", series_keys, format_func=common.SPC_SERIES.get,
                            key="series", bind="query-params", horizontal=True,
                            help="Whose monthly SLICC and rolling UPC the XmR charts show. "
                                 "Named-GP lists appear only in the practice's own view.")
        gp_list = None
        if series == "gp_list":
            lists = common.gp_list_ids(ctx, code)
            gp_list = left.selectbox("Named-GP list", lists, key="gp_list",
                                     bind="query-params") if lists else None
        target = middle.segmented_control(
            "SLICC target (Health and Social Care Committee 2022)", list(common.SPC_TARGETS),
            default="none", key="target", format_func=common.SPC_TARGETS.get,
            bind="query-params") or "none"
        months = common.window_months(ctx)
        rebase = right.selectbox(
            "Rebase the limits at", months[1:], index=None, key="rebase",
            bind="query-params", format_func=common.month_label,
            placeholder="No rebase: one set of limits",
            help="Start new limits from a month where the process is known to have changed "
                 "(a new appointment system, a merger).")
        peers = right.radio("Deciles over", list(common.DECILE_PEERS), horizontal=True,
                            format_func=common.DECILE_PEERS.get, key="peers",
                            bind="query-params")
    return PracticeOptions(series=series, gp_list=gp_list, target=target, rebase=rebase,
                           peers=peers)


def month_by_month(ctx: common.Context, code: str, tables: dict[str, Table]) -> None:
    """XmR charts of monthly SLICC and rolling UPC, then the decile chart."""
    spc = tables["spc"]
    st.caption("XmR chart (NHS England, Making Data Count): centre = mean, limits = mean ± "
               "2.66 × mean moving range. Special cause: a point outside the limits, 7 in a "
               "row on one side, 7 rising or falling, or 2 of 3 near a limit. Hover a point "
               "for the reason. A month without contacts is a gap, never zero.")
    common.spc_badges(spc)
    common.chart_and_table(figures.spc_figure(spc, ctx.params, title=f"{spc.title}"), spc, ctx,
                           key="practice_spc",
                           expander="SPC figures (each month with its limits and reason)")
    if "rolling_upc_spc" in tables:
        upc = tables["rolling_upc_spc"]
        st.caption("Rolling UPC: mean of patient values over the 12 months ending with each "
                   "month (patients with at least the minimum contacts in those 12 months). "
                   "Neighbouring points share 11 months, so runs are expected: read it for "
                   "sustained change.")
        common.spc_badges(upc)
        common.chart_and_table(figures.spc_figure(
            upc, ctx.params, title=upc.title, value_col="upc_mean",
            n_col="eligible_patients", n_label="eligible patients",
            period="12 months ending with each month"), upc, ctx, key="practice_rolling_upc",
            expander="Rolling UPC figures")
    else:
        st.info("Rolling UPC is not in this database yet: rebuild it on the Data page.",
                icon=":material/update:")
    deciles = tables["deciles"]
    st.plotly_chart(figures.decile_figure(deciles, ctx.params, title=deciles.title,
                                          unit_name=code), key="practice_deciles")
    latest = deciles.numeric().drop_nulls("percentile")
    if latest.height:
        row = latest.row(-1, named=True)
        st.caption(f"In {row['month']:%b %Y} the practice was at the "
                   f"{row['percentile']:.0f}th percentile of {row['practices']:,} practices "
                   "(0 = lowest SLICC, 100 = highest; higher is better).")
    with st.expander("Monthly SLICC and deciles"):
        common.show_table(tables["monthly"], ctx)
        common.show_table(deciles, ctx)


def named_gp_lists(ctx: common.Context, tables: dict[str, Table]) -> None:
    st.subheader("Named-GP lists")
    if "gp_lists" not in tables:
        st.info("Per-GP figures appear only in the practice's own view.",
                icon=":material/lock:")
        return
    st.caption("Per-GP figures about named staff: for the practice's internal use only. "
               "They are left out of shared exports unless deliberately included.")
    key = st.radio("Index", ["slicc", "opr"], format_func=lambda k: index(k).name,
                   horizontal=True, key="list_index")
    d = index(key)
    common.chart_and_table(figures.comparison_figure(
        tables["gp_lists"], key, ctx.params, title=f"{d.name} by named-GP list",
        label_col="named_gp"), tables["gp_lists"], ctx, key="practice_gp_lists",
        caption="list_patients = registered patients whose named GP this is (list size).")


def own_row(table: Table) -> dict:
    """The first row as shown (a suppressed figure as '*')."""
    return table.shown().row(0, named=True)


def headline(ctx: common.Context, tables: dict[str, Table]) -> None:
    shown = tables["monthly"].shown()
    window = own_row(tables["window_slicc"])
    cols = st.columns(4)
    last = shown.row(-1, named=True)  # the window's last month, as shown (blank, * or a value)
    help_last = ("The last month of the window, pooled over the GP contacts of named-GP "
                 "patients. 'no data' means none that month, never 0%.")
    if last["slicc"] is None:
        earlier = shown.filter(pl.col("slicc").is_not_null())
        note = "No GP contacts of named-GP patients this month"
        if earlier.height:
            prior = earlier.row(-1, named=True)
            note += (f"; last month with data {prior['month']:%b %Y}: "
                     f"{common.metric_value(prior['slicc'], True)}")
    else:
        note = (f"{common.count_text(last['slicc_numerator'])} of "
                f"{common.count_text(last['slicc_denominator'])} GP contacts")
    common.headline(cols[0], f"SLICC in {last['month']:%b %Y}",
                    common.metric_value(last["slicc"], True), note, help=help_last)
    common.headline(cols[1], f"SLICC over {figures.window_text(ctx.params)}",
                    common.metric_value(window["slicc"], True),
                    f"{common.count_text(window['slicc_numerator'])} of "
                    f"{common.count_text(window['slicc_denominator'])} GP contacts · 95% CI "
                    f"{common.metric_value(window['slicc_lci'], True)} to "
                    f"{common.metric_value(window['slicc_uci'], True)}")
    for col, key, name in ((cols[2], "upc", "window"), (cols[3], "coc", "window_coc")):
        d = index(key)
        row = own_row(tables[name])
        common.headline(
            col, f"Mean {d.name}, {figures.window_text(ctx.params)}",
            common.metric_value(row[d.value_col], False),
            f"n = {common.count_text(row['eligible_patients'])} eligible patients · "
            f"95% CI {common.metric_value(row[f'{key}_lci'], False)} to "
            f"{common.metric_value(row[f'{key}_uci'], False)}",
            help=f"{d.full_name}: {d.formula}. Mean of patient values over the window ending "
                 "with the chosen month (move the end month to roll it).")


def profile_line(ctx: common.Context, code: str) -> str:
    _, _, directory = common.store_info(ctx.db, ctx.version)
    rows = directory.filter(pl.col("practice_code") == code)
    if rows.height == 0:
        return code
    p = rows.row(0, named=True)
    parts = [f"**{p['practice_name']}** ({code})", f"PCN {p['pcn_code']} {p['pcn_name']}"]
    if p.get("icb_code"):
        parts.append(f"ICB {p['icb_code']}")
    if p.get("list_size") is not None:
        parts.append(f"list size {p['list_size']:,}")
    if p.get("practice_imd_quintile"):
        parts.append(f"deprivation quintile Q{p['practice_imd_quintile']} (Q1 most deprived)")
    parts.append("personal lists" if p.get("personal_lists") else "no personal lists recorded")
    return " · ".join(parts)


def main() -> None:
    ctx = common.context()
    code = ctx.sel.practice
    st.title("My practice")
    if code is None:
        st.info("Choose a practice in the sidebar to see its continuity.",
                icon=":material/touch_app:")
        st.stop()
    _, _, directory = common.store_info(ctx.db, ctx.version)
    if code not in directory["practice_code"].to_list():
        st.warning(f"Practice {code} is not in this database.", icon=":material/search_off:")
        st.stop()
    d = index(ctx.sel.index)
    st.markdown(profile_line(ctx, code))
    if ctx.viewer.sees_in_full(code):
        st.caption("Your practice's own view: exact numbers for this practice; PCN, ICB and "
                   "all-practice figures under the NHS disclosure rule.")
    top = st.container()  # filled once the tables for the choices below are loaded
    st.subheader("Month by month")
    options = choices(ctx, code)
    tables = common.tables(ctx, "practice", options=options)
    if not tables:
        st.warning(f"Practice {code} is not in this database.", icon=":material/search_off:")
        st.stop()
    with top:
        headline(ctx, tables)
        st.subheader(f"{d.name} against the PCN, the ICB and all practices")
        peers = tables["peers"]
        own = peers.numeric().row(0, named=True)
        common.chart_and_table(figures.comparison_figure(
            peers, d.key, ctx.params, title=f"{d.name}: practice, PCN, ICB and all practices",
            label_col="unit", highlight=f"Practice {code}",
            n_summary=f"n = {own.get(figures.n_column(d)) or 0:,.0f} {figures.n_label(d)} in "
                      "the practice", sort="input"), peers, ctx, key="practice_peers")

    month_by_month(ctx, code, tables)
    named_gp_lists(ctx, tables)

    st.subheader(f"{d.name} by patient group")
    tabs = st.tabs(["Age band", "Frequent attenders", "Patient deprivation"])
    for tab, name, title in zip(tabs, ("age_band", "contacts_band", "patient_imd_quintile"),
                                ("by age band", "by contacts in the window (12+ = frequent "
                                 "attenders)", "by the patient's deprivation quintile"),
                                strict=True):
        with tab:
            common.chart_and_table(figures.comparison_figure(
                tables[name], d.key, ctx.params, title=f"{d.name} {title}", sort="input"),
                tables[name], ctx, key=f"practice_{name}")

    st.subheader("Who patients saw, and how")
    st.caption("Triage away from GPs is a main driver of falling continuity.")
    st.plotly_chart(figures.mix_figure(tables["mix_role"], ctx.params,
                                       title="Attended appointments by role", by="role"),
                    key="practice_mix_role")
    st.plotly_chart(figures.mix_figure(tables["mix_mode"], ctx.params,
                                       title="Attended appointments by mode", by="mode"),
                    key="practice_mix_mode")
    st.plotly_chart(figures.gp_share_figure(tables["gp_share"], ctx.params,
                                            title="Share of attended appointments with a GP"),
                    key="practice_gp_share")
    with st.expander("Appointment mix figures"):
        for name in ("mix_role", "mix_mode", "gp_share"):
            common.show_table(tables[name], ctx)
    inferred.show_inferred_slicc(ctx)


main()
