"""Statistical process control and rolling UPC on the My practice page: the chosen series
(the practice, a named-GP list or its PCN) with XmR limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.access import Viewer
from metrics.disclosure import NO_CONTROL, DisclosureRule
from metrics.read.blocks import monthly_slicc, spc_table
from metrics.read.source import MULTI_PRACTICE_LEVELS, ResultSource, practice_profile, rolling_upc
from metrics.read.table import Table, disclose, own_text


@dataclass(frozen=True)
class PracticeOptions:
    """The My practice page's own choices (bound to the URL, so the Export page sees them)."""

    series: str = "practice"  # whose monthly series the SPC charts show: SPC_SERIES
    gp_list: str | None = None  # the named GP, when series == "gp_list"
    target: str = "none"  # SLICC target: SPC_TARGETS (stats.SLICC_TARGETS)
    rebase: date | None = None  # first month of a new SPC segment
    peers: str = "all"  # decile chart over all practices or the practice's ICB


SPC_SERIES = ("practice", "gp_list", "pcn")


SPC_TARGETS = ("none", "good", "excellent")


def practice_monthly(source: ResultSource, practice: str, viewer: Viewer) -> Table:
    rule = viewer.rule_for(practice)
    table = monthly_slicc(source, "practice", rule, [practice],
                          table_key=f"practice_{practice}_slicc_monthly",
                          title=f"{practice}: monthly SLICC")
    return Table(table.key, table.title, table.frame, f"practice {practice} x month",
                 viewer.shared_rule, own_rows=own_text(practice, rule))


ROLLING_MONTHS = 12  # rolling UPC: each point covers the 12 months ending with it


def rolling_upc_table(source: ResultSource, level: str, code: str, rule: DisclosureRule, *,
                      subgroup: str | None = None, key: str, title: str, scope: str,
                      own_rows: str | None = None, internal: bool = False) -> Table | None:
    """One group's rolling 12-month mean UPC by month with t intervals, under `rule`."""
    from metrics.stats import with_mean_ci

    frame = rolling_upc(source, level, [code], subgroup)
    if frame is None:
        return None
    frame = with_mean_ci(frame, "upc_mean", "upc_sd", "eligible_patients", "upc")
    short = ([(pl.col("history_months") < ROLLING_MONTHS).alias("short_history")]
             if "history_months" in frame.columns else [])
    # a named-GP list carries its clinician column, as monthly SLICC does, so that every file
    # leaving the dashboard finds the clinician to pseudonymise (label, header and file name)
    staff = ([pl.col("subgroup").alias("usual_gp_id")] if level == "gp_list" else [])
    frame = frame.select(
        pl.lit(subgroup or code).alias("label"), *staff, pl.col("month_start").alias("month"),
        "upc_mean", "upc_sd", "eligible_patients", "upc_lci", "upc_uci",
        *[c for c in ("upc_pooled", "upc_pooled_numerator", "upc_pooled_denominator")
          if c in frame.columns], *short,
        *(["practices"] if level in MULTI_PRACTICE_LEVELS else []))
    return Table(key, title, disclose(frame, rule), scope, rule, own_rows=own_rows,
                 internal=internal)


def practice_series(source: ResultSource, practice: str, viewer: Viewer,
                    options: PracticeOptions) -> tuple[Table, Table | None]:
    """Monthly SLICC and rolling UPC of the chosen unit: the practice, one of its named-GP
    lists (own view only) or its PCN."""
    profile = practice_profile(source, practice) or {}
    series = options.series
    if series == "gp_list" and not (options.gp_list and viewer.shows_gp_lists(practice)):
        series = "practice"
    if series == "pcn" and profile.get("pcn_code") is None:
        series = "practice"
    own = viewer.rule_for(practice)
    if series == "gp_list":
        gp = options.gp_list
        slicc = monthly_slicc(source, "gp_list", NO_CONTROL, [practice], subgroup=gp,
                              table_key=f"practice_{practice}_list_{gp}_slicc_monthly",
                              title=f"{practice}: monthly SLICC of {gp}'s list")
        slicc = Table(slicc.key, slicc.title, slicc.frame,
                      f"practice {practice}, named-GP list {gp} (internal use only) x month",
                      NO_CONTROL, own_rows=f"practice {practice}: exact numbers (the "
                      "practice's own view)", internal=True)
        upc = rolling_upc_table(
            source, "gp_list", practice, NO_CONTROL, subgroup=gp,
            key=f"practice_{practice}_list_{gp}_rolling_upc",
            title=f"{practice}: rolling 12-month UPC of {gp}'s list",
            scope=f"practice {practice}, named-GP list {gp} (internal use only) x month",
            own_rows=slicc.own_rows, internal=True)
        return slicc, upc
    if series == "pcn":
        pcn = str(profile["pcn_code"])
        slicc = monthly_slicc(source, "pcn", viewer.shared_rule, [pcn],
                              table_key=f"pcn_{pcn}_slicc_monthly",
                              title=f"PCN {pcn}: monthly SLICC")
        upc = rolling_upc_table(source, "pcn", pcn, viewer.shared_rule,
                                key=f"pcn_{pcn}_rolling_upc",
                                title=f"PCN {pcn}: rolling 12-month UPC",
                                scope=f"PCN {pcn} x month")
        return slicc, upc
    upc = rolling_upc_table(source, "practice", practice, own,
                            key=f"practice_{practice}_rolling_upc",
                            title=f"{practice}: rolling 12-month UPC",
                            scope=f"practice {practice} x month", own_rows=own_text(practice, own))
    return practice_monthly(source, practice, viewer), upc


def practice_spc(source: ResultSource, practice: str, viewer: Viewer,
                 options: PracticeOptions) -> dict[str, Table]:
    """XmR tables of monthly SLICC (with the chosen target) and of rolling UPC."""
    from metrics.stats import SLICC_TARGETS

    if options.target not in SPC_TARGETS:
        raise ValueError(f"unknown SLICC target {options.target!r}")
    target = SLICC_TARGETS.get(options.target)
    rebase = (options.rebase,) if options.rebase is not None else ()
    slicc, upc = practice_series(source, practice, viewer, options)
    out = {"spc": spc_table(slicc, "slicc", target=target, rebase_at=rebase)}
    if upc is not None:  # months short of 12 months' history are drawn but not judged
        out["rolling_upc_spc"] = spc_table(
            upc, "upc_mean", rebase_at=rebase,
            leave_out="short_history" if "short_history" in upc.frame.columns else None)
    return out
