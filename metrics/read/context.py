"""The National context page's reads: NHS England's published GPAD figures for a practice, its
PCN, its sub-ICB and England (metrics.gpad), from the store the source reads."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from metrics import gpad
from metrics.read.source import ResultSource, directory
from metrics.read.table import Table


def _store(source: ResultSource):  # noqa: ANN202 - a DuckDB connection
    """A connection that sees the store's own tables: the source's own for the stored results,
    else a read-only one to the store file (a fresh run's in-memory tables hold no GPAD)."""
    if source.prefix or source.path is None:
        return source.con, False
    from metrics.store import connect_read_only

    return connect_read_only(Path(source.path)), True


def context(source: ResultSource, practice: str) -> gpad.Context | None:
    """GPAD context for one practice (None: no GPAD loaded); the PCN and sub-ICB of the
    practices extract stand in where GPAD has no row for the practice."""
    rows = directory(source).filter(pl.col("practice_code") == practice)
    profile = rows.row(0, named=True) if rows.height else {}
    con, own = _store(source)
    try:
        return gpad.context(con, practice, profile.get("pcn_code"), profile.get("sub_icb_code"))
    finally:
        if own:
            con.close()


def context_tables(source: ResultSource, practice: str | None) -> dict[str, Table]:
    """The page's figures as a table (none without a practice or GPAD)."""
    if practice is None:
        return {}
    data = context(source, practice)
    if data is None or data.frame.is_empty():
        return {}
    return {"figures": gpad.context_table(data)}
