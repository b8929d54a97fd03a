"""SLICC against the inferred regular GP, as the practice page shows it (docs/methods.md s.5).

Why a module of its own: the inferred variant must never be mixed with SLICC against a named
GP, so it has its own columns (`slicc_inferred*`), its own label and its caveat, and is read
from its own result table (queries/pipeline/series/group_inferred_gp_monthly.sql).
"""

from __future__ import annotations

import duckdb
import polars as pl

from metrics.access import Viewer
from metrics.disclosure import NO_CONTROL
from metrics.disclosure import apply_masked as control
from metrics.pipeline.engine import query_text
from metrics.read.source import ResultSource
from metrics.read.table import Table

NAME = "SLICC against the inferred regular GP"
DEFINITION = ("inferred variant, not SLICC: the inferred regular GP of a month is the GP seen "
              "most, at least twice, in the 12 calendar months before it (a tie goes to the GP "
              "seen most recently); SLICC_inferred = GP contacts with that GP / GP contacts of "
              "patients who have one, with SLICC's contacts (attended, counted modes, same-day "
              "contacts with one GP collapsed)")
CAVEAT = ("It reads high in the first months of the data: with little history, only patients "
          "who have already seen one GP at least twice have an inferred GP, and the inferred GP "
          "is by construction the one they see most.")


def rows(source: ResultSource, level: str, codes: list[str]) -> pl.DataFrame | None:
    """group_inferred_gp_monthly rows (None: the store predates the inferred step)."""
    sql = query_text("inferred_monthly_rows").format(
        table=source.table("group_inferred_gp_monthly"))
    try:
        return source.query(sql, [level, codes])
    except duckdb.CatalogException:
        return None


def _ratios(frame: pl.DataFrame) -> pl.DataFrame:
    from metrics.stats import with_wilson

    num, den = pl.col("slicc_inferred_numerator"), pl.col("slicc_inferred_denominator")
    frame = frame.with_columns(
        slicc_inferred=pl.when(den > 0).then(num / den),
        inferred_gp_coverage=pl.when(pl.col("gp_contacts") > 0)
        .then(den / pl.col("gp_contacts")))
    return with_wilson(frame, "slicc_inferred_numerator", "slicc_inferred_denominator",
                       "slicc_inferred")


COLUMNS = ("slicc_inferred", "slicc_inferred_numerator", "slicc_inferred_denominator",
           "gp_contacts", "inferred_gp_coverage", "slicc_inferred_lci", "slicc_inferred_uci")


def practice_monthly(source: ResultSource, practice: str, viewer: Viewer) -> Table | None:
    """The practice's inferred SLICC per month with its counts and Wilson interval."""
    found = rows(source, "practice", [practice])
    if found is None:
        return None
    rule = viewer.rule_for(practice)
    frame = _ratios(found).select(pl.col("month_start").alias("month"), *COLUMNS)
    frame = control(frame, rule)  # ratios, coverage and limits from the disclosed counts
    own = (f"rows of practice {practice}: exact numbers (the practice's own view)"
           if rule.name == "none" else None)
    return Table(f"practice_{practice}_slicc_inferred_monthly",
                 f"{practice}: {NAME}, by month (inferred variant)", frame,
                 f"practice {practice} x month; {DEFINITION}", viewer.shared_rule,
                 own_rows=own)


def gp_lists(source: ResultSource, practice: str, viewer: Viewer) -> Table | None:
    """Per inferred GP over the window (pooled): the practice's own view only."""
    if not viewer.shows_gp_lists(practice):
        return None
    found = rows(source, "gp_list", [practice])
    if found is None:
        return None
    pooled = (found.group_by(pl.col("subgroup").alias("inferred_gp"))
              .agg(pl.col("gp_contacts", "slicc_inferred_numerator",
                          "slicc_inferred_denominator").sum())
              .sort("inferred_gp"))
    frame = _ratios(pooled).select("inferred_gp", *COLUMNS).drop("inferred_gp_coverage")
    return Table(f"practice_{practice}_slicc_inferred_gps",
                 f"{practice}: {NAME}, per inferred GP over the window", frame,
                 f"practice {practice}, per inferred regular GP (internal use only); "
                 f"{DEFINITION}", NO_CONTROL,
                 own_rows=f"practice {practice}: exact numbers (the practice's own view)",
                 internal=True)


def inferred_tables(source: ResultSource, practice: str | None, viewer: Viewer
                    ) -> dict[str, Table]:
    """The inferred variant's tables of the selected practice (none when the store predates
    it, or no practice is selected)."""
    if practice is None:
        return {}
    out = {}
    monthly = practice_monthly(source, practice, viewer)
    if monthly is not None:
        out["monthly"] = monthly
    gps = gp_lists(source, practice, viewer)
    if gps is not None:
        out["gps"] = gps
    return out
