"""The database file: written from what ingest gives (database), swapped in beside its side
files (swap), the load before the last kept for undo (previous), and what a load would change
of other practices' data (changes). `from metrics.store import ...` reaches the database
module's names."""

from metrics.store.database import (
    CARRIED_TABLES,
    DB_ENV,
    DB_HELP,
    DEFAULT_DB,
    EXTRA_TABLES,
    FILLED_ON_APPEND,
    META_SQL,
    MODES_RECORDED_SQL,
    REJECTS_SQL,
    REPORT_SQL,
    SCHEMA_VERSION,
    STORED_COUNTS_SQL,
    UNKNOWNS_SQL,
    Progress,
    StoreError,
    building,
    connect_read_only,
    default_db,
    is_duckdb_file,
    load_into,
    read_meta,
    summary_lines,
    write_store,
)

__all__ = [
    "CARRIED_TABLES", "DB_ENV", "DB_HELP", "DEFAULT_DB", "EXTRA_TABLES", "FILLED_ON_APPEND",
    "META_SQL", "MODES_RECORDED_SQL", "Progress", "REJECTS_SQL", "REPORT_SQL",
    "SCHEMA_VERSION", "STORED_COUNTS_SQL", "StoreError", "UNKNOWNS_SQL", "building",
    "connect_read_only", "default_db", "is_duckdb_file", "load_into", "read_meta",
    "summary_lines", "write_store",
]
