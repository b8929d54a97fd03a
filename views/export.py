"""Export: the data behind every chart and table, as shown, with the filters, window,
definitions and disclosure rule written in a header block."""

from __future__ import annotations

import streamlit as st

from metrics import results
from metrics.results import Table
from views import common

PAGES = {"overview": "Overview", "practice": "My practice", "networks": "Networks",
         "deprivation": "Deprivation"}


def main() -> None:
    ctx = common.context()
    st.title("Export")
    st.write("Every table below is exactly what its page shows for the filters in the "
             "sidebar and the page's own choices in the address bar (funnel scope, SPC "
             "series, target and rebase). Each CSV starts with `# ` lines naming the "
             "filters, the window, the definitions and the disclosure rule, then the table "
             "with numerators and denominators. Patient-level rows never leave the dashboard.")
    include_lists = False
    if ctx.viewer.shows_gp_lists(ctx.sel.practice):
        include_lists = st.checkbox(
            "Include named-GP lists (internal use only: figures about named staff)",
            value=False, key="include_gp_lists")
    found: list[tuple[str, Table]] = []
    with common.error_panel("The figures could not be loaded"):
        practice = common.practice_options_from_url(ctx)
    if practice.series == "gp_list" and practice.gp_list is None and st.query_params.get(
            "gp_list"):
        st.info("The named-GP list in the address is not one of this practice's lists, so it "
                "is ignored: the practice's own monthly series is exported instead.",
                icon=":material/info:")
    options = {"practice": (practice,), "networks": (common.network_options_from_url(),)}
    for page, title in PAGES.items():
        for table in common.tables(ctx, page, options=options.get(page, ())).values():
            found.append((title, table))
    allowed = {t.key for t in results.shareable([t for _, t in found], include_lists)}
    shown = {t.key: (page, t) for page, t in found if t.key in allowed}
    if not shown:
        st.info("Nothing to export for these filters.", icon=":material/search_off:")
        st.stop()
    key = st.selectbox("Table", list(shown), key="export_table",
                       format_func=lambda k: f"{shown[k][0]}: {shown[k][1].title}")
    page, table = shown[key]
    about = results.export_about(table, ctx.params, ctx.sel)
    st.code("\n".join(f"# {k}: {v}" for k, v in about), language=None, wrap_lines=True)
    frame = results.display_frame(table.frame)
    st.dataframe(frame, column_config=common.column_config(frame), hide_index=True,
                 key="export_preview")
    left, middle, right = st.columns(3)
    left.download_button("Download CSV", data=lambda: results.export_csv(table, ctx.params,
                                                                          ctx.sel),
                         file_name=results.export_name(table, "csv"), mime="text/csv",
                         key="export_csv", icon=":material/download:", type="primary")
    middle.download_button(
        "Download XLSX", data=lambda: results.export_xlsx(table, ctx.params, ctx.sel),
        file_name=results.export_name(table, "xlsx"), key="export_xlsx", icon=":material/download:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    everything = [t for _, t in shown.values()]
    right.download_button(
        f"Download all {len(everything)} tables (ZIP of CSV)",
        data=lambda: results.export_zip(everything, ctx.params, ctx.sel),
        file_name="continuity_tables.zip", mime="application/zip", key="export_zip",
        icon=":material/folder_zip:")


main()
