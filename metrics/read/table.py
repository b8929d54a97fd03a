"""`Table`: one table as a page shows it and an export writes it, with disclosure applied, and
the building blocks every page's tables share (intervals, partitions, disclosure, stacking)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from metrics.disclosure import (
    COUNT_COLUMNS,
    MASK_PREFIX,
    RATIOS,
    DisclosureRule,
    apply_masked,
    mask_column,
    masked_columns,
    render,
)
from metrics.read.source import ResultSource, directory, groups


@dataclass(frozen=True, eq=False)
class Table:
    """One table after disclosure control, with what an export must say about it.

    `frame` holds numbers: a suppressed figure is blank, with a boolean mask column beside it
    (metrics.disclosure.mask_column) that is true where it is shown as '*'. `numeric()` is for
    charts (suppressed -> null), `shown()` for files and the screen ('*' written there only)."""

    key: str  # stable id, used as the file name
    title: str
    frame: pl.DataFrame
    scope: str
    rule: DisclosureRule  # the rule for shared rows
    own_rows: str | None = None  # rows shown exactly (a practice's own view), described
    internal: bool = False  # per-GP figures: the practice's own view only
    # The statistics drawn from `frame` (an SpcResult or FunnelResult), so the chart and the
    # exported table come from one computation.
    result: object | None = None

    @property
    def empty(self) -> bool:
        return self.frame.height == 0

    @property
    def columns(self) -> list[str]:
        """The table's own columns (without the mask columns)."""
        return [c for c in self.frame.columns if not c.startswith(MASK_PREFIX)]

    def masked(self, column: str) -> pl.Series:
        """True where `column` is suppressed (all false for a column without a mask)."""
        name = mask_column(column)
        if name in self.frame.columns:
            return self.frame[name].fill_null(False).rename(column)
        return pl.Series(column, [False] * self.frame.height, dtype=pl.Boolean)

    def controlled(self) -> list[str]:
        """The columns disclosure control acted on (each with a mask)."""
        return masked_columns(self.frame)

    def numeric(self) -> pl.DataFrame:
        """The frame for charts: numbers, suppressed figures blank (null), never '*'."""
        return to_numeric(self.frame)

    def shown(self) -> pl.DataFrame:
        """The table as a file or the screen shows it: controlled figures as text, '*' where
        suppressed (metrics.disclosure.render)."""
        return render(self.frame)


def to_numeric(df: pl.DataFrame) -> pl.DataFrame:
    """A masked frame for charts: controlled figures as floats (suppressed: null), mask columns
    dropped."""
    out = df.with_columns(pl.col(c).cast(pl.Float64) for c in masked_columns(df))
    return out.drop([c for c in df.columns if c.startswith(MASK_PREFIX)])


def carry(frame: pl.DataFrame, renames: dict[str, str]) -> list[pl.Expr]:
    """Expressions selecting columns under new names with their masks (where they have one)."""
    out = []
    for old, new in renames.items():
        out.append(pl.col(old).alias(new))
        if mask_column(old) in frame.columns:
            out.append(pl.col(mask_column(old)).alias(mask_column(new)))
    return out


# ---- column kinds: the one place that knows how a result column is read ----------------------

PERCENT_STEMS = ("slicc", "opr", "upc_pooled", "slicc_inferred")
LIMIT_SUFFIXES = ("_lci", "_uci", "_target", "_centre", "_lower_limit", "_upper_limit",
                  "_lower95", "_upper95", "_lower998", "_upper998")
COUNTS = ("value", "numerator", "denominator", "list_size", "practices", "units",
          "list_patients", "appointments", "total")


def column_kind(name: str) -> str | None:
    """How a result column is read: 'percent' (a ratio or share, and the limits of one),
    'mean' (a mean of patient values, an SD, and their limits), 'count', 'percentile', 'z',
    or None (a label: codes, names, months, flags)."""
    if name == "percentile":
        return "percentile"
    if name in (*PERCENT_STEMS, *RATIOS, "share", "practice_slicc") or (
            name[:1] == "p" and name[1:].isdigit()):
        return "percent"
    for suffix in LIMIT_SUFFIXES:
        if name.endswith(suffix):
            return "percent" if name[:-len(suffix)] in PERCENT_STEMS else "mean"
    if name == "z_score":
        return "z"
    if name.endswith(("_mean", "_sd")):
        return "mean"
    if name in (*COUNT_COLUMNS, *COUNTS) or name.endswith(("_numerator", "_denominator")):
        return "count"
    return None


