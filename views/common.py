"""Streamlit glue shared by the pages: cached data access, the filter context, tables.

Why one module: the read-only connection is a cached resource per database version and
`Params`; result frames are cached data keyed on the parameters and filters (never on the
connection), so every page reuses them and a rebuilt database (a new file swapped in) is picked
up on the next rerun. Pages stay thin: read the context, ask `metrics.results`, draw.
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

from metrics import results
from metrics.access import Viewer
from metrics.params import Params
from metrics.results import ResultSource, Selection, Table

CONTEXT_KEY = "continuity_context"
ERROR_KEY = "continuity_error"
VIEWER_KEY = "continuity_viewer"


def data_errors() -> tuple[type[BaseException], ...]:
    """Failures that come from the data or the filters: an error panel, never a traceback."""
    from metrics.engine import EngineError
    from metrics.params import ParamsError
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
    return results.open_results(Path(db), params)


@st.cache_data(max_entries=16, show_spinner=False)
def store_info(db: str, version: tuple[int, int]) -> tuple[Params, list[str], pl.DataFrame]:
    """The stored default parameters, the months with data and the practice directory."""
    src = source(db, version, None)
    months = [m.strftime("%Y-%m") for m in results.available_months(src)]
    return src.params, months, results.directory(src)


@st.cache_data(max_entries=256, show_spinner=False)
def page_tables(db: str, version: tuple[int, int], params: Params | None, page: str,
                sel: Selection, viewer: Viewer, options: tuple = ()) -> dict[str, Table]:
    """Every table of one page for these filters (cached on filters, not the connection)."""
    src = source(db, version, params)
    if page == "overview":
        return viewer.restrict(results.overview_tables(src, sel, viewer.shared_rule))
    if page == "practice":
        if not viewer.in_scope(sel.practice):  # never a practice outside a reviewer's scope
            return {}
        return viewer.restrict(results.practice_tables(src, sel, viewer, *options))
    if page == "networks":
        return viewer.restrict(results.network_tables(src, sel, viewer.shared_rule, *options))
    if page == "deprivation":
        return viewer.restrict(results.deprivation_tables(src, sel, viewer.shared_rule))
    raise ValueError(f"unknown page {page!r}")


# Page choices bound to the URL. A bound widget writes its option's label into the address, so
# one table of labels serves the widget and the Export page that reads the same address.
FUNNEL_UNITS = {"practice": "Practices", "pcn": "PCNs"}
FUNNEL_SCOPES = {"all": "Everything", "icb": "One ICB", "pcn": "One PCN"}
SPC_SERIES = {"practice": "The practice", "gp_list": "A named-GP list", "pcn": "Its PCN"}
SPC_TARGETS = {"none": "None", "good": "50% (good)", "excellent": "75% (excellent)"}
DECILE_PEERS = {"all": "All practices", "icb": "Its ICB"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_label(month: date) -> str:
    """'Mar 2025' (the label a month choice shows and writes into the URL)."""
    return f"{MONTHS[month.month - 1]} {month.year}"


def url_choice(key: str, labels: dict[str, str], default: str) -> str:
    """A bound choice as the URL holds it (its label, or its value), else `default`."""
    raw = st.query_params.get(key)
    if raw in labels:
        return raw
    by_label = {v: k for k, v in labels.items()}
    return by_label.get(raw, default)


def url_flag(key: str, default: bool) -> bool:
    raw = (st.query_params.get(key) or "").strip().lower()
    return {"true": True, "false": False}.get(raw, default)


def url_month(key: str, months: list[date]) -> date | None:
    raw = st.query_params.get(key)
    return next((m for m in months if raw in (month_label(m), m.isoformat()[:7])), None)


def practice_options_from_url(ctx: Context) -> results.PracticeOptions:
    """The My practice page's choices as its widgets left them in the URL. A named-GP list the
    chosen practice does not hold (another practice's, or unknown) is dropped, as the page's
    own list widget drops it."""
    gp_list = st.query_params.get("gp_list")
    if gp_list is not None and (ctx.sel.practice is None
                                or gp_list not in gp_list_ids(ctx, ctx.sel.practice)):
        gp_list = None
    return results.PracticeOptions(
        series=url_choice("series", SPC_SERIES, "practice"),
        gp_list=gp_list,
        target=url_choice("target", SPC_TARGETS, "none"),
        rebase=url_month("rebase", window_months(ctx)),
        peers=url_choice("peers", DECILE_PEERS, "all"))


def network_options_from_url() -> results.NetworkOptions:
    """The Networks page's funnel choices as its widgets left them in the URL."""
    return results.NetworkOptions(
        unit=url_choice("funnel_unit", FUNNEL_UNITS, "practice"),
        scope=url_choice("scope", FUNNEL_SCOPES, "all"),
        code=st.query_params.get("scope_code"),
        overdispersion=url_flag("dispersion", True))


@st.cache_data(max_entries=64, show_spinner=False)
def _gp_list_ids(db: str, version: tuple[int, int], practice: str) -> list[str]:
    return results.gp_list_ids(source(db, version, None), practice)


def gp_list_ids(ctx: Context, practice: str) -> list[str]:
    """Named GPs of a practice (from the stored results: lists do not depend on filters)."""
    return _gp_list_ids(ctx.db, ctx.version, practice)


def default_scope_code(ctx: Context, scope: str) -> str | None:
    """The ICB or PCN a funnel defaults to: the sidebar's PCN or the practice's."""
    return results.scope_code(source(ctx.db, ctx.version, None), ctx.sel, scope)


def window_months(ctx: Context) -> list[date]:
    from metrics.engine import months_in

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


def tables(ctx: Context, page: str, options: tuple = (),
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


def column_config(frame: pl.DataFrame) -> dict[str, object]:
    """Number formats by column kind: percentages, means to 3 places, counts with commas."""
    config: dict[str, object] = {}
    for name, dtype in frame.schema.items():
        kind = results.column_kind(name)
        if kind is None or not dtype.is_numeric():
            continue
        fmt = {"percent": "percent", "mean": "%.3f", "count": "localized",
               "percentile": "%.0f", "z": "%.2f"}[kind]
        config[name] = st.column_config.NumberColumn(name, format=fmt)
    return config


def show_table(table: Table, ctx: Context, *, caption: str | None = None,
               height: int | str = "auto") -> None:
    """The table as shown, its disclosure note and a CSV download of exactly these rows."""
    frame = results.display_frame(table.frame)
    st.dataframe(frame, column_config=column_config(frame), hide_index=True, height=height,
                 key=f"table_{table.key}")
    notes = [caption] if caption else []
    notes.append(f"Disclosure control: {table.rule.describe()}.")
    if table.own_rows:
        notes.append(f"Exact: {table.own_rows}.")
    st.caption(" ".join(notes))
    st.download_button(
        "Download CSV", data=lambda: results.export_csv(table, ctx.params, ctx.sel),
        file_name=results.export_name(table, "csv"), mime="text/csv", key=f"download_{table.key}",
        icon=":material/download:")


def banner(viewer: Viewer) -> None:
    if viewer.banner:
        st.info(viewer.banner, icon=":material/info:")


def metric_value(value: object, percent: bool) -> str:
    """A headline value as text: '51.7%', '0.612', '*' (suppressed) or 'no data'."""
    if value is None:
        return "no data"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    return f"{value:.1%}" if percent else f"{value:.3f}"


def count_text(value: object) -> str:
    if value is None:
        return "0"
    if isinstance(value, str):
        try:
            return f"{float(value):,.0f}"
        except ValueError:
            return value
    return f"{value:,.0f}"
