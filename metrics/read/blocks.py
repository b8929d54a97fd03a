"""Tables more than one page shows: groups side by side, monthly SLICC, funnel units and plots,
XmR tables, and the ICB or PCN a funnel is drawn within."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from metrics.disclosure import DisclosureRule
from metrics.read.filters import Selection
from metrics.read.labels import label_quintile
from metrics.read.source import (
    LEVEL_LABELS,
    ResultSource,
    directory,
    pcn_names,
    practice_profile,
    practices,
    slicc_monthly,
)
from metrics.read.table import Table, disclose_level, index_table


def comparison(source: ResultSource, level: str, key: str, rule: DisclosureRule,
               codes: Sequence[str] | None = None, *, table_key: str | None = None,
               title: str | None = None) -> Table:
    """Groups of one level side by side, each with its n and interval (never ranked)."""
    frame = index_table(source, level, key, rule, codes)
    names = {"pcn": pcn_names(source).rename({"pcn_code": "group_code", "pcn_name": "name"}),
             "practice": practices(source).select(
                 pl.col("practice_code").alias("group_code"),
                 pl.col("practice_name").alias("name"), "pcn_code", "list_size")}
    if level in names:
        frame = frame.join(names[level], on="group_code", how="left", maintain_order="left")
        frame = frame.with_columns(label=pl.concat_str(
            pl.col("group_code"), pl.lit(" "), pl.col("name").fill_null(""))
            .str.strip_chars())
    elif level.endswith("imd_quintile"):
        frame = frame.with_columns(label_quintile("group_code"))
    elif level == "all":
        frame = frame.with_columns(label=pl.lit("All practices"))
    else:
        frame = frame.with_columns(label=pl.col("group_code"))
    frame = frame.drop("subgroup").rename({"group_code": LEVEL_LABELS.get(level, level)})
    first = ["label", LEVEL_LABELS.get(level, level)]
    frame = frame.select(*first, *[c for c in frame.columns if c not in first])
    return Table(table_key or f"{level}_{key}", title or f"{level}: {key}", frame,
                 f"{level} level", rule)


def monthly_slicc(source: ResultSource, level: str, rule: DisclosureRule,
                  codes: Sequence[str] | None = None, *, table_key: str | None = None,
                  title: str | None = None, subgroup: str | None = None) -> Table:
    """Monthly SLICC per group with Wilson limits; a month without contacts stays blank."""
    from metrics.stats import with_wilson

    frame = with_wilson(slicc_monthly(source, level, codes, subgroup), "slicc_numerator",
                        "slicc_denominator", "slicc")
    key_col = frame.columns[0]
    if level.endswith("imd_quintile"):
        frame = frame.with_columns(label_quintile(key_col))
    elif level == "all":
        frame = frame.with_columns(label=pl.lit("All practices"))
    elif level == "gp_list":
        frame = frame.with_columns(label=pl.col("usual_gp_id"))
    else:
        frame = frame.with_columns(label=pl.col(key_col))
    # each month's groups are the members of that month's total
    frame = disclose_level(source, frame, level, rule, also=["month"])
    frame = frame.select("label", pl.exclude("label"))
    return Table(table_key or f"{level}_slicc_monthly", title or f"{level}: monthly SLICC",
                 frame, f"{level} x month", rule)


FUNNEL_SCOPES = ("all", "icb", "pcn")


def funnel_units(source: ResultSource, key: str, rule: DisclosureRule, *, unit: str = "practice",
                 scope: str = "all", code: str | None = None) -> Table:
    """Practices (or PCNs) for a funnel plot and the list-size scatter: controlled values,
    their n and intervals, list size and PCN. Scope: everything, one ICB or one PCN."""
    if unit not in ("practice", "pcn") or scope not in FUNNEL_SCOPES:
        raise ValueError(f"unknown funnel unit {unit!r} or scope {scope!r}")
    members = directory(source)
    if scope != "all" and code is not None:
        members = members.filter(pl.col(f"{scope}_code") == code)
    if unit == "practice":
        codes = members["practice_code"].to_list()
    else:
        codes = members["pcn_code"].drop_nulls().unique().sort().to_list()
    table = comparison(source, unit, key, rule, codes)
    if unit == "pcn":
        sizes = (members.group_by("pcn_code").agg(pl.col("list_size").sum())
                 .rename({"pcn_code": "pcn_code_"}))
        frame = table.frame.join(sizes, left_on="pcn_code", right_on="pcn_code_", how="left")
    else:
        frame = table.frame.join(members.select("practice_code", "personal_lists",
                                                "practice_imd_quintile"),
                                 on="practice_code", how="left", maintain_order="left")
    plural = "PCNs" if unit == "pcn" else "Practices"
    where = ("in the data" if scope == "all" or code is None
             else f"in {scope.upper()} {code}")
    return Table(f"{unit}s_in_{scope}{'_' + code if code and scope != 'all' else ''}_{key}",
                 f"{plural} {where}", frame,
                 f"{unit} level, {plural.lower()} {where}", rule)


FUNNEL_LIMITS = ("lower95", "upper95", "lower998", "upper998")


def funnel_table(units: Table, key: str, *, overdispersion: bool = True,
                 label_col: str = "practice_code") -> Table:
    """The units as shown with their funnel z-score, limits at their own n and flags
    (Spiegelhalter 2005; target = the overall value of the units shown)."""
    from metrics.methods import index
    from metrics.stats import funnel_means, funnel_proportions

    d = index(key)
    frame = units.numeric()
    n_col = d.denominator_col
    usable = frame.filter(pl.col(d.value_col).is_not_null() & (pl.col(n_col) > 0))
    title = units.title
    what = title[:1].lower() + title[1:] if title[1:2].islower() else title  # keep "PCNs"
    if usable.height < 2:
        return Table(f"{units.key}_funnel", f"{d.name} funnel plot: {what}", units.frame,
                     units.scope,
                     units.rule, own_rows=units.own_rows)
    if d.kind == "ratio":
        result = funnel_proportions(usable, f"{d.key}_numerator", n_col,
                                    overdispersion=overdispersion)
    else:
        result = funnel_means(usable, d.value_col, f"{d.key}_sd", n_col, bounds=(0.0, 1.0),
                              overdispersion=overdispersion)
    stats = result.units.select(
        label_col, pl.lit(result.target).alias(f"{d.key}_target"),
        pl.col("z_adj").alias("z_score"),
        *[pl.col(c).alias(f"{d.key}_{c}") for c in FUNNEL_LIMITS],
        pl.col("flag95").alias("outside_95"), pl.col("flag998").alias("outside_99_8"))
    shown = units.frame.join(stats, on=label_col, how="left", maintain_order="left")
    limits = "limits widened for over-dispersion" if overdispersion else "unadjusted limits"
    return Table(f"{units.key}_funnel", f"{d.name} funnel plot: {what} ({limits})", shown,
                 units.scope, units.rule, own_rows=units.own_rows, result=result)


def spc_table(series: Table, value_col: str, *, target: float | None = None,
              rebase_at: Sequence[date] = (), leave_out: str | None = None) -> Table:
    """The series as shown with its XmR centre, limits, special-cause type and reason.

    `leave_out` names a boolean column of months kept on the chart but out of the limits and
    rules (a rolling window short of history reads high)."""
    from metrics.stats import xmr

    numeric = series.numeric().select("month", value_col, *([leave_out] if leave_out else []))
    if leave_out:
        numeric = numeric.select(
            "month", pl.when(pl.col(leave_out).fill_null(False)).then(None)
            .otherwise(pl.col(value_col)).alias(value_col))
    result = xmr(numeric, "month", value_col, target=target, rebase_at=rebase_at)
    stats = result.points.select(
        "month", pl.col("centre").alias(f"{value_col}_centre"),
        pl.col("lower").alias(f"{value_col}_lower_limit"),
        pl.col("upper").alias(f"{value_col}_upper_limit"),
        pl.col("special").alias("special_cause"), pl.col("type").alias("variation"),
        pl.col("reason"))
    frame = series.frame.join(stats, on="month", how="left", maintain_order="left")
    what = f"; target {target:.0%}" if target is not None else ""
    rebased = ("; rebased at " + ", ".join(f"{d:%b %Y}" for d in rebase_at)) if rebase_at else ""
    key = (f"{series.key}_spc" + (f"_target{target * 100:.0f}" if target is not None else "")
           + "".join(f"_rebased{d:%Y-%m}" for d in rebase_at))
    return Table(key, f"{series.title}: XmR chart{what}{rebased}", frame,
                 series.scope, series.rule, own_rows=series.own_rows, internal=series.internal,
                 result=result)


def scope_code(source: ResultSource, sel: Selection, scope: str,
               code: str | None = None) -> str | None:
    """The ICB or PCN a funnel is drawn within: the one asked for, else the selection's
    (the sidebar PCN, or the practice's), else the first in the data."""
    if scope == "all":
        return None
    column = f"{scope}_code"
    known = directory(source)[column].drop_nulls().unique().sort().to_list()
    if code in known:
        return code
    if scope == "pcn" and sel.pcn in known:
        return sel.pcn
    if sel.practice is not None:
        own = (practice_profile(source, sel.practice) or {}).get(column)
        if own is not None:
            return str(own)
    return known[0] if known else None
