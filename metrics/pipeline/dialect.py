"""The dialect seam: the pipeline's SQL is written once, in DuckDB's dialect, and translated.

`to_dialect` transpiles with sqlglot and then applies the few named rewrites in OVERRIDES, each
for one construct that sqlglot writes validly but that means something different on the target
engine. The rewrites are general (by construct, never by query file), so a new step declared in
queries/pipeline.toml is translated without touching this module; tests/store/test_spark.py runs
every step on both engines (and each rewritten construct on its own) as the guard.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp

SOURCE = "duckdb"

Rewrite = Callable[[exp.Expression], exp.Expression]

# date_diff units DuckDB counts as calendar boundaries crossed, in months per unit
BOUNDARY_UNITS: dict[str, int] = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


class DialectError(ValueError):
    """A query could not be translated (message names the dialect and the parser's reason)."""


def decimal_literals_as_double(node: exp.Expression) -> exp.Expression:
    """Fractional literals (0.1, 2.0) become DOUBLE.

    Both engines type `0.1` as DECIMAL, but DuckDB's `/` turns DECIMAL operands into DOUBLE while
    Spark keeps DECIMAL and cuts the scale to fit 38 digits (MMCI's `s / (N + 0.1)` lost digits).
    DOUBLE literals give DuckDB's values bit for bit on the pipeline's arithmetic.
    """
    if isinstance(node, exp.Literal) and not node.is_string and any(
        ch in node.this.lower() for ch in ".e"
    ):
        return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
    return node


def _month_number(value: exp.Expression) -> exp.Expression:
    """year(d) * 12 + month(d): months since year 0, so differences count boundaries."""
    return exp.paren(exp.Add(
        this=exp.Mul(this=exp.Year(this=value.copy()), expression=exp.Literal.number(12)),
        expression=exp.Month(this=value.copy()),
    ))


def date_diff_boundaries(node: exp.Expression) -> exp.Expression:
    """date_diff('month' | 'quarter' | 'year', a, b) counts calendar boundaries crossed.

    DuckDB: date_diff('month', 2024-01-31, 2024-02-01) = 1 (one month boundary). Spark's
    DATEDIFF(MONTH, ...) is TIMESTAMPDIFF, which counts whole elapsed months (0 here). The
    rewrite spells DuckDB's meaning out in year/month arithmetic, which both engines share.
    Day units mean the same on both (days between the dates) and are left to sqlglot.
    """
    if not isinstance(node, exp.DateDiff):
        return node
    unit = node.args.get("unit")
    name = unit.name.upper() if unit is not None else "DAY"
    months = BOUNDARY_UNITS.get(name)
    if months is None:
        return node
    start, end = node.expression, node.this  # sqlglot: this = end, expression = start
    if months == 1:
        return exp.paren(exp.Sub(this=_month_number(end), expression=_month_number(start)))
    # the index of each date's quarter or year (integer division), then their difference
    index_end = exp.IntDiv(this=exp.paren(exp.Sub(this=_month_number(end),
                                                  expression=exp.Literal.number(1))),
                           expression=exp.Literal.number(months))
    index_start = exp.IntDiv(this=exp.paren(exp.Sub(this=_month_number(start),
                                                    expression=exp.Literal.number(1))),
                             expression=exp.Literal.number(months))
    return exp.paren(exp.Sub(this=index_end, expression=index_start))


def rounding_of_a_division_as_double(node: exp.Expression) -> exp.Expression:
    """ceil(a / b) and floor(a / b) stay DOUBLE, as in DuckDB.

    DuckDB's `/` is DOUBLE and ceil/floor keep their argument's type; Spark's CEIL and FLOOR
    return BIGINT. Unwrapped, a figure like ceil(decile / 2.0) would reach a CSV as "3" from
    Spark and "3.0" from DuckDB. (On other arguments the types already agree or are cast.)
    """
    if isinstance(node, exp.Ceil | exp.Floor) and not node.args.get("decimals"):
        argument = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if isinstance(argument, exp.Div):
            return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
    return node


# Per target dialect, in order; keep each one small and say which construct and why.
SPARK_OVERRIDES: tuple[Rewrite, ...] = (
    date_diff_boundaries,
    rounding_of_a_division_as_double,
    decimal_literals_as_double,
)
OVERRIDES: dict[str, tuple[Rewrite, ...]] = {
    "spark": SPARK_OVERRIDES,
    "databricks": SPARK_OVERRIDES,
}


@lru_cache(maxsize=512)
def to_dialect(sql: str, dialect: str) -> str:
    """`sql` (DuckDB dialect, one statement) in `dialect`; comments dropped; cached."""
    if dialect == SOURCE:
        return sql
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE)
        for rewrite in OVERRIDES.get(dialect, ()):
            tree = tree.transform(rewrite)
        return tree.sql(dialect=dialect, comments=False, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except (sqlglot.errors.SqlglotError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DialectError(f"cannot translate to {dialect}: {first}") from exc