def index_columns(key: str) -> list[str]:
    """The columns that carry one index with its n and interval."""
    from metrics.methods import index

    d = index(key)
    if d.kind == "ratio":
        cols = [d.key, f"{d.key}_numerator", f"{d.key}_denominator"]
        if d.key == "slicc":  # coverage with its denominator, so it is computed as disclosed
            cols += ["named_gp_coverage", "gp_contacts"]
    else:
        cols = [d.value_col, f"{d.key}_sd", "eligible_patients", "contacts"]
    return [*cols, f"{d.key}_lci", f"{d.key}_uci"]


def with_interval(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """Wilson limits for ratios, t limits for means of patient values (metrics.stats)."""
    from metrics.methods import index
    from metrics.stats import with_mean_ci, with_wilson

    d = index(key)
    if d.kind == "ratio":
        return with_wilson(df, f"{d.key}_numerator", f"{d.key}_denominator", d.key)
    return with_mean_ci(df, d.value_col, f"{d.key}_sd", "eligible_patients", d.key)


PARENT = "__parent"


def disclose(df: pl.DataFrame, rule: DisclosureRule,
             partition: Sequence[str] | None = None) -> pl.DataFrame:
    """`disclosure.apply`: counts controlled, everything derived from the disclosed counts;
    `partition` names the columns whose rows are the members of one total."""
    return apply_masked(df, rule, partition).drop(PARENT, strict=False)


def with_partition(source: ResultSource, rows: pl.DataFrame, level: str,
                   key_col: str = "group_code") -> tuple[pl.DataFrame, list[str]]:
    """Rows with the columns that say which total each is a member of (for complementary
    suppression): a practice's PCN, a PCN's or sub-ICB's ICB, a practice for the groups inside
    it; every other level's groups (ICBs, bands) are members of the whole."""
    if level in ("gp_list", "practice_age_band", "practice_patient_imd_quintile",
                 "practice_contacts_band"):
        return rows, [key_col]
    column = {"practice": "practice_code", "pcn": "pcn_code", "sub_icb": "sub_icb_code"}.get(level)
    if column is None:
        return rows, []
    parent = "pcn_code" if level == "practice" else "icb_code"
    parents = (directory(source)
               .select(pl.col(column).fill_null("unknown").alias(key_col),
                       pl.col(parent).fill_null("unknown").alias(PARENT))
               .unique(key_col, keep="first"))
    return rows.join(parents, on=key_col, how="left", maintain_order="left"), [PARENT]


def stack(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate exact and controlled rows: a column masked anywhere has a mask for every
    row (false on the exact rows)."""
    frames = [f for f in frames if f.height or f.width]
    if not frames:
        return pl.DataFrame()
    out = pl.concat(frames, how="diagonal_relaxed")
    return out.with_columns(pl.col(c).fill_null(False) for c in out.columns
                            if c.startswith(MASK_PREFIX))


def index_table(source: ResultSource, level: str, key: str, rule: DisclosureRule,
                codes: Sequence[str] | None = None) -> pl.DataFrame:
    """One level's groups with one index, its n and interval, under `rule`."""
    rows, partition = with_partition(source, groups(source, level, codes), level)
    return index_rows(rows, key, rule, partition)


def index_rows(rows: pl.DataFrame, key: str, rule: DisclosureRule,
               partition: Sequence[str] | None = None) -> pl.DataFrame:
    """group_indices rows cut to one index, its n, its interval and the practices a group
    rests on, under `rule`."""
    extra = [c for c in ("practices", PARENT) if c in rows.columns]
    frame = with_interval(rows, key).select("group_code", "subgroup", *index_columns(key),
                                            *extra)
    return disclose(frame, rule, partition)


def disclose_level(source: ResultSource, frame: pl.DataFrame, level: str,
                   rule: DisclosureRule, also: Sequence[str] = ()) -> pl.DataFrame:
    """A level's rows (keyed by their first column) under `rule`, each group among the
    members of its total; `also` adds partition columns (a month: each month's total)."""
    frame, partition = with_partition(source, frame, level, frame.columns[0])
    return disclose(frame, rule, [*partition, *also])


def index_name(key: str) -> str:
    from metrics.methods import index

    return index(key).name


def own_text(practice: str, rule: DisclosureRule) -> str | None:
    if rule.name != "none":
        return None
    return f"rows of practice {practice}: exact numbers (the practice's own view)"
