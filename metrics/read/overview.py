"""The Overview page's tables: headline figures, PCNs side by side and on a funnel, the trend."""

from __future__ import annotations

from metrics.disclosure import DisclosureRule
from metrics.read.blocks import comparison, funnel_table, funnel_units, monthly_slicc
from metrics.read.filters import Selection
from metrics.read.source import ResultSource, groups
from metrics.read.table import Table, disclose, index_columns, with_interval


def overview_summary(source: ResultSource, rule: DisclosureRule) -> Table:
    """Headline figures for the whole dataset: SLICC, mean UPC and COC with n and intervals."""
    frame = groups(source, "all")
    for key in ("slicc", "upc", "coc"):
        frame = with_interval(frame, key)
    cols = [*index_columns("slicc"), *index_columns("upc"), *index_columns("coc")]
    frame = disclose(frame.select(*dict.fromkeys(cols), "practices"), rule)
    return Table("overview_summary", "Whole dataset: headline figures", frame,
                 "all practices in the data", rule)


def overview_tables(source: ResultSource, sel: Selection, rule: DisclosureRule
                    ) -> dict[str, Table]:
    from metrics.methods import index

    d = index(sel.index)
    return {
        "summary": overview_summary(source, rule),
        "all": comparison(source, "all", sel.index, rule, table_key=f"all_{sel.index}",
                          title=f"All practices: {d.name}"),
        "pcns": comparison(source, "pcn", sel.index, rule, table_key=f"pcns_{sel.index}",
                           title=f"All PCNs: {d.name} with 95% intervals"),
        "trend": monthly_slicc(source, "all", rule, table_key="all_slicc_monthly",
                               title="Whole dataset: monthly SLICC"),
        # PCNs differ in size: the page leads with their funnel, not a ranking
        "pcn_funnel": funnel_table(funnel_units(source, sel.index, rule, unit="pcn"),
                                   sel.index, label_col="pcn_code"),
    }
