"""Statistical disclosure control: one policy for every shared view and export.

Default: the NHS rule (nhs-conventions.md): counts 1-7 shown as `*`, other counts rounded to the
nearest 5, zero stays 0; a ratio is recomputed from its rounded numerator and denominator; a mean
over individuals is shown only when it rests on 8 or more of them. A practice's own internal view
may use `NO_CONTROL`. Suppressed cells are the string `*`; undefined ones stay blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SUPPRESSED = "*"


@dataclass(frozen=True)
class DisclosureRule:
    name: str
    suppress_below: int = 8  # counts 1 .. suppress_below - 1 become "*"
    round_to: int = 5
    min_individuals_for_mean: int = 8

    def describe(self) -> str:
        if self.name == "none":
            return "none: exact numbers (the practice's own internal view)"
        return (
            f"{self.name}: counts 1-{self.suppress_below - 1} shown as *, other counts rounded to "
            f"the nearest {self.round_to}, zero stays 0; ratios from the rounded numerator and "
            f"denominator; means over fewer than {self.min_individuals_for_mean} patients not shown"
        )


NHS_RULE = DisclosureRule("nhs")
NO_CONTROL = DisclosureRule("none", suppress_below=1, round_to=1, min_individuals_for_mean=0)
RULES = {"nhs": NHS_RULE, "none": NO_CONTROL}

# Column conventions of the result tables (see queries/group_indices.sql).
COUNT_COLUMNS = ("patients", "eligible_patients", "contacts", "list_patients", "gp_contacts",
                 "appointments")
RATIOS = {  # ratio -> (numerator, denominator)
    "slicc": ("slicc_numerator", "slicc_denominator"),
    "opr": ("opr_numerator", "opr_denominator"),
    "upc_pooled": ("upc_pooled_numerator", "upc_pooled_denominator"),
    "share": ("numerator", "denominator"),
    "slicc_inferred": ("slicc_inferred_numerator", "slicc_inferred_denominator"),
    "inferred_gp_coverage": ("slicc_inferred_denominator", "gp_contacts"),
}
MEAN_SUFFIXES = ("_mean", "_sd", "_lci", "_uci")
MEAN_N = "eligible_patients"


def _count_columns(df: pl.DataFrame) -> list[str]:
    cols = [c for c in df.columns if c in COUNT_COLUMNS]
    cols += [c for c in df.columns if c.endswith(("_numerator", "_denominator"))]
    return cols


def controlled_count(column: str, rule: DisclosureRule) -> pl.Expr:
    """A count as text: 0, '*' for 1..k-1, else rounded to the nearest `round_to`."""
    x = pl.col(column).cast(pl.Int64)
    rounded = ((x + rule.round_to // 2) // rule.round_to * rule.round_to).cast(pl.Utf8)
    return (
        pl.when(x.is_null()).then(None)
        .when(x == 0).then(pl.lit("0"))
        .when(x < rule.suppress_below).then(pl.lit(SUPPRESSED))
        .otherwise(rounded)
        .alias(column)
    )


def _rounded(column: str, rule: DisclosureRule) -> pl.Expr:
    x = pl.col(column).cast(pl.Int64)
    return pl.when((x > 0) & (x < rule.suppress_below)).then(None).otherwise(
        (x + rule.round_to // 2) // rule.round_to * rule.round_to)


def apply(df: pl.DataFrame, rule: DisclosureRule) -> pl.DataFrame:
    """Apply `rule` to a frame of result columns (counts, ratios with their numerator and
    denominator, means with eligible_patients). Patient-level frames must never reach here."""
    if "patient_id" in df.columns:
        raise ValueError("patient-level rows never leave through shared views or exports")
    if rule.name == "none":
        return df
    exprs: list[pl.Expr] = []
    for ratio, (num, den) in RATIOS.items():
        if ratio in df.columns and num in df.columns and den in df.columns:
            n, d = _rounded(num, rule), _rounded(den, rule)
            exprs.append(
                pl.when(pl.col(num).is_null() | pl.col(den).is_null() | (pl.col(den) == 0))
                .then(None)
                .when((pl.col(num) > 0) & (pl.col(num) < rule.suppress_below)
                      | (pl.col(den) < rule.suppress_below))
                .then(pl.lit(SUPPRESSED))
                .otherwise((n / d).cast(pl.Utf8))
                .alias(ratio)
            )
        elif ratio in df.columns and MEAN_N in df.columns:  # e.g. upc_pooled without its parts
            exprs.append(_mean_guard(ratio, rule))
    if MEAN_N in df.columns:
        exprs += [_mean_guard(c, rule) for c in df.columns
                  if c.endswith(MEAN_SUFFIXES) and not c.startswith(tuple(RATIOS))]
    out = df.with_columns(exprs) if exprs else df
    return out.with_columns([controlled_count(c, rule) for c in _count_columns(df)])


def _mean_guard(column: str, rule: DisclosureRule) -> pl.Expr:
    return (
        pl.when(pl.col(column).is_null()).then(None)
        .when(pl.col(MEAN_N) < rule.min_individuals_for_mean).then(pl.lit(SUPPRESSED))
        .otherwise(pl.col(column).cast(pl.Utf8))
        .alias(column)
    )
