"""Statistical disclosure control: one policy for every shared view and export.

The NHS rule (docs/disclosure.md): counts 1-7 are shown as `*`, other counts
rounded to the nearest 5, zero stays 0; a mean over individuals is shown only when it rests on 8
or more of them. Below that, what this module adds so that nothing shown gives a count back:

- every number derived from counts is computed from the *disclosed* counts: ratios and coverage
  from the rounded numerator and denominator, Wilson limits from the rounded counts, t limits of
  a mean from the rounded number of patients. A derived column whose inputs are not in the frame
  is suppressed with them, never left exact;
- complementary suppression: within a partition (the members of a total shown elsewhere, such as
  the practices of a PCN or the categories of a mix), a single suppressed count would be given
  back by subtraction, so the smallest other non-zero count is suppressed too;
- a group figure (a PCN, an ICB, a deprivation band) rests on at least `min_practices`
  practices, else its whole row is suppressed: a band of one practice is that practice.

A practice's own internal view uses `NO_CONTROL`. Figures stay numbers (`apply_masked`): a
suppressed cell is blank with a mask column saying so, and only `render` (files, the screen)
writes it as the string `*`; undefined cells stay blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from metrics.stats.intervals import mean_interval, wilson_exprs

SUPPRESSED = "*"
MASK_PREFIX = "__masked__"


@dataclass(frozen=True)
class DisclosureRule:
    name: str
    suppress_below: int = 8  # counts 1 .. suppress_below - 1 become "*"
    round_to: int = 5
    min_individuals_for_mean: int = 8
    min_practices: int = 3  # behind any group figure (column `practices`)

    def describe(self) -> str:
        if self.name == "none":
            return "none: exact numbers (the practice's own internal view)"
        return (
            f"{self.name}: counts 1-{self.suppress_below - 1} shown as *, other counts rounded to "
            f"the nearest {self.round_to}, zero stays 0; ratios, coverage and intervals computed "
            f"from the rounded counts; means over fewer than {self.min_individuals_for_mean} "
            f"patients not shown; a second count suppressed where one suppressed member of a "
            f"total could be found by subtraction; group figures resting on fewer than "
            f"{self.min_practices} practices not shown"
        )


NHS_RULE = DisclosureRule("nhs")
NO_CONTROL = DisclosureRule("none", suppress_below=1, round_to=1, min_individuals_for_mean=0,
                            min_practices=0)
RULES = {"nhs": NHS_RULE, "none": NO_CONTROL}

# Column conventions of the result tables (see queries/pipeline/groups/group_indices.sql).
COUNT_COLUMNS = ("patients", "eligible_patients", "contacts", "list_patients", "gp_contacts",
                 "appointments", "numerator", "denominator")
RATIOS = {  # ratio -> (numerator, denominator)
    "slicc": ("slicc_numerator", "slicc_denominator"),
    "opr": ("opr_numerator", "opr_denominator"),
    "upc_pooled": ("upc_pooled_numerator", "upc_pooled_denominator"),
    "share": ("numerator", "denominator"),
    "slicc_inferred": ("slicc_inferred_numerator", "slicc_inferred_denominator"),
    "inferred_gp_coverage": ("slicc_inferred_denominator", "gp_contacts"),
    "named_gp_coverage": ("slicc_denominator", "gp_contacts"),
}
MEAN_STEMS = ("upc", "coc", "secon", "mmci", "hhi", "kpc")
MEAN_SUFFIXES = ("_mean", "_sd")
INTERVAL_SUFFIXES = ("_lci", "_uci")
MEAN_N = "eligible_patients"
PRACTICES = "practices"  # how many practices a group row rests on
_ALL = "__partition_all"


def count_columns(df: pl.DataFrame) -> list[str]:
    cols = [c for c in df.columns if c in COUNT_COLUMNS]
    cols += [c for c in df.columns if c.endswith(("_numerator", "_denominator"))
             and c not in cols]
    return cols


def _round(x: pl.Expr, rule: DisclosureRule) -> pl.Expr:
    return (x + rule.round_to // 2) // rule.round_to * rule.round_to


def _hidden(column: str) -> str:
    return f"__hidden_{column}"


def _complementary(df: pl.DataFrame, counts: Sequence[str], partition: Sequence[str]
                   ) -> pl.DataFrame:
    """Where exactly one member of a partition has a suppressed count, suppress the smallest
    other non-zero count of that column too (one pass: a partition is one total's members)."""
    by = list(partition) or [_ALL]
    if not partition:
        df = df.with_columns(pl.lit(0).alias(_ALL))
    out = []
    for c in counts:
        hidden = pl.col(_hidden(c))
        x = pl.col(c).cast(pl.Int64)
        candidate = ~hidden & (x > 0)
        smallest = pl.when(candidate).then(x).min().over(by)
        first = (candidate & (x == smallest)).cast(pl.Int32).cum_sum().over(by) == 1
        lone = hidden.cast(pl.Int32).sum().over(by) == 1
        out.append((hidden | (lone & candidate & (x == smallest) & first)).alias(_hidden(c)))
    df = df.with_columns(out)
    return df.drop(_ALL) if not partition else df


def _ratio_exprs(df: pl.DataFrame, counts: Sequence[str], shown: dict[str, pl.Expr]
                 ) -> list[pl.Expr]:
    """Ratios and their Wilson limits from the disclosed counts; suppressed with either count,
    and always when their counts are not in the frame (each ratio with its mask column)."""
    exprs: list[pl.Expr] = []
    for ratio, (num, den) in RATIOS.items():
        if ratio not in df.columns:
            continue
        limits = [ratio + s for s in INTERVAL_SUFFIXES if ratio + s in df.columns]
        if num not in counts or den not in counts:
            exprs += [pl.lit(None, pl.Float64).alias(ratio),
                      pl.col(ratio).is_not_null().alias(mask_column(ratio))]
            exprs += [pl.lit(None, pl.Float64).alias(c) for c in limits]
            continue
        n, d = shown[num], shown[den]
        hidden = pl.col(_hidden(num)) | pl.col(_hidden(den))
        undefined = pl.col(num).is_null() | pl.col(den).is_null() | (pl.col(den) == 0)
        exprs += [pl.when(undefined | hidden).then(None).otherwise(n / d).alias(ratio),
                  (~undefined & hidden).fill_null(False).alias(mask_column(ratio))]
        bounds = dict(zip(INTERVAL_SUFFIXES, wilson_exprs(n, d), strict=True))
        exprs += [pl.when(undefined | hidden).then(None).otherwise(bounds[c[len(ratio):]])
                  .alias(c) for c in limits]
    return exprs


def mask_column(column: str) -> str:
    """The boolean column that marks `column`'s suppressed cells (shown as '*')."""
    return f"{MASK_PREFIX}{column}"


def masked_columns(df: pl.DataFrame) -> list[str]:
    """The columns of `df` that carry a suppression mask."""
    return [c for c in df.columns if mask_column(c) in df.columns]


def render(df: pl.DataFrame) -> pl.DataFrame:
    """A masked frame as shown: each masked column as text, '*' where suppressed (the only
    place numbers become text: files and the screen); mask columns dropped."""
    masked = masked_columns(df)
    out = df.with_columns(
        pl.when(pl.col(mask_column(c)).fill_null(False)).then(pl.lit(SUPPRESSED))
        .otherwise(pl.col(c).cast(pl.Utf8)).alias(c) for c in masked)
    return out.drop([c for c in df.columns if c.startswith(MASK_PREFIX)])


def apply(df: pl.DataFrame, rule: DisclosureRule, partition: Sequence[str] | None = None
          ) -> pl.DataFrame:
    """`rule` applied and shown: `apply_masked` rendered as text ('*' where suppressed)."""
    return render(apply_masked(df, rule, partition))


def apply_masked(df: pl.DataFrame, rule: DisclosureRule,
                 partition: Sequence[str] | None = None) -> pl.DataFrame:
    """Apply `rule` to a frame of result columns: counts, ratios with their numerator and
    denominator, means with eligible_patients, intervals (`<stem>_lci`, `<stem>_uci`), and
    `practices` for group rows. `partition` names the columns whose rows are members of one
    total (an empty list: the whole frame), for complementary suppression; None: no total.
    Patient-level frames must never reach here.

    Figures stay numbers: a suppressed cell is blank, and a boolean column `mask_column(c)`
    beside each controlled column `c` is true where the cell is shown as '*'."""
    if "patient_id" in df.columns:
        raise ValueError("patient-level rows never leave through shared views or exports")
    if rule.name == "none":
        return df
    counts = count_columns(df)
    # blank `practices`: not a group of practices (a practice, or a group inside one)
    small_group = (pl.col(PRACTICES) < rule.min_practices
                   if PRACTICES in df.columns and rule.min_practices else pl.lit(False))
    out = df.with_columns(small_group.fill_null(False).alias("__small_group"))
    out = out.with_columns(
        (pl.col("__small_group") | pl.col(c).cast(pl.Int64).is_between(1, rule.suppress_below - 1)
         ).fill_null(False).alias(_hidden(c)) for c in counts)
    if partition is not None:
        out = _complementary(out, counts, partition)
    # the disclosed counts as numbers (null where suppressed): everything below derives from them
    shown = {c: pl.when(pl.col(_hidden(c))).then(None)
             .otherwise(_round(pl.col(c).cast(pl.Int64), rule)) for c in counts}
    exprs = _ratio_exprs(df, counts, shown)
    limits_of_means: dict[str, pl.Series] = {}  # stem -> rows whose mean is hidden
    for stem in MEAN_STEMS:
        columns = [c for c in (f"{stem}_mean", f"{stem}_sd") if c in df.columns]
        if not columns:
            continue
        too_few = (pl.col("__small_group") | (pl.col(MEAN_N) < rule.min_individuals_for_mean)
                   if MEAN_N in df.columns else pl.lit(True))
        exprs += [pl.when(too_few).then(None).otherwise(pl.col(c)).alias(c) for c in columns]
        exprs += [(pl.col(c).is_not_null() & too_few).fill_null(False).alias(mask_column(c))
                  for c in columns]
        if len(columns) == 2 and MEAN_N in counts:
            limits_of_means[stem] = out.select(too_few.fill_null(True)).to_series()
    derived = {e.meta.output_name() for e in exprs}
    masks = [name for name in derived if name.startswith(MASK_PREFIX)]
    # any other interval (a mean's without its inputs, or of a stem this module does not
    # know) cannot be computed from disclosed counts: hidden
    exprs += [pl.lit(None, pl.Float64).alias(c) for c in df.columns
              if c.endswith(INTERVAL_SUFFIXES) and c not in derived
              and c[:-4] not in limits_of_means]
    if limits_of_means:
        exprs.append(shown[MEAN_N].alias("__n_shown"))
    out = out.with_columns(exprs)
    for stem, too_few in limits_of_means.items():
        out = out.with_columns(limit for limit in _mean_limits(df, stem, out["__n_shown"],
                                                               too_few)
                               if limit.name in df.columns)
    out = out.with_columns(
        *(pl.when(pl.col(_hidden(c))).then(None)
          .otherwise(_round(pl.col(c).cast(pl.Int64), rule)).alias(c) for c in counts),
        *((pl.col(c).is_not_null() & pl.col(_hidden(c))).alias(mask_column(c))
          for c in counts))
    masks += [mask_column(c) for c in counts]
    return out.select(*df.columns, *[m for m in dict.fromkeys(masks)
                                     if m[len(MASK_PREFIX):] in df.columns])


def _mean_limits(df: pl.DataFrame, stem: str, n_shown: pl.Series, too_few: pl.Series
                 ) -> list[pl.Series]:
    """t limits of a mean from the disclosed (rounded) number of patients."""
    def column(values: pl.Series) -> np.ndarray:
        return values.cast(pl.Float64).fill_null(float("nan")).to_numpy()

    lower, upper = mean_interval(column(df[f"{stem}_mean"]), column(df[f"{stem}_sd"]),
                                 column(n_shown))
    hide = too_few.to_numpy()
    return [pl.Series(f"{stem}{suffix}", np.where(hide, np.nan, limit),
                      dtype=pl.Float64).fill_nan(None)
            for suffix, limit in zip(INTERVAL_SUFFIXES, (lower, upper), strict=True)]
