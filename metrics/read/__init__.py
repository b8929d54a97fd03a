"""The reading layer: what pages, exports and the command line call (no page runs SQL).

- source: ResultSource, open_results and the SQL reads of the result tables
- table: Table (numbers with a suppression mask), column kinds, shared building blocks
- labels: the one Python definition of role groups, IMD quintiles, modes and bands
- filters: Selection and the window -> Params
- blocks: tables several pages share (comparisons, monthly SLICC, funnels, XmR)
- overview, practice (+ spc), networks, deprivation, inferred, context (GPAD), levels: one
  module per page's tables; data: the Data page's reads of the store
- export: CSV, XLSX and ZIP files with their header block ('*' written only here and on screen)
- registry: pages by name -> builder, options and URL codec; the one route to every file
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> submodule: `from metrics import read; read.open_results(...)` without importing every
# module up front (PEP 562). The names live in their modules; this only points at them.
_WHERE = {
    "source": ("ResultSource", "open_results", "available_months", "appointment_mix", "directory",
               "gp_list_ids", "group_practices", "groups", "group_rows", "monthly",
               "practice_profile", "practices", "pcn_names", "rolling_upc", "slicc_monthly",
               "summary", "months_between", "LEVELS", "LEVEL_LABELS", "MULTI_PRACTICE_LEVELS"),
    "table": ("Table", "column_kind", "to_numeric", "with_interval", "index_columns", "disclose",
              "disclose_level", "stack"),
    "filters": ("Selection", "window_params", "WINDOW_LENGTHS"),
    "labels": ("QUINTILE_LABELS", "ROLE_GROUPS", "ROLE_GROUP_ORDER", "MODE_LABELS",
               "imd_quintile"),
    "blocks": ("comparison", "monthly_slicc", "funnel_units", "funnel_table", "spc_table",
               "scope_code"),
    "overview": ("overview_summary", "overview_tables"),
    "practice": ("practice_peers", "practice_deciles", "gp_lists", "practice_groups",
                 "practice_mix", "practice_gp_share", "practice_tables"),
    "spc": ("PracticeOptions", "practice_monthly", "practice_spc", "rolling_upc_table"),
    "networks": ("NetworkOptions", "network_tables"),
    "deprivation": ("deprivation_tables",),
    "levels": ("level_tables",),
    "data": ("store_counts", "store_report", "store_rejects"),
    "export": ("export_about", "export_csv", "export_xlsx", "export_name", "export_zip_of",
               "shareable"),
    "registry": ("PAGES", "page_tables", "export_tables", "export_zip", "write_export"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics.read' has no attribute {name!r}")
    return getattr(importlib.import_module(f"metrics.read.{module}"), name)
