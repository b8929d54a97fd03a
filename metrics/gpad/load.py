"""A GPAD import into the store: its practice-months replace the store's, every other row stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from metrics.gpad.files import SCHEMA, TEXT_COLUMNS, GpadResult

TABLE = "gpad_appointments"
SOURCES_TABLE = "gpad_sources"
TABLE_SQL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (month DATE, "
             + ", ".join(f"{c} VARCHAR" for c in TEXT_COLUMNS)
             + ", appointments BIGINT, source_file VARCHAR)")
SOURCES_SQL = (f"CREATE TABLE IF NOT EXISTS {SOURCES_TABLE} (file VARCHAR, sha256 VARCHAR, "
               "months VARCHAR, practices BIGINT, rows BIGINT, appointments BIGINT, "
               "loaded_at VARCHAR)")


# ---- the store ------------------------------------------------------------------------------


def load_gpad(result: GpadResult, db_path: Path) -> Path:
    """Add an import to the store at `db_path` (which must exist): its practice-months replace
    the store's, every other row stays. Written beside the store and swapped in atomically."""
    from metrics.store import StoreError, building, is_duckdb_file

    db_path = Path(db_path)
    if not db_path.is_file() or not is_duckdb_file(db_path):
        raise StoreError(f"no database at {db_path}: build one first with `python -m metrics "
                         "ingest` (or open the dashboard once)")
    with building(db_path) as con:
        # the new file starts as a copy of the store; the import's practice-months replace it
        here = con.execute("SELECT current_database()").fetchone()[0]
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(db_path)])
        quoted = '"' + here.replace('"', '""') + '"'
        con.execute(f"COPY FROM DATABASE previous TO {quoted}")
        con.execute("DETACH previous")
        write_tables(con, result)
    return db_path


def write_tables(con: duckdb.DuckDBPyConnection, result: GpadResult) -> None:
    """On a write connection: replace the import's practice-months, record its sources."""
    con.execute(TABLE_SQL)
    con.execute(SOURCES_SQL)
    con.register("_incoming_gpad", result.frame.select(list(SCHEMA)).to_arrow())
    try:
        con.execute(f"DELETE FROM {TABLE} WHERE (month, practice_code) IN "
                    "(SELECT DISTINCT month, practice_code FROM _incoming_gpad)")
        con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM _incoming_gpad")
    finally:
        con.unregister("_incoming_gpad")
    loaded = datetime.now(UTC).isoformat(timespec="seconds")
    for r in result.sources.iter_rows(named=True):
        con.execute(f"DELETE FROM {SOURCES_TABLE} WHERE sha256 = ?", [r["sha256"]])
        con.execute(f"INSERT INTO {SOURCES_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [r["file"], r["sha256"], r["months"], r["practices"], r["rows"],
                     r["appointments"], loaded])
