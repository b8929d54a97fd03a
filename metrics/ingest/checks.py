"""Values tidied and checked: each failed check is a reject with its line, column and reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

MIN_DATE = date(2000, 1, 1)
MAX_AGE = 130
MAX_LIST_SIZE = 1_000_000
ODS_PRACTICE = r"^[A-Z][A-Z0-9]{5}$"
PRACTICE_HINT = "an ODS practice code is a letter and 5 letters or digits, e.g. A81001"
# Network codes reach file names, export headers and filters: only ODS shapes are let in.
ODS_PCN = r"^U\d{5}$"
PCN_HINT = "a PCN code is U and 5 digits, e.g. U12345"
ODS_SUB_ICB = r"^[A-Z0-9]{3}([A-Z0-9]{2})?$"
SUB_ICB_HINT = "a sub-ICB location code is 3 or 5 letters or digits, e.g. 00L"
ODS_ICB = r"^Q[A-Z0-9]{2}$"
ICB_HINT = "an ICB code is Q and 2 letters or digits, e.g. QOP"


def _blank_to_null(col: pl.Expr) -> pl.Expr:
    return pl.when(col.str.len_bytes() > 0).then(col)


def _tidy_expr(col: pl.Expr) -> pl.Expr:
    return _blank_to_null(col.str.strip_chars().str.replace_all(r"\s+", " "))


def _code_expr(col: pl.Expr) -> pl.Expr:
    return _blank_to_null(col.str.strip_chars().str.to_uppercase())


def _on_distinct(values: pl.Series, expr: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """Apply a text expression once per distinct value (names and codes repeat a lot)."""
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return values
    mapped = pl.DataFrame({"v": distinct}).select(expr(pl.col("v")))["v"]
    if mapped.eq_missing(distinct).all():  # already tidy: share the column, copy nothing
        return values
    return values.replace_strict(distinct, mapped, default=None, return_dtype=pl.Utf8)


def tidy_text(values: pl.Series) -> pl.Series:
    """Trimmed text, runs of white space as one space; blank -> null (names, clinicians)."""
    return _on_distinct(values, _tidy_expr)


def tidy_code(values: pl.Series) -> pl.Series:
    """Trimmed upper-case code; blank -> null (practice, PCN, ICB codes)."""
    return _on_distinct(values, _code_expr)


def tidy_id(values: pl.Series) -> pl.Series:
    """Trimmed id; blank -> null; digits grouped with spaces (NHS numbers, SystmOne ids) lose
    the spaces, so `943 476 5919` and `9434765919` are one patient."""
    return _on_distinct(values, _id_expr).alias(values.name)


def _id_expr(col: pl.Expr) -> pl.Expr:
    text = col.str.strip_chars()
    grouped = text.str.contains(r"^[0-9][0-9 ]*$")
    return _blank_to_null(pl.when(grouped).then(text.str.replace_all(" ", "", literal=True))
                          .otherwise(text))


def tidy_unique_id(values: pl.Series) -> pl.Series:
    """Trimmed id; blank -> null: for ids that are mostly distinct (appointment ids), where a
    per-distinct-value pass would cost more than it saves; already-tidy ids are shared as they
    are, not copied (10 million ids are about 400 MB of text)."""
    if not (values.str.contains(r"^\s|\s$") | (values.str.len_bytes() == 0)).any():
        return values
    return values.to_frame("v").select(_blank_to_null(pl.col("v").str.strip_chars()))["v"]


def _whole_number(col: pl.Expr) -> pl.Expr:
    """Text -> Int64 for whole numbers (3, 3.0, 1,234, -2); too long or not whole -> null."""
    text = col.str.strip_chars().str.replace_all(r"[,\s]", "")
    ok = text.str.contains(r"^[+-]?\d{1,12}(\.0+)?$")
    return pl.when(ok).then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))


def age_band(age: pl.Expr) -> pl.Expr:
    """Age in whole years -> the canonical age band."""
    return (pl.when(age.is_null()).then(None)
            .when(age < 5).then(pl.lit("0-4"))
            .when(age < 18).then(pl.lit("5-17"))
            .when(age < 40).then(pl.lit("18-39"))
            .when(age < 65).then(pl.lit("40-64"))
            .when(age < 75).then(pl.lit("65-74"))
            .otherwise(pl.lit("75+")))


# ---- checks -> rejects -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    column: str
    reason: str
    failed: pl.Expr  # true where the row is rejected for this reason
    raw: pl.Expr


def _apply_checks(frame: pl.DataFrame, table: str, checks: list[Check]
                  ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows into (kept, rejects); a row's reason is the first check it fails."""
    first = pl.coalesce([pl.when(c.failed).then(pl.lit(i, dtype=pl.Int16))
                         for i, c in enumerate(checks)]).alias("__check")
    tagged = frame.with_columns(first)
    failed = pl.col("__check").is_not_null()
    bad = tagged.filter(failed)
    kept = tagged.filter(~failed).drop("__check") if bad.height else frame
    index = list(range(len(checks)))
    check = pl.col("__check")
    rejects = bad.select(
        pl.lit(table).alias("table"), pl.col("__file").alias("file"),
        pl.col("__line").cast(pl.Int64).alias("line"),
        check.replace_strict(index, [c.column for c in checks], return_dtype=pl.Utf8
                             ).alias("column"),
        check.replace_strict(index, [c.reason for c in checks], return_dtype=pl.Utf8
                             ).alias("reason"),
        pl.coalesce([pl.when(check == i).then(c.raw.cast(pl.Utf8)) for i, c in
                     enumerate(checks)]).alias("raw_value"))
    return kept, rejects


def _over_check() -> Check:
    return Check("(row)", "more fields than the header has columns (a stray delimiter or "
                 "an unclosed quote?)", pl.col("__over").is_not_null(), pl.col("__over"))


def _required(name: str, raw: pl.Expr, clean: pl.Expr) -> Check:
    return Check(name, f"missing {name}", clean.is_null(), raw)


def _practice_checks(raw: pl.Expr, clean: pl.Expr) -> list[Check]:
    return [_required("practice_code", raw, clean),
            Check("practice_code", f"not a practice code: {PRACTICE_HINT}",
                  ~clean.str.contains(ODS_PRACTICE), raw)]


def _code_check(name: str, raw: pl.Expr, clean: pl.Expr, pattern: str, hint: str) -> Check:
    """A given code of the wrong shape (a blank one is the required check's business)."""
    return Check(name, f"{name} is not an ODS code: {hint}",
                 clean.is_not_null() & ~clean.str.contains(pattern), raw)


def _number_checks(name: str, raw: pl.Expr, low: int, high: int, what: str) -> list[Check]:
    given = raw.is_not_null() & (raw.str.strip_chars() != "")
    value = _whole_number(raw)
    return [
        Check(name, f"{name} is not a whole number", given & value.is_null(), raw),
        Check(name, f"{name} is below {low} ({what})", given & (value < low), raw),
        Check(name, f"{name} is above {high:,} ({what})", given & (value > high), raw),
    ]


def _date_checks(name: str, raw: pl.Expr, parsed: pl.Expr, today: date) -> list[Check]:
    return [
        _required(name, raw, _blank_to_null(raw.str.strip_chars())),
        Check(name, "unreadable date (expected e.g. 2024-03-01, 01/03/2024 or 01-Mar-2024)",
              parsed.is_null(), raw),
        Check(name, f"date in the future (after {today.isoformat()})", parsed > today, raw),
        Check(name, f"date before {MIN_DATE.isoformat()}", parsed < MIN_DATE, raw),
    ]
