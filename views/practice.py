"""My practice: SLICC this month and over the window, UPC and COC on the window, comparison
with PCN, ICB and all, named-GP lists (own view only), patient groups, who patients saw, SPC
and deciles."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.charts import dashboard_figures as figures
from metrics.methods import index
from metrics.results import Table
from metrics.stats import SLICC_TARGETS
from views import common

TARGETS = {"none": None, "good": SLICC_TARGETS["good"], "excellent": SLICC_TARGETS["excellent"]}
TARGET_LABELS = {"none": "No target", "good": "Good: above 50%",
                 "excellent": "Excellent: above 75%"}


def own_row(table: Table) -> dict:
    return table.frame.row(0, named=True)


def headline(ctx: common.Context, tables: dict[str, Table]) -> None:
    monthly = tables["monthly"].numeric().drop_nulls("slicc")
    window = own_row(tables["window_slicc"])
    cols = st.columns(4)
    if monthly.height:
        last = monthly.row(-1, named=True)
        cols[0].metric(f"SLICC in {last['month']:%b %Y}",
                       common.metric_value(last["slicc"], True),
                       help="The last month of the window with GP contacts of named-GP "
                            "patients; pooled over those contacts.")
        cols[0].caption(f"{common.count_text(last['slicc_numerator'])} of "
                        f"{common.count_text(last['slicc_denominator'])} GP contacts")
    else:
        cols[0].metric("SLICC this month", "no data")
    cols[1].metric(f"SLICC over {figures.window_text(ctx.params)}",
                   common.metric_value(window["slicc"], True))
    cols[1].caption(f"{common.count_text(window['slicc_numerator'])} of "
                    f"{common.count_text(window['slicc_denominator'])} GP contacts · 95% CI "
                    f"{common.metric_value(window['slicc_lci'], True)} to "
                    f"{common.metric_value(window['slicc_uci'], True)}")
    for col, key, name in ((cols[2], "upc", "window"), (cols[3], "coc", "window_coc")):
        d = index(key)
        row = own_row(tables[name])
        col.metric(f"Mean {d.name}, {figures.window_text(ctx.params)}",
                   common.metric_value(row[d.value_col], False),
                   help=f"{d.full_name}: {d.formula}. Mean of patient values over the "
                        "window ending with the chosen month (move the end month to roll it).")
        col.caption(f"n = {common.count_text(row['eligible_patients'])} eligible patients · "
                    f"95% CI {common.metric_value(row[f'{key}_lci'], False)} to "
                    f"{common.metric_value(row[f'{key}_uci'], False)}")


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
    tables = common.tables(ctx, "practice")
    if not tables:
        st.warning(f"Practice {code} is not in this database.", icon=":material/search_off:")
        st.stop()
    d = index(ctx.sel.index)
    st.markdown(profile_line(ctx, code))
    if ctx.viewer.sees_in_full(code):
        st.caption("Your practice's own view: exact numbers for this practice; PCN, ICB and "
                   "all-practice figures under the NHS disclosure rule.")
    headline(ctx, tables)

    st.subheader(f"{d.name} against the PCN, the ICB and all practices")
    peers = tables["peers"]
    own = peers.numeric().row(0, named=True)
    st.plotly_chart(figures.comparison_figure(
        peers, d.key, ctx.params, title=f"{d.name}: practice, PCN, ICB and all practices",
        label_col="unit", highlight=f"Practice {code}",
        n_summary=f"n = {own.get(figures.n_column(d)) or 0:,.0f} {figures.n_label(d)} in the "
                  "practice"), key="practice_peers")
    common.show_table(peers, ctx)

    st.subheader("SLICC month by month")
    target = st.segmented_control("SLICC target (Health and Social Care Committee 2022)",
                                  list(TARGETS), default="none", key="spc_target",
                                  format_func=TARGET_LABELS.get) or "none"
    left, right = st.columns(2)
    left.plotly_chart(figures.spc_figure(
        tables["monthly"], ctx.params, title="SLICC: statistical process control (XmR)",
        target=TARGETS[target]), key="practice_spc")
    right.plotly_chart(figures.decile_figure(
        tables["deciles"], ctx.params, title="SLICC against the deciles of all practices",
        unit_name=code), key="practice_deciles")
    with st.expander("Monthly figures and deciles"):
        common.show_table(tables["monthly"], ctx)
        common.show_table(tables["deciles"], ctx)

    st.subheader("Named-GP lists")
    if "gp_lists" in tables:
        st.caption("Per-GP figures about named staff: for the practice's internal use only. "
                   "They are left out of shared exports unless deliberately included.")
        st.plotly_chart(figures.comparison_figure(
            tables["gp_lists"], "slicc", ctx.params, title="SLICC by named-GP list",
            label_col="named_gp"), key="practice_gp_lists")
        common.show_table(tables["gp_lists"], ctx)
    else:
        st.info("Per-GP figures appear only in the practice's own view.",
                icon=":material/lock:")

    st.subheader(f"{d.name} by patient group")
    tabs = st.tabs(["Age band", "Frequent attenders", "Patient deprivation"])
    for tab, name, title in zip(tabs, ("age_band", "contacts_band", "patient_imd_quintile"),
                                ("by age band", "by contacts in the window (12+ = frequent "
                                 "attenders)", "by the patient's deprivation quintile"),
                                strict=True):
        with tab:
            st.plotly_chart(figures.comparison_figure(
                tables[name], d.key, ctx.params, title=f"{d.name} {title}"),
                key=f"practice_{name}")
            common.show_table(tables[name], ctx)

    st.subheader("Who patients saw, and how")
    st.caption("Triage away from GPs is a main driver of falling continuity.")
    left, right = st.columns(2)
    left.plotly_chart(figures.mix_figure(tables["mix_role"], ctx.params,
                                         title="Attended appointments by role", by="role"),
                      key="practice_mix_role")
    right.plotly_chart(figures.mix_figure(tables["mix_mode"], ctx.params,
                                          title="Attended appointments by mode", by="mode"),
                       key="practice_mix_mode")
    st.plotly_chart(figures.gp_share_figure(tables["gp_share"], ctx.params,
                                            title="Share of attended appointments with a GP"),
                    key="practice_gp_share")
    with st.expander("Appointment mix figures"):
        for name in ("mix_role", "mix_mode", "gp_share"):
            common.show_table(tables[name], ctx)


main()
