"""Export: the data behind every chart and table, as shown, with the filters, window,
definitions and disclosure rule written in a header block. Every page's tables come through
metrics.read.registry, the route `python -m metrics export` takes too."""

from __future__ import annotations

import streamlit as st

from metrics.read import registry
from metrics.read.export import export_about, export_csv, export_name, export_xlsx
from views import common


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
    query = common.url_query()
    with common.error_panel("The figures could not be loaded"):
        src = common.source(ctx.db, ctx.version, ctx.source_params)
        practice = registry.decode("practice", query, src, ctx.sel)
    if practice.series == "gp_list" and practice.gp_list is None and query.get("gp_list"):
        st.info("The named-GP list in the address is not one of this practice's lists, so it "
                "is ignored: the practice's own monthly series is exported instead.",
                icon=":material/info:")
    with common.error_panel("The figures could not be loaded"):
        shown = registry.export_tables(
            src, ctx.sel, ctx.viewer, query, include_internal=include_lists,
            tables=lambda page, options: common.tables(ctx, page, options=options))
    if not shown:
        st.info("Nothing to export for these filters.", icon=":material/search_off:")
        st.stop()
    key = st.selectbox("Table", list(shown), key="export_table",
                       format_func=lambda k: f"{shown[k][0]}: {shown[k][1].title}")
    page, table = shown[key]
    about = export_about(table, ctx.params, ctx.sel)
    st.code("\n".join(f"# {k}: {v}" for k, v in about), language=None, wrap_lines=True)
    frame = common.display_frame(table)
    st.dataframe(frame, column_config=common.column_config(frame), hide_index=True,
                 key="export_preview")
    left, middle, right = st.columns(3)
    left.download_button("Download CSV", data=lambda: export_csv(table, ctx.params, ctx.sel),
                         file_name=export_name(table, "csv"), mime="text/csv",
                         key="export_csv", icon=":material/download:", type="primary")
    middle.download_button(
        "Download XLSX", data=lambda: export_xlsx(table, ctx.params, ctx.sel),
        file_name=export_name(table, "xlsx"), key="export_xlsx", icon=":material/download:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    everything = [t for _, t in shown.values()]
    right.download_button(
        f"Download all {len(everything)} tables (ZIP of CSV)",
        data=lambda: registry.export_zip_of(everything, ctx.params, ctx.sel),
        file_name="continuity_tables.zip", mime="application/zip", key="export_zip",
        icon=":material/folder_zip:")


main()
