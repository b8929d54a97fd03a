"""Streamlit glue shared by the pages: cached data access, the filter context, tables.

Why one module: the read-only connection is a cached resource per database version and
`Params`; result frames are cached data keyed on the parameters and filters (never on the
connection), so every page reuses them and a rebuilt database (a new file swapped in) is picked
up on the next rerun. Pages stay thin: read the context, ask `metrics.read`, draw. The helpers at
the end draw what several pages draw alike: a chart with its table, a headline figure with its
caption, SPC badges and a page's caption line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from metrics.access import Viewer
from metrics.params import Params
from metrics.read import registry
from metrics.read.blocks import scope_code
from metrics.read.export import export_csv, export_name
from metrics.read.filters import Selection
from metrics.read.source import ResultSource, available_months, directory, open_results
from metrics.read.table import Table
from views.format import column_config, count_text, display_frame, metric_value

CONTEXT_KEY = "continuity_context"
ERROR_KEY = "continuity_error"
VIEWER_KEY = "continuity_viewer"


def data_errors() -> tuple[type[BaseException], ...]:
    """Failures that come from the data or the filters: an error panel, never a traceback."""
    from metrics.params import ParamsError
    from metrics.pipeline.engine import EngineError
    from metrics.store import StoreError

    return (duckdb.Error, StoreError, EngineError, ParamsError, OSError)


@dataclass(frozen=True)
class Context:
    """What every page needs: the database, the filters and who is looking."""

    db: str
    version: tuple[int, int]
    params: Params
    stored: Params
    sel: Selection
    viewer: Viewer

    @property
    def source_params(self) -> Params | None:
        """None for the stored defaults (one cached connection serves both)."""
        return None if self.params == self.stored else self.params


def db_version(path: Path) -> tuple[int, int] | None:
    """Changes whenever the database file is replaced (inode, modification time)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


@st.cache_resource(max_entries=6, show_spinner=False)
def source(db: str, version: tuple[int, int], params: Params | None) -> ResultSource:
    """A read-only result source per database version and parameters (queries use cursors)."""
    return open_results(Path(db), params)


@st.cache_data(max_entries=16, show_spinner=False)
def store_info(db: str, version: tuple[int, int]) -> tuple[Params, list[str], pl.DataFrame]:
    """The stored default parameters, the months with data and the practice directory."""
    src = source(db, version, None)
    months = [m.strftime("%Y-%m") for m in available_months(src)]
    return src.params, months, directory(src)


@st.cache_data(max_entries=256, show_spinner=False)
def page_tables(db: str, version: tuple[int, int], params: Params | None, page: str,
                sel: Selection, viewer: Viewer, options: object = None) -> dict[str, Table]:
    """Every table of one page for these filters (cached on filters, not the connection).
    The GPAD context lives in the store: always read through the stored source."""
    src = source(db, version, None if page == "context" else params)
    return registry.page_tables(src, page, sel, viewer, options)


# Page choices bound to the URL: the labels the widgets write (metrics.read.registry's codec).
FUNNEL_UNITS = registry.FUNNEL_UNITS
FUNNEL_SCOPES = registry.FUNNEL_SCOPES
SPC_SERIES = registry.SPC_SERIES
SPC_TARGETS = registry.SPC_TARGETS
DECILE_PEERS = registry.DECILE_PEERS
month_label = registry.month_label


def url_query() -> dict[str, str]:
    """The address bar's query string as a dict (the registry's codec reads it)."""
    return {k: st.query_params.get(k) for k in st.query_params}


def page_options(ctx: Context, page: str) -> object:
    """A page's own choices as its widgets left them in the URL (None: a page without)."""
    return registry.decode(page, url_query(), source(ctx.db, ctx.version, ctx.source_params),
                           ctx.sel)


@st.cache_data(max_entries=64, show_spinner=False)
def _gp_list_ids(db: str, version: tuple[int, int], practice: str) -> list[str]:
    from metrics.read.source import gp_list_ids as ids

    return ids(source(db, version, None), practice)


def gp_list_ids(ctx: Context, practice: str) -> list[str]:
    """Named GPs of a practice (from the stored results: lists do not depend on filters)."""
    return _gp_list_ids(ctx.db, ctx.version, practice)


