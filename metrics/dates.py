"""Dates and times as real exports write them, parsed vectorised on polars Series.

Dates: ISO 2024-03-01 (a time part is ignored), 2024/03/01, UK day-first 01/03/2024 (also with
`.` or `-`, two-digit years read as 20yy), 01MAR2024, 01-Mar-2024, 1 March 2024, 20240301 and
Excel serial numbers (1900 date system, including Lotus's phantom 29 Feb 1900). Times: 14:30,
14:30:00, 9.05, 2:30 PM, a time after an ISO or UK date, and Excel day fractions (0.604166).

Anything else becomes null: the caller decides whether that is a rejection. Parsing works on the
distinct values only, so ten million rows with a few thousand distinct dates cost little.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01 counts from here
EXCEL_LEAP_BUG = 60  # serial 60 is 29 Feb 1900, a day that never existed
EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
NANOS_PER_SECOND = 1_000_000_000


def _via_distinct(values: pl.Series, parse: Callable[[pl.Series], pl.Series],
                  dtype: pl.DataType) -> pl.Series:
    """Parse each distinct text once, then map every row onto its parsed value."""
    text = values if values.dtype == pl.Utf8 else values.cast(pl.Utf8)
    distinct = text.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(values.name, [None] * len(values), dtype=dtype)
    parsed = parse(distinct)
    return text.replace_strict(distinct, parsed, default=None, return_dtype=dtype
                               ).alias(values.name)


def excel_serial_to_date(serials: pl.Series) -> pl.Series:
    """Whole Excel serial day numbers (1900 system) to dates; out of range or 60 -> null.

    Excel counts 1 = 1900-01-01 but treats 1900 as a leap year, so from serial 61 on the
    day count is off by one from a plain count since 1899-12-31."""
    n = serials.cast(pl.Int64, strict=False)
    frame = pl.DataFrame({"n": n})
    out = frame.select(
        pl.when((pl.col("n") >= 1) & (pl.col("n") < EXCEL_LEAP_BUG))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=pl.col("n") + 1))
        .when((pl.col("n") > EXCEL_LEAP_BUG) & (pl.col("n") <= EXCEL_MAX_SERIAL))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=pl.col("n")))
        .otherwise(None)
        .cast(pl.Date)
        .alias("d")
    )
    return out["d"].alias(serials.name)


def _ymd(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """A date from text parts; impossible dates (31 Feb) -> null."""
    text = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return text.str.to_date("%Y-%m-%d", strict=False)


def _full_year(year: pl.Expr) -> pl.Expr:
    return pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year)


def _parse_distinct_dates(texts: pl.Series) -> pl.Series:
    s = pl.col("s")
    frame = pl.DataFrame({"s": texts.str.strip_chars()})
    ymd = s.str.extract_groups(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T].*)?$")
    dmy = s.str.extract_groups(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T].*)?$")
    named = s.str.extract_groups(
        r"^(\d{1,2})[\s\-/]*([A-Za-z]{3,9})[\s\-/,]*(\d{4}|\d{2})(?:[ T].*)?$")
    compact = s.str.extract_groups(r"^(\d{4})(\d{2})(\d{2})$")
    serial = s.str.extract(r"^(\d{1,7})(?:\.\d+)?$")
    month_number = (named.struct.field("2").str.slice(0, 3).str.to_uppercase()
                    .replace_strict(list(MONTHS), [str(i) for i in range(1, 13)], default=None))
    out = frame.with_columns(
        pl.coalesce(
            _ymd(ymd.struct.field("1"), ymd.struct.field("2"), ymd.struct.field("3")),
            _ymd(_full_year(dmy.struct.field("3")), dmy.struct.field("2"),
                 dmy.struct.field("1")),
            _ymd(_full_year(named.struct.field("3")), month_number, named.struct.field("1")),
            _ymd(compact.struct.field("1"), compact.struct.field("2"),
                 compact.struct.field("3")),
        ).alias("d"),
        serial.alias("serial"),
    )
    excel = excel_serial_to_date(out["serial"])
    return out["d"].fill_null(excel)


def parse_dates(values: pl.Series) -> pl.Series:
    """Dates in any accepted layout (module docstring) -> pl.Date; unreadable -> null."""
    if values.dtype == pl.Date:
        return values
    if values.dtype in (pl.Datetime, pl.Datetime("ms"), pl.Datetime("us"), pl.Datetime("ns")):
        return values.dt.date()
    return _via_distinct(values, _parse_distinct_dates, pl.Date())


def _parse_distinct_times(texts: pl.Series) -> pl.Series:
    s = pl.col("s")
    frame = pl.DataFrame({"s": texts.str.strip_chars().str.to_uppercase()})
    clock = s.str.extract_groups(
        r"^(?:\d{4}-\d{1,2}-\d{1,2}[ T]|\d{1,2}/\d{1,2}/\d{2,4}\s+)?"
        r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:\.\d+)?)?\s*(AM|PM)?$")
    hour = clock.struct.field("1").cast(pl.Int64, strict=False)
    minute = clock.struct.field("2").cast(pl.Int64, strict=False)
    second = clock.struct.field("3").cast(pl.Int64, strict=False).fill_null(0)
    half = clock.struct.field("4")
    hour24 = (pl.when(half.is_null()).then(hour)
              .when(half == "PM").then(hour % 12 + 12)
              .otherwise(hour % 12))
    valid = ((hour24 < 24) & (minute < 60) & (second < 60)
             & (half.is_null() | ((hour >= 1) & (hour <= 12))))
    clock_nanos = pl.when(valid).then((hour24 * 3600 + minute * 60 + second) * NANOS_PER_SECOND)
    fraction = s.str.extract(r"^(0?\.\d+|0)$").cast(pl.Float64, strict=False)
    fraction_nanos = ((fraction * 86400).round(0).cast(pl.Int64) % 86400) * NANOS_PER_SECOND
    out = frame.select(pl.coalesce(clock_nanos, fraction_nanos).cast(pl.Time).alias("t"))
    return out["t"]


def parse_times(values: pl.Series) -> pl.Series:
    """Times of day (module docstring) -> pl.Time; unreadable -> null."""
    if values.dtype == pl.Time:
        return values
    if isinstance(values.dtype, pl.Datetime):
        return values.dt.time()
    return _via_distinct(values, _parse_distinct_times, pl.Time())
