"""The Data page's reads of the store itself: the last ingest's report and rejects, row counts."""

from __future__ import annotations

import duckdb
import polars as pl

from metrics.read.source import ResultSource


def store_report(source: ResultSource) -> pl.DataFrame:
    """The last ingest's counts (table, measure, value); empty if the store has none."""
    try:
        return source.query('SELECT "table", measure, value FROM ingest_report '
                            'ORDER BY "table", measure')
    except duckdb.Error:
        return pl.DataFrame(schema={"table": pl.Utf8, "measure": pl.Utf8, "value": pl.Int64})


def store_rejects(source: ResultSource, limit: int = 1000) -> pl.DataFrame:
    """The last ingest's rejected rows (at most `limit`), with file, line, column and reason."""
    try:
        return source.query('SELECT * FROM ingest_rejects ORDER BY file, line LIMIT ?', [limit])
    except duckdb.Error:
        return pl.DataFrame()


def store_counts(source: ResultSource) -> dict[str, int]:
    """Rows in each canonical table."""
    sql = ("SELECT (SELECT count(*) FROM appointments) AS appointments, "
           "(SELECT count(*) FROM patients) AS patients, "
           "(SELECT count(*) FROM practices) AS practices")
    return source.query(sql).row(0, named=True)


def store_meta(source: ResultSource) -> dict:
    """What the store records about its build (metrics.store.read_meta)."""
    from metrics.store import read_meta

    return read_meta(source.con)
