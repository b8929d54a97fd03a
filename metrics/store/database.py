"""The DuckDB store: canonical tables, ingest tables and engine results in one file.

A running dashboard holds the file open read-only, and DuckDB lets one process write a file only
when nobody else has it open. So a build never touches the live file: it writes a new database
beside it (`<name>.building-<pid>`), checkpoints, closes, and `os.replace`s it onto the target.
Readers keep their open file until they reconnect; on any error the side file is deleted and
the previous database is left exactly as it was. The file a build replaces is kept as
`<name>.previous`, so the last load can be undone (metrics.store.previous).

Tables: appointments, patients, practices (metrics.schema), ingest_rejects, ingest_report,
ingest_unknowns, <table>_extra (extra source columns) and store_meta (key, value). Everything
reaches DuckDB through registered Arrow frames or bound parameters; identifiers come only from
metrics.schema and this module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from metrics.ingest import KEYS, IngestReport, IngestResult, TableCounts
from metrics.schema import TABLES, column_names, create_table_sql
from metrics.store.swap import clean_stale_side_files, side_file, swap_in

# The database every entry point (dashboard, CLI) uses unless given one: one definition.
DB_ENV = "CONTINUITY_DB"
DEFAULT_DB = Path("data/continuity.duckdb")
DB_HELP = f"database file (default ${DB_ENV}, else {DEFAULT_DB})"
SCHEMA_VERSION = "1"
Progress = Callable[[str, float], None]



def default_db() -> Path:
    """$CONTINUITY_DB, else data/continuity.duckdb: the dashboard and the CLI read the same
    setting, so a database chosen once is the one both use."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


REJECTS_SQL = ("CREATE TABLE ingest_rejects (\"table\" VARCHAR, file VARCHAR, line BIGINT, "
               "\"column\" VARCHAR, reason VARCHAR, raw_value VARCHAR)")
REPORT_SQL = "CREATE TABLE ingest_report (\"table\" VARCHAR, measure VARCHAR, value BIGINT)"
UNKNOWNS_SQL = ("CREATE TABLE ingest_unknowns (\"table\" VARCHAR, \"column\" VARCHAR, "
                "raw_value VARCHAR, count BIGINT)")
META_SQL = "CREATE OR REPLACE TABLE store_meta (key VARCHAR, value VARCHAR)"
MODES_RECORDED_SQL = "SELECT count(*) FROM appointments WHERE mode <> 'unknown'"
EXTRA_TABLES = {t: f"{t}_extra" for t in TABLES}


# Tables another loader adds to a built store (metrics.gpad: national GPAD context): a rebuild
# from an extract carries them over from the store it replaces.
CARRIED_TABLES = ("gpad_appointments", "gpad_sources")


class StoreError(RuntimeError):
    """The database cannot be written or opened (one plain-English line)."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _from_frame(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, view: str,
                sql: str) -> None:
    """Run `sql`, which reads the frame registered as `view`, then unregister it."""
    con.register(view, frame)
    try:
        con.execute(sql)
    finally:
        con.unregister(view)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append a frame to a whitelisted table, columns by name."""
    view = f"_incoming_{table}"
    _from_frame(con, frame, view, f"INSERT INTO {table} BY NAME SELECT * FROM {view}")


