"""The dialect seam: the pipeline's SQL is written once, in DuckDB's dialect, and translated.

`to_dialect` transpiles with sqlglot and then applies the few named overrides listed in
OVERRIDES, each for one construct that sqlglot writes validly but that means something different
on the target engine. Everything else is sqlglot's translation as is, so there is one definition
of every index and a parity test (tests/test_spark.py) as the guard.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp

SOURCE = "duckdb"

Rewrite = Callable[[exp.Expression], exp.Expression]


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


# Per target dialect, in order; keep each one small and say which construct and why.
OVERRIDES: dict[str, tuple[Rewrite, ...]] = {
    "spark": (decimal_literals_as_double,),
    "databricks": (decimal_literals_as_double,),
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
        return tree.sql(dialect=dialect, comments=False)
    except (sqlglot.errors.SqlglotError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DialectError(f"cannot translate to {dialect}: {first}") from exc
