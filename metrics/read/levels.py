"""Every index per level: the tables `python -m metrics export` has always written (practice.csv,
pcn.csv, ..., slicc_monthly.csv), now one page of the registry like any other, so the Export
page's ZIP holds them too."""

from __future__ import annotations

from metrics.access import Viewer
from metrics.read.filters import Selection
from metrics.read.source import ResultSource, slicc_monthly, summary
from metrics.read.table import Table, disclose_level

SHARED_LEVELS = ("practice", "pcn", "sub_icb", "icb", "practice_imd_quintile",
                 "patient_imd_quintile", "age_band")


def sees_every_list(viewer: Viewer) -> bool:
    """Every practice's named-GP lists (internal use only): a local user, an administrator or
    the command line, never a practice user or a reviewer."""
    return viewer.per_gp and not viewer.restricted and (
        viewer.full_practices is None or viewer.role == "export")


def level_tables(source: ResultSource, sel: Selection, viewer: Viewer) -> dict[str, Table]:
    """One table per level with every index (under the shared rule), monthly SLICC per
    practice, and every practice's named-GP lists as an internal table where allowed."""
    rule = viewer.shared_rule
    levels = (*SHARED_LEVELS, "gp_list") if sees_every_list(viewer) else SHARED_LEVELS
    out = {}
    for level in levels:
        frame = disclose_level(source, summary(source, level), level, rule)
        internal = level == "gp_list"
        scope = f"{level} level" + (" (named GP lists: internal use only)" if internal else "")
        out[level] = Table(level, f"{level} level: every index", frame, scope, rule,
                           internal=internal)
    monthly = disclose_level(source, slicc_monthly(source, "practice"), "practice", rule,
                             also=["month"])
    out["slicc_monthly"] = Table("slicc_monthly", "Practices: monthly SLICC", monthly,
                                 "practice x month", rule)
    return out