def _create_extra(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """`<table>_extra` holds text columns; their names were folded to [a-z0-9_] by ingest."""
    name = EXTRA_TABLES[table]
    view = f"_incoming_{name}"
    _from_frame(con, frame, view, f"CREATE TABLE {name} AS SELECT * FROM {view}")


def load_into(con: duckdb.DuckDBPyConnection, result: IngestResult, *, report: bool = True
              ) -> None:
    """Create and fill every store table (except store_meta) from an ingest result
    (`report=False`: create the report tables empty)."""
    for table in TABLES:
        con.execute(create_table_sql(table))
        _insert(con, table, result.tables[table].select(column_names(table)))
    for table, frame in result.extras.items():
        if table in EXTRA_TABLES:
            _create_extra(con, table, frame)
    con.execute(REJECTS_SQL)
    _insert(con, "ingest_rejects", result.rejects)
    con.execute(REPORT_SQL)
    con.execute(UNKNOWNS_SQL)
    if report:
        _insert(con, "ingest_report", result.report.as_frame())
        _insert(con, "ingest_unknowns", result.report.unknowns_frame())


def _meta_rows(result: IngestResult, counts: dict[str, int], appended: bool,
               modes_recorded: bool) -> list[tuple]:
    report = result.report
    files = [f"{t}: {p}" for t, paths in report.source_files.items() for p in paths]
    rows = [("built_at", datetime.now(UTC).isoformat(timespec="seconds")),
            ("schema_version", SCHEMA_VERSION), ("preset", report.preset),
            ("source_files", "\n".join(files)), ("appended", str(appended).lower()),
            ("defaults", "\n".join(report.defaults_applied)),
            ("notes", "\n".join(report.notes)),
            ("patient_ids", "national" if result.national_ids else "practice")]
    rows += [(f"rows_{t}", str(n)) for t, n in counts.items()]
    rows.append(("modes_recorded", str(modes_recorded).lower()))
    return rows


def _existing_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = ?",
                       [catalog]).fetchall()
    return {r[0] for r in rows}


# A thin export appended for one practice brings only the practice's code and name and patients
# without deprivation: its blanks must not erase the PCN, IMD or usual GP an earlier file gave.
FILLED_ON_APPEND = ("practices", "patients")


