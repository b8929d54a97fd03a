"""The pages by name: each page's table builder, its own options and their URL codec.

One route to every shareable file: the dashboard's pages, the Export page and the command line's
`export` all ask `page_tables` for a page's tables, `export_tables` for everything shareable, and
write them with metrics.read.export. A page's options travel in the address bar as the labels its
bound widgets write there (`encode` / `decode`), so the Export page rebuilds exactly what a page
shows and `metrics export --option` takes the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from metrics.access import Viewer
from metrics.pipeline import engine
from metrics.read.context import context_tables
from metrics.read.deprivation import deprivation_tables
from metrics.read.export import export_name, export_zip_of, shareable, write_files
from metrics.read.filters import Selection
from metrics.read.inferred import inferred_tables
from metrics.read.levels import level_tables
from metrics.read.networks import NetworkOptions, network_tables
from metrics.read.overview import overview_tables
from metrics.read.practice import practice_tables
from metrics.read.source import ResultSource, gp_list_ids, open_results
from metrics.read.spc import PracticeOptions
from metrics.read.table import Table

__all__ = ["PAGES", "Page", "Selection", "decode", "encode", "export_name", "export_tables",
           "export_zip", "export_zip_of", "open_results", "page_tables", "write_export"]

# Page choices bound to the URL. A bound widget writes its option's label into the address, so
# one table of labels serves the widget, the Export page and the command line.
FUNNEL_UNITS = {"practice": "Practices", "pcn": "PCNs"}
FUNNEL_SCOPES = {"all": "Everything", "icb": "One ICB", "pcn": "One PCN"}
SPC_SERIES = {"practice": "The practice", "gp_list": "A named-GP list", "pcn": "Its PCN"}
SPC_TARGETS = {"none": "None", "good": "50% (good)", "excellent": "75% (excellent)"}
DECILE_PEERS = {"all": "All practices", "icb": "Its ICB"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Query = Mapping[str, str]


def month_label(month: date) -> str:
    """'Mar 2025' (the label a month choice shows and writes into the URL)."""
    return f"{MONTHS[month.month - 1]} {month.year}"


def _choice(query: Query, key: str, labels: dict[str, str], default: str) -> str:
    """A bound choice as the URL holds it (its label, or its value), else `default`."""
    raw = query.get(key)
    if raw in labels:
        return str(raw)
    by_label = {v: k for k, v in labels.items()}
    return by_label.get(raw, default)  # type: ignore[arg-type]


def _flag(query: Query, key: str, default: bool) -> bool:
    raw = (query.get(key) or "").strip().lower()
    return {"true": True, "false": False}.get(raw, default)


def _month(query: Query, key: str, months: list[date]) -> date | None:
    raw = query.get(key)
    return next((m for m in months if raw in (month_label(m), m.isoformat()[:7])), None)


def practice_options(query: Query, *, gp_lists: list[str], months: list[date]
                     ) -> PracticeOptions:
    """The My practice page's choices from the URL. A named-GP list the practice does not
    hold (another practice's, or unknown) is dropped, as the page's own list widget drops it."""
    gp_list = query.get("gp_list")
    return PracticeOptions(
        series=_choice(query, "series", SPC_SERIES, "practice"),
        gp_list=gp_list if gp_list in gp_lists else None,
        target=_choice(query, "target", SPC_TARGETS, "none"),
        rebase=_month(query, "rebase", months),
        peers=_choice(query, "peers", DECILE_PEERS, "all"))


def network_options(query: Query) -> NetworkOptions:
    """The Networks page's funnel choices from the URL."""
    return NetworkOptions(
        unit=_choice(query, "funnel_unit", FUNNEL_UNITS, "practice"),
        scope=_choice(query, "scope", FUNNEL_SCOPES, "all"),
        code=query.get("scope_code"),
        overdispersion=_flag(query, "dispersion", True))


def _encode_practice(o: PracticeOptions) -> dict[str, str]:
    out = {"series": SPC_SERIES[o.series], "target": SPC_TARGETS[o.target],
           "peers": DECILE_PEERS[o.peers]}
    if o.gp_list is not None:
        out["gp_list"] = o.gp_list
    if o.rebase is not None:
        out["rebase"] = month_label(o.rebase)
    return out


def _encode_networks(o: NetworkOptions) -> dict[str, str]:
    out = {"funnel_unit": FUNNEL_UNITS[o.unit], "scope": FUNNEL_SCOPES[o.scope],
           "dispersion": "true" if o.overdispersion else "false"}
    if o.code is not None:
        out["scope_code"] = o.code
    return out


def _decode_practice(query: Query, source: ResultSource, sel: Selection) -> PracticeOptions:
    lists = gp_list_ids(source, sel.practice) if sel.practice else []
    return practice_options(query, gp_lists=lists, months=engine.months_in(source.params))


def _in_scope(viewer: Viewer, sel: Selection) -> bool:
    """Never a practice outside a reviewer's scope."""
    return viewer.in_scope(sel.practice)


@dataclass(frozen=True)
class Page:
    name: str
    title: str  # as the Export page lists it
    build: Callable[[ResultSource, Selection, Viewer, Any], dict[str, Table]]
    options: type | None = None  # the page's own choices (a frozen dataclass)
    decode: Callable[[Query, ResultSource, Selection], Any] | None = None
    encode: Callable[[Any], dict[str, str]] | None = None
    practice_scoped: bool = False  # its tables are about the selected practice


PAGES: dict[str, Page] = {p.name: p for p in (
    Page("overview", "Overview",
         lambda src, sel, viewer, _: overview_tables(src, sel, viewer.shared_rule)),
    Page("practice", "My practice",
         lambda src, sel, viewer, o: practice_tables(src, sel, viewer, o),
         PracticeOptions, _decode_practice, _encode_practice, practice_scoped=True),
    Page("networks", "Networks",
         lambda src, sel, viewer, o: network_tables(src, sel, viewer.shared_rule,
                                                    o or NetworkOptions()),
         NetworkOptions, lambda q, _src, _sel: network_options(q), _encode_networks),
    Page("deprivation", "Deprivation",
         lambda src, sel, viewer, _: deprivation_tables(src, sel, viewer.shared_rule)),
    Page("inferred", "My practice (inferred GP)",
         lambda src, sel, viewer, _: inferred_tables(src, sel.practice, viewer),
         practice_scoped=True),
    Page("context", "National context",
         lambda src, sel, _viewer, _: context_tables(src, sel.practice), practice_scoped=True),
    Page("levels", "Every index by level",
         lambda src, sel, viewer, _: level_tables(src, sel, viewer)),
)}


def decode(page: str, query: Query, source: ResultSource, sel: Selection) -> Any:
    """A page's options from a query-string dict (None for a page without options)."""
    p = PAGES[page]
    return p.decode(query, source, sel) if p.decode else None


def encode(page: str, options: Any) -> dict[str, str]:
    """A page's options as the query-string dict its widgets write."""
    p = PAGES[page]
    return p.encode(options) if p.encode and options is not None else {}


def page_tables(source: ResultSource, page: str, sel: Selection, viewer: Viewer,
                options: Any = None) -> dict[str, Table]:
    """Every table of one page for these filters, restricted to what the viewer may see."""
    p = PAGES.get(page)
    if p is None:
        raise ValueError(f"unknown page {page!r}")
    if p.practice_scoped and not _in_scope(viewer, sel):
        return {}
    return viewer.restrict(p.build(source, sel, viewer, options))


def export_tables(source: ResultSource, sel: Selection, viewer: Viewer,
                  query: Query | None = None, *, include_internal: bool = False,
                  tables: Callable[[str, Any], dict[str, Table]] | None = None
                  ) -> dict[str, tuple[str, Table]]:
    """Every shareable table, key -> (page title, table): each page's tables for the options
    in `query`, one per key (a table two pages show is listed once, under the later page).
    `tables(page, options)` may stand in for page_tables (the dashboard's cache)."""
    query = query or {}
    found: list[tuple[str, Table]] = []
    for name, page in PAGES.items():
        options = decode(name, query, source, sel)
        got = (tables(name, options) if tables is not None
               else page_tables(source, name, sel, viewer, options))
        found += [(page.title, t) for t in got.values()]
    allowed = {t.key for t in shareable([t for _, t in found], include_internal)}
    return {t.key: (title, t) for title, t in found if t.key in allowed}


def export_zip(source: ResultSource, sel: Selection, viewer: Viewer,
               query: Query | None = None, *, include_internal: bool = False,
               salt: bytes | None = None) -> bytes:
    """The Export page's ZIP of every shareable table."""
    shown = export_tables(source, sel, viewer, query, include_internal=include_internal)
    return export_zip_of([t for _, t in shown.values()], source.params, sel, salt=salt)


def write_export(source: ResultSource, sel: Selection, viewer: Viewer, out: Path,
                 query: Query | None = None, *, include_internal: bool = False,
                 salt: bytes | None = None) -> list[Path]:
    """The same files as export_zip, written into a folder (the command line's `export`)."""
    shown = export_tables(source, sel, viewer, query, include_internal=include_internal)
    return write_files([t for _, t in shown.values()], source.params, sel, out, salt=salt)