def default_scope_code(ctx: Context, scope: str) -> str | None:
    """The ICB or PCN a funnel defaults to: the sidebar's PCN or the practice's."""
    return scope_code(source(ctx.db, ctx.version, None), ctx.sel, scope)


def window_months(ctx: Context) -> list[date]:
    from metrics.pipeline.engine import months_in

    return months_in(ctx.params)


def context() -> Context:
    """The context the entry file set for this run (or an error panel)."""
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        problem = st.session_state.get(ERROR_KEY) or "open the app through dashboard.py"
        st.error(f"The figures cannot be shown: {problem}.\n\nCheck or rebuild the database "
                 "on the Data page.", icon=":material/error:")
        st.stop()
    return ctx


def tables(ctx: Context, page: str, options: object = None,
           sel: Selection | None = None) -> dict[str, Table]:
    """A page's tables, with a spinner while they load and an error panel if they cannot."""
    spinner = ("Computing every index for these filters (a few seconds)..."
               if ctx.source_params is not None else "Loading...")
    with error_panel("The figures could not be loaded"), st.spinner(spinner):
        return page_tables(ctx.db, ctx.version, ctx.source_params, page, sel or ctx.sel,
                           ctx.viewer, options)


@contextmanager
def error_panel(what: str) -> Iterator[None]:
    """A clear error panel (not a traceback) when the data are broken or unreadable."""
    try:
        yield
    except data_errors() as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        st.error(f"{what}: {first}\n\nCheck or rebuild the database on the Data page.",
                 icon=":material/error:")
        st.stop()


def show_table(table: Table, ctx: Context, *, caption: str | None = None,
               height: int | str = "auto") -> None:
    """The table as shown, its disclosure note and a CSV download of exactly these rows."""
    frame = display_frame(table)
    st.dataframe(frame, column_config=column_config(frame), hide_index=True, height=height,
                 key=f"table_{table.key}")
    notes = [caption] if caption else []
    notes.append(f"Disclosure control: {table.rule.describe()}.")
    if table.own_rows:
        notes.append(f"Exact: {table.own_rows}.")
    st.caption(" ".join(notes))
    st.download_button(
        "Download CSV", data=lambda: export_csv(table, ctx.params, ctx.sel),
        file_name=export_name(table, "csv"), mime="text/csv", key=f"download_{table.key}",
        icon=":material/download:")


def chart_and_table(figure: object, table: Table, ctx: Context, *, key: str,
                    caption: str | None = None, expander: str | None = None) -> None:
    """A chart, then the table it is drawn from (inside an expander when one is named)."""
    st.plotly_chart(figure, key=key)
    if expander is None:
        show_table(table, ctx, caption=caption)
        return
    with st.expander(expander):
        show_table(table, ctx, caption=caption)


def headline(col: object, label: str, value: str, caption: str | None, *,
             help: str | None = None) -> None:  # noqa: A002 - Streamlit's own name
    """One headline figure with its caption (the n and interval behind it)."""
    col.metric(label, value, help=help)  # type: ignore[attr-defined]
    if caption is not None:
        col.caption(caption)  # type: ignore[attr-defined]


ICON_COLOURS = {"improvement": "blue", "concern": "orange", "common": "gray", "pass": "blue",
                "fail": "orange", "inconsistent": "gray"}


def spc_badges(table: Table) -> None:
    """The SPC variation and assurance icons as badges (also drawn inside the chart)."""
    from metrics.charts import dashboard_figures as figures

    badges = [f":{ICON_COLOURS.get(kind, 'gray')}-badge[{text}]"
              for kind, text in figures.spc_icons(table)]
    if badges:
        st.markdown(" ".join(badges))


def page_caption(*parts: str) -> None:
    """A page's caption line: its pieces joined by middle dots."""
    st.caption(" · ".join(parts))


def banner(viewer: Viewer) -> None:
    if viewer.banner:
        st.info(viewer.banner, icon=":material/info:")


__all__ = ["Context", "Selection", "Table", "banner", "chart_and_table", "column_config",
           "context", "count_text", "display_frame", "error_panel", "headline",
           "metric_value", "page_caption", "show_table", "spc_badges", "tables"]
