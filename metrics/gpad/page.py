"""GPAD read back for the National context page: a practice, its PCN, its sub-ICB and England."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from metrics.disclosure import DisclosureRule
from metrics.gpad.load import TABLE
from metrics.pipeline.engine import query_text

if TYPE_CHECKING:  # metrics.read imports the engine and stats: loaded only when used
    from metrics.read.table import Table

LEVEL_LABELS = {"practice": "Practice", "pcn": "PCN", "sub_icb": "Sub-ICB",
                "england": "England"}


@dataclass(frozen=True)
class PublishedFigures(DisclosureRule):
    """No control (name "none"): NHS England publishes these counts at practice level."""

    def describe(self) -> str:
        return "none needed: NHS England's published figures, shown as published"


PUBLISHED = PublishedFigures("none", suppress_below=1, round_to=1, min_individuals_for_mean=0)


# ---- reading it back (the National context page) --------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the page shows for one practice: the codes it was placed in, the long frame (one
    row per level x month x measure x category, with counts) and the source files."""

    practice: str
    pcn: str | None
    sub_icb: str | None
    in_gpad: bool  # the practice itself has rows in the loaded files
    frame: pl.DataFrame
    sources: pl.DataFrame

    @property
    def months(self) -> list[date]:
        return sorted(set(self.frame["month"].to_list()))


def has_gpad(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.cursor().execute("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = ?", [TABLE]).fetchone()
    return bool(rows and rows[0])


def context(con: duckdb.DuckDBPyConnection, practice: str, pcn: str | None = None,
            sub_icb: str | None = None) -> Context | None:
    """GPAD for a practice, its PCN, its sub-ICB and England, per month (None: no GPAD loaded).

    The PCN and sub-ICB are the practice's in its latest GPAD month; `pcn` and `sub_icb` (from
    the practices extract) stand in when the practice has no GPAD rows."""
    if not has_gpad(con):
        return None
    found = con.cursor().sql(query_text("gpad_practice_codes"),
                             params={"practice": practice}).pl()
    in_gpad = found.height > 0
    if in_gpad:
        pcn = found["pcn_code"][0] or pcn
        sub_icb = found["sub_icb_code"][0] or sub_icb
    frame = con.cursor().sql(query_text("gpad_context_monthly"),
                             params={"practice": practice, "pcn": pcn, "sub_icb": sub_icb}).pl()
    sources = con.cursor().sql(query_text("gpad_sources")).pl()
    return Context(practice, pcn, sub_icb, in_gpad, frame, sources)


def level_label(level: str, code: str | None) -> str:
    """`Practice A81001`, `PCN U12345`, `Sub-ICB 00L`, `England`."""
    name = LEVEL_LABELS.get(level, level)
    return name if level == "england" or not code else f"{name} {code}"


def unit_labels(ctx: Context) -> dict[str, str]:
    """Level -> the label shown for it, for the levels this context has."""
    codes = {"practice": ctx.practice, "pcn": ctx.pcn, "sub_icb": ctx.sub_icb,
             "england": None}
    present = set(ctx.frame["level"].to_list())
    return {lv: level_label(lv, code) for lv, code in codes.items() if lv in present}


def context_table(ctx: Context) -> Table:
    """The figures behind the page, as a downloadable table: published counts, no control."""
    from metrics.read.table import Table

    labels = unit_labels(ctx)
    frame = ctx.frame.select(
        pl.col("level").replace_strict(labels, default=pl.col("level")).alias("unit"),
        "month", "measure", "category", "appointments", "total", "share", "practices")
    files = ", ".join(ctx.sources["file"].to_list())
    return Table(f"gpad_context_{ctx.practice}", "National context: GPAD published figures",
                 frame, f"NHS England GPAD published figures (files: {files}); shares of all "
                 "appointments of each level and month", PUBLISHED,
                 own_rows="published by NHS England at practice level: shown as published")
