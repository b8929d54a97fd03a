"""The Networks page's tables: the funnel first, PCNs side by side, the practices of one PCN
with its XmR chart, and every practice (continuity against list size)."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.disclosure import DisclosureRule
from metrics.methods import index
from metrics.read.blocks import (
    FUNNEL_SCOPES,
    comparison,
    funnel_table,
    funnel_units,
    monthly_slicc,
    scope_code,
    spc_table,
)
from metrics.read.filters import Selection
from metrics.read.source import ResultSource
from metrics.read.table import Table


@dataclass(frozen=True)
class NetworkOptions:
    """The Networks page's funnel choices (bound to the URL, so the Export page sees them)."""

    unit: str = "practice"  # funnel units: "practice" or "pcn"
    scope: str = "all"  # FUNNEL_SCOPES: everything, one ICB or one PCN
    code: str | None = None  # the ICB or PCN of the scope (default: the selection's)
    overdispersion: bool = True  # widen the limits by the random-effects tau^2


def network_tables(source: ResultSource, sel: Selection, rule: DisclosureRule,
                   options: NetworkOptions = NetworkOptions()) -> dict[str, Table]:
    """The Networks page: the funnel first, then PCNs side by side, the practices of one PCN
    and every practice (for continuity against list size)."""
    if options.unit not in ("practice", "pcn") or options.scope not in FUNNEL_SCOPES:
        raise ValueError(f"unknown funnel unit {options.unit!r} or scope {options.scope!r}")
    pcn = scope_code(source, sel, "pcn") if (sel.pcn or sel.practice) else None
    code = scope_code(source, sel, options.scope, options.code)
    units = funnel_units(source, sel.index, rule, unit=options.unit, scope=options.scope,
                         code=code)
    label_col = "practice_code" if options.unit == "practice" else "pcn_code"
    out = {
        "funnel": funnel_table(units, sel.index, overdispersion=options.overdispersion,
                               label_col=label_col),
        "pcns": comparison(source, "pcn", sel.index, rule, table_key=f"pcns_{sel.index}",
                           title="All PCNs side by side"),
        # the reference line: the whole data's own figure (as the Overview shows it), never
        # one recomputed from rounded rows
        "all": comparison(source, "all", sel.index, rule, table_key=f"all_{sel.index}",
                          title=f"All practices: {index(sel.index).name}"),
        "practices": funnel_units(source, sel.index, rule),
    }
    if pcn is not None:
        out["pcn_practices"] = funnel_units(source, sel.index, rule, scope="pcn", code=pcn)
        monthly = monthly_slicc(source, "pcn", rule, [pcn], table_key=f"pcn_{pcn}_slicc_monthly",
                                title=f"PCN {pcn}: monthly SLICC")
        out["pcn_spc"] = spc_table(monthly, "slicc")
    return out