def _fill_blanks(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> None:
    """Blank columns of re-ingested rows (incoming.<table>) take the store's value for the same
    key (identifiers from metrics.schema only)."""
    columns = [c for c in column_names(table) if c not in key]
    sets = ", ".join(f"{c} = coalesce(n.{c}, o.{c})" for c in columns)
    on = " AND ".join(f"o.{k} = n.{k}" for k in key)
    con.execute(f"UPDATE incoming.{table} AS n SET {sets} FROM {table} o WHERE {on}")


def _append_into(con: duckdb.DuckDBPyConnection, result: IngestResult, report: IngestReport,
                 previous: Path) -> None:
    """Append mode, on a copy of the previous store: its rows whose keys the new ingest has are
    replaced (each counts as a merged duplicate), the new rows go in, and rejects, unknown
    values and report counts accumulate. Why a copy edited in place, not a new file filled with
    both: a month appended to years of appointments writes that month, not the years again."""
    here = con.execute("SELECT current_database()").fetchone()[0]
    quoted = '"' + here.replace('"', '""') + '"'
    old = _existing_tables(con, here)
    missing = [t for t in TABLES if t not in old]
    if missing:
        raise StoreError(f"{previous} has no {', '.join(missing)} table: it was not built by "
                         "this tool, so it cannot be appended to")
    con.execute("ATTACH ':memory:' AS incoming")
    try:
        con.execute("USE incoming")
        try:
            load_into(con, result, report=False)
        finally:
            con.execute(f"USE {quoted}")
        new = _existing_tables(con, "incoming")
        for table, key in KEYS.items():
            con.execute(f"CREATE TEMP TABLE _new_keys AS SELECT DISTINCT {', '.join(key)} "
                        f"FROM incoming.{table}")
            on = " AND ".join(f"k.{k} = {table}.{k}" for k in key)
            kept = f"NOT EXISTS (SELECT 1 FROM _new_keys k WHERE {on})"
            replaced = con.execute(f"SELECT count(*) FROM {table} WHERE NOT {kept}"
                                   ).fetchone()[0]
            if table == "patients" and report.counts.get("patients", TableCounts()).files == 0:
                # no patients file: ingest placed each patient at their latest appointment's
                # practice, a guess; where the store already knows the patient, it stands
                con.execute("UPDATE incoming.patients AS n SET practice_code = o.practice_code "
                            "FROM patients o WHERE o.patient_id = n.patient_id")
            if table in FILLED_ON_APPEND:
                _fill_blanks(con, table, key)
            cols = ", ".join(column_names(table))
            con.execute(f"DELETE FROM {table} WHERE NOT {kept}")
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming.{table}")
            counts = report.counts.setdefault(table, TableCounts())
            moved = min(replaced, counts.loaded)
            counts.loaded -= moved
            counts.merged_duplicates += moved
            extra = EXTRA_TABLES[table]
            if extra in new and extra in old:  # columns may differ: by name
                con.execute(f"CREATE TEMP TABLE _extra AS SELECT * FROM incoming.{extra} "
                            f"UNION ALL BY NAME SELECT * FROM {extra} WHERE {kept}")
                con.execute(f"CREATE OR REPLACE TABLE {extra} AS SELECT * FROM _extra")
                con.execute("DROP TABLE _extra")
            elif extra in new:
                con.execute(f"CREATE TABLE {extra} AS SELECT * FROM incoming.{extra}")
            elif extra in old:
                con.execute(f"DELETE FROM {extra} WHERE NOT {kept}")
            con.execute("DROP TABLE _new_keys")
        for name, sql in (("ingest_report", REPORT_SQL), ("ingest_unknowns", UNKNOWNS_SQL),
                          ("ingest_rejects", REJECTS_SQL)):
            if name not in old:  # a store from before these tables
                con.execute(sql)
        _insert(con, "ingest_report", report.as_frame())
        _insert(con, "ingest_unknowns", report.unknowns_frame())
        for name, group in (("ingest_report", '"table", measure'),
                            ("ingest_unknowns", '"table", "column", raw_value')):
            value = "value" if name == "ingest_report" else "count"
            con.execute(f"CREATE TEMP TABLE _sum AS SELECT {group}, sum({value})::BIGINT "
                        f"AS {value} FROM {name} GROUP BY ALL ORDER BY ALL")
            con.execute(f"DELETE FROM {name}")
            con.execute(f"INSERT INTO {name} SELECT * FROM _sum")
            con.execute("DROP TABLE _sum")
        con.execute("UPDATE ingest_report SET value = (SELECT count(*) FROM appointments WHERE "
                    "clinician_id IS NULL) WHERE \"table\" = 'appointments' "
                    "AND measure = 'blank_clinician'")
        con.execute("INSERT INTO ingest_rejects SELECT * FROM incoming.ingest_rejects")
    finally:
        con.execute("DETACH incoming")


def _carry_over(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    """Copy CARRIED_TABLES from the store being replaced into the new one."""
    here = con.execute("SELECT current_database()").fetchone()[0]
    con.execute("ATTACH ? AS carried (READ_ONLY)", [str(previous)])
    try:
        old, new = _existing_tables(con, "carried"), _existing_tables(con, here)
        for table in CARRIED_TABLES:
            if table in old and table not in new:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM carried.{table}")
    finally:
        con.execute("DETACH carried")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def building(db_path: Path, copy: bool = False, keep_previous: bool = True
             ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new database beside `db_path` (`copy`: a copy of it), swapped in with
    os.replace when the block ends without error; on any error the side file goes and
    `db_path` stays as it was, so a reader never sees a half-written database. The replaced
    file is kept for undo (metrics.store.previous) unless `keep_previous` is False."""
    side = side_file(db_path, "building")
    clean_stale_side_files(db_path)
    _remove(side)
    con: duckdb.DuckDBPyConnection | None = None
    try:
        if copy:  # a store is checkpointed when written: the file alone holds it
            shutil.copyfile(db_path, side)
        con = duckdb.connect(str(side))
        yield con
        con.execute("CHECKPOINT")
        con.close()
        con = None
        swap_in(side, db_path, keep_previous=keep_previous)
    except BaseException as exc:
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()
        _remove(side)
        if isinstance(exc, duckdb.Error | OSError):
            raise StoreError(f"could not write the database {db_path} ({_first_line(exc)}); "
                             "the previous database is unchanged") from exc
        raise


def write_store(result: IngestResult, db_path: Path | None = None, *, append: bool = False,
                after_load: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                progress: Progress | None = None, keep_previous: bool = True) -> Path:
    """Build the database beside `db_path`, then swap it in atomically; returns `db_path`.

    `append=True` keeps the existing store's rows, deduplicated on each table's key (the new
    ingest wins), and every other table it holds (results, refresh state, GPAD) as it was.
    `after_load(con)` runs on the new database before it is swapped in (the engine stores its
    result tables there). `db_path`: default_db() when not given."""
    db_path = Path(db_path) if db_path is not None else default_db()
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder for {db_path} ({_first_line(exc)})") from None
    if db_path.is_dir():
        raise StoreError(f"{db_path} is a folder: give a database file name such as "
                         f"{DEFAULT_DB}")
    if db_path.exists() and db_path.stat().st_size and not is_duckdb_file(db_path):
        raise StoreError(f"{db_path} exists and is not a DuckDB database: refusing to "
                         "replace it (give another --db file)")
    def step(label: str, fraction: float) -> None:
        if progress:
            progress(label, fraction)

    # the report's counts change in append mode: work on a copy
    report = replace(result.report, counts={t: replace(c) for t, c in
                                            result.report.counts.items()})
    result = replace(result, report=report)
    appending = append and db_path.exists() and db_path.stat().st_size > 0
    with building(db_path, copy=appending, keep_previous=keep_previous) as con:
        step("writing database", 0.1)
        if appending:
            _append_into(con, result, report, db_path)
        else:
            load_into(con, result)
            if db_path.exists() and db_path.stat().st_size:
                _carry_over(con, db_path)
        step("writing database", 0.5)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        known_modes = con.execute(MODES_RECORDED_SQL).fetchone()[0]
        con.execute(META_SQL)
        con.executemany("INSERT INTO store_meta VALUES (?, ?)",
                        _meta_rows(result, counts, appending, known_modes > 0))
        if after_load is not None:
            after_load(con)
        step("writing database", 0.9)
    step("database written", 1.0)
    return db_path


def is_duckdb_file(path: Path) -> bool:
    """DuckDB's magic bytes (`DUCK` at offset 8): DuckDB itself gives misleading errors for
    other files (a CSV reads as "Cannot launch in-memory database")."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def connect_read_only(db_path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh read-only connection (one per caller: connections are not shared);
    `db_path`: default_db() when not given."""
    db_path = Path(db_path) if db_path is not None else default_db()
    if not db_path.is_file():
        raise StoreError(f"no database at {db_path}: build one with `python -m metrics ingest`")
    if not is_duckdb_file(db_path):
        raise StoreError(f"{db_path} is not a DuckDB database: build one with "
                         "`python -m metrics ingest`")
    # Not duckdb.connect(path, read_only=True): DuckDB shares one database instance per path
    # while any connection to it is open, so after a rebuild swapped the file in, a new
    # connection would still read the replaced file (duckdb#15912), and a dashboard holding a
    # cached connection would show the old data for ever. ATTACH opens the file afresh; views
    # give its tables their plain names (cursors see views, not a `USE`).
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS store (READ_ONLY)", [str(db_path)])
        names = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                            "'store' AND schema_name = 'main'").fetchall()
        for (name,) in names:  # the store's own table names, quoted
            quoted = '"' + name.replace('"', '""') + '"'
            con.execute(f"CREATE VIEW {quoted} AS SELECT * FROM store.main.{quoted}")
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"{db_path} is not a readable DuckDB database ({_first_line(exc)})"
                         ) from None
    return con


STORED_COUNTS_SQL = ("SELECT measure, value FROM ingest_report WHERE \"table\" = ? "
                     "AND measure IN ('rows_read', 'loaded', 'merged_duplicates', 'rejected')")


def summary_lines(db_path: Path) -> list[str]:
    """What the database now holds, and (after appends) the counts over every ingest into it."""
    con = connect_read_only(db_path)
    try:
        meta = read_meta(con)
        lines = [f"database written: {db_path} ("
                 + ", ".join(f"{int(meta.get(f'rows_{t}', 0)):,} {t}" for t in TABLES) + ")"]
        if meta.get("appended") == "true":
            got = dict(con.cursor().execute(STORED_COUNTS_SQL, ["appointments"]).fetchall())
            lines.append(
                f"appointments over every ingest into it: {got.get('rows_read', 0):,} rows read "
                f"= {got.get('loaded', 0):,} loaded + {got.get('merged_duplicates', 0):,} "
                f"merged duplicates + {got.get('rejected', 0):,} rejected")
        return lines
    finally:
        con.close()


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The store's store_meta table as a dict."""
    try:
        rows = con.cursor().execute("SELECT key, value FROM store_meta").fetchall()
    except duckdb.Error:
        raise StoreError("the database has no store_meta table: it was not built by this "
                         "tool") from None
    return {k: v for k, v in rows}
