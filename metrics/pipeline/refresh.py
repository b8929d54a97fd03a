"""Incremental refresh: a store that gains one month of appointments is brought up to date
without recomputing the months it already had. `python -m metrics ingest --append` and the Data
page's upload call it through metrics.pipeline.build.rebuild (`refresh_or_rebuild`); every other
build keeps the state it needs (`persist_with_state`).

Why: an ICB's store gains a month at a time, and most of a full rebuild redoes work whose
answer cannot have changed: ranking every appointment into contacts (same-day collapse) and the
per-month rolling steps (the inferred GP's 12-month history, rolling 12-month UPC).
A month's rows of those depend only on the contacts of the 12 months up to it, which the old
and the new window both hold. So a refresh

1. checks that nothing before the new month changed (row counts and checksums of the earlier
   appointments, the patients and the practices, kept at the last build; no unregistered
   patient moved practice) and otherwise refuses with `RefreshError` (`refresh_or_rebuild`
   then does a full build);
2. computes the new month's contacts alone and appends them to the stored contacts;
3. computes the month-partitioned steps (BOUNDARY_MONTH_STEPS) for the new window's first and
   last months only and reuses the stored rows of every month between;
4. reruns every other step (the 24-month window that the new month touches and the roll-ups)
   from those tables, exactly as a full build would.

Result tables equal a full rebuild (tests/store/test_refresh.py checks table by table). State kept
in the store for the next refresh (patient-level, internal like the appointments themselves; never
read by the dashboard): state_<step> for KEPT_STATE_STEPS and state_fingerprint. The state
holds text ids (a step's state_query), never a run's integer keys, which the next run numbers
afresh; the merge queries key it again. Every statement that is more than a copy lives in
queries/refresh/, and each step's part is declared in queries/pipeline.toml.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from dateutil.relativedelta import relativedelta

from metrics.params import Params
from metrics.pipeline import engine
from metrics.pipeline.manifest import Step
from metrics.schema import column_names
from metrics.store import StoreError, connect_read_only

# Each step's part, as queries/pipeline.toml declares it (its `refresh` and `state` fields).
STEP: dict[str, Step] = {s.name: s for s in engine.STEPS}
# Steps whose stored rows are merged with the new month's (their refresh_query), not rerun over
# all appointments.
MERGED_STEPS: tuple[str, ...] = tuple(s.name for s in engine.STEPS if s.refresh == "merged")
# Steps whose rows are keyed by month and depend only on the 12 months up to that month: run for
# the new window's first and last months, the stored rows of the months between reused.
BOUNDARY_MONTH_STEPS: tuple[str, ...] = tuple(s.name for s in engine.STEPS
                                              if s.refresh == "boundary_months")
# The steps run on the new month's appointments alone: what the merges read of the new month,
# i.e. every step up to the last merged one (its contacts and the keys before them).
NEW_MONTH_STEPS: tuple[str, ...] = engine.PIPELINE[: max(STEP[s].order for s in MERGED_STEPS) + 1]
# Pipeline tables kept in the store for the next refresh (appointment_mix is kept as a result).
KEPT_STATE_STEPS: tuple[str, ...] = tuple(s.name for s in engine.STEPS if s.state)


class RefreshError(RuntimeError):
    """The store cannot be refreshed incrementally (message says why); rebuild it in full."""


@dataclass
class RefreshReport:
    """What a refresh (or the full build it fell back to) did, and how long each part took."""

    params: Params
    incremental: bool
    reason: str = ""  # why a full build was done instead
    new_appointments: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# ---- helpers --------------------------------------------------------------------------------


def next_month_params(params: Params) -> Params:
    """The window moved on by one calendar month (same length and options)."""
    start = params.window_start + relativedelta(months=1)
    end = (params.window_end.replace(day=1) + relativedelta(months=2)) - relativedelta(days=1)
    return params.with_(window_start=start, window_end=end)


def _month_params(params: Params) -> Params:
    """The last calendar month of `params`' window, alone."""
    return params.with_(window_start=params.window_end.replace(day=1))


def _refresh_params(previous: Params, params: Params) -> pl.DataFrame:
    return pl.DataFrame(
        {"previous_window_start": [previous.window_start],
         "previous_window_end": [previous.window_end],
         "window_start": [params.window_start],
         "new_month_start": [params.window_end.replace(day=1)]},
        schema={c: pl.Date for c in ("previous_window_start", "previous_window_end",
                                     "window_start", "new_month_start")})


@contextlib.contextmanager
def _editing(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with a copy of the store attached as `store`; the copy replaces
    the store atomically on success (readers keep their open file, as metrics.store does)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise RefreshError(f"no database at {db_path}")
    side = db_path.with_name(f"{db_path.name}.refresh-{os.getpid()}")
    shutil.copyfile(db_path, side)
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS store", [str(side)])
        yield con
        con.execute("CHECKPOINT store")
        con.execute("DETACH store")
        con.close()
        os.replace(side, db_path)
    except BaseException:
        con.close()
        with contextlib.suppress(FileNotFoundError):
            side.unlink()
        raise


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the in-memory table or view `name`, whichever it is (a step's input is a view of
    the store in one phase and a table of the new month in another)."""
    kinds = con.execute("SELECT 'VIEW' FROM duckdb_views() WHERE database_name = 'memory' "
                        "AND view_name = ? UNION ALL SELECT 'TABLE' FROM duckdb_tables() "
                        "WHERE database_name = 'memory' AND table_name = ?",
                        [name, name]).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} {name}")


def _view(con: duckdb.DuckDBPyConnection, name: str, store_table: str) -> None:
    """`name` reads the attached store's table (names come from this module's whitelists)."""
    _drop(con, name)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM store.{store_table}")


def _table(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    _drop(con, name)
    con.execute(f"CREATE TABLE {name} AS {sql}")


def _register_params(backend: engine.DuckDBBackend, params: Params) -> None:
    for name, frame in engine.parameter_frames(params).items():
        backend.register(name, frame)


def _run(backend: engine.DuckDBBackend, step: str, sql: str | None = None) -> None:
    try:
        backend.materialise(step, sql if sql is not None else engine.query_text(step))
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise engine.EngineError(f"step {step} failed: {first}") from exc


def _persist(con: duckdb.DuckDBPyConnection, params: Params, in_place: bool = False,
             store: str = "store.") -> None:
    """Result tables, their parameters and the state for the next refresh, into the store
    (`store`: the attached store's prefix, or '' on the store's own connection).
    `in_place`: update the big state tables that declare a keep_in_place query (only the
    months that changed) instead of writing them again."""
    engine.keep_results(con, params, store)
    for name in KEPT_STATE_STEPS:
        keep = STEP[name].keep_in_place
        if in_place and keep is not None:
            con.execute(engine.query_text(keep))
        else:
            sql = _state_query(name)
            con.execute(f"CREATE OR REPLACE TABLE {store}state_{name} AS {sql}")
    con.execute(f"CREATE OR REPLACE TABLE {store}state_fingerprint AS SELECT * FROM fingerprint")


def _state_query(step: str) -> str:
    """The rows of `step` that the store keeps: its state_query where the step's table holds
    this run's keys, else the table as it is."""
    state_query = STEP[step].state_query
    if state_query is not None:
        return engine.query_text(state_query)
    return f"SELECT * FROM {step}"


def _fingerprint(con: duckdb.DuckDBPyConnection, backend: engine.DuckDBBackend,
                 through: Params, params: Params) -> pl.DataFrame:
    """Counts and checksums of the appointments up to `through`'s window end, the patients
    and the practices (queries/refresh/refresh_fingerprint.sql)."""
    backend.register("refresh_params", _refresh_params(through, params))
    _run(backend, "fingerprint", engine.query_text("refresh_fingerprint"))
    return backend.fetch("SELECT * FROM fingerprint ORDER BY source")


def _open_store(con: duckdb.DuckDBPyConnection) -> engine.DuckDBBackend:
    _view(con, "stored_appointments", "appointments")
    for table in ("appointments", "patients", "practices"):
        _view(con, table, table)
    _view(con, "stored_patients", "patients")
    _view(con, "stored_practices", "practices")
    return engine.DuckDBBackend(con, temporary=False)


# ---- entry points ---------------------------------------------------------------------------


def full_build(db_path: Path, params: Params | None = None,
               progress: engine.Progress | None = None) -> RefreshReport:
    """Compute every result for `params` (default: the last 24 complete months) and keep the
    state a later `refresh` needs. Same results as engine.persist_results."""
    started = time.perf_counter()
    with _editing(Path(db_path)) as con:
        backend = _open_store(con)
        params = params or engine.default_params(backend)
        engine.run_pipeline(backend, params, progress)
        _fingerprint(con, backend, params, params)
        _persist(con, params)
    return RefreshReport(params, incremental=False, reason="full build",
                         seconds={"full build": time.perf_counter() - started})


def persist_with_state(con: duckdb.DuckDBPyConnection, params: Params,
                       progress: engine.Progress | None = None) -> None:
    """What `full_build` does, on a store's own write connection (metrics.store's `after_load`,
    before the new store is swapped in): every result for `params`, and the state a later
    `refresh` needs."""
    backend = engine.DuckDBBackend(con)
    engine.run_pipeline(backend, params, progress)
    for table in ("appointments", "patients", "practices"):  # what the fingerprint reads
        con.execute(f"CREATE OR REPLACE TEMP VIEW stored_{table} AS SELECT * FROM {table}")
    _fingerprint(con, backend, params, params)
    _persist(con, params, store="")


def _kept_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}


def stored_params(db_path: Path) -> Params | None:
    """The parameters of the store's kept results (None if it keeps none)."""
    with contextlib.closing(connect_read_only(Path(db_path))) as con:
        return engine.stored_params(con) if "result_params" in _kept_tables(con) else None


def has_state(db_path: Path) -> bool:
    """Whether the store keeps what `refresh` needs (a build by this version)."""
    try:
        con = connect_read_only(Path(db_path))
    except StoreError:
        return False
    with contextlib.closing(con):
        return set(table_names()) <= _kept_tables(con)


def append_appointments(db_path: Path, appointments: pl.DataFrame) -> int:
    """Add canonical appointment rows (as ingest produces them) to the store, in place of a
    later `ingest --append`; returns the number of rows added."""
    with _editing(Path(db_path)) as con:
        con.register("incoming_appointments", appointments.select(column_names("appointments")))
        con.execute("INSERT INTO store.appointments BY NAME SELECT * FROM incoming_appointments")
        con.unregister("incoming_appointments")
    return appointments.height


def refresh(db_path: Path, progress: engine.Progress | None = None) -> RefreshReport:
    """Bring the store's results forward by one month, the month after the stored window, whose
    appointments the store now holds. Raises RefreshError when that cannot be done exactly."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    # the laps below: copy, check, new month, every pipeline step, persist, swap
    parts, done = 5 + len(engine.PIPELINE), 0

    def lap(label: str) -> None:
        nonlocal clock, done
        now = time.perf_counter()
        seconds[label] = seconds.get(label, 0.0) + now - clock
        clock = now
        done += 1
        if progress is not None:
            progress(f"refreshing: {label}", min(done / parts, 1.0))

    with _editing(Path(db_path)) as con:
        lap("copy store")
        missing = {f"state_{s}" for s in KEPT_STATE_STEPS} | {
            "state_fingerprint", "result_params", "result_appointment_mix"}
        have = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'store'"
        ).fetchall()}
        if missing - have:
            raise RefreshError(f"the store keeps no refresh state for this version (no "
                               f"{', '.join(sorted(missing - have))}: it was not built by "
                               "metrics.pipeline.refresh.full_build, or by an earlier "
                               "version): rebuild it in full")
        backend = _open_store(con)
        previous = engine.stored_params(con, "store.")
        params = next_month_params(previous)
        month = _month_params(params)
        last = engine.latest_appointment_date(backend)
        if last is None or last <= previous.window_end:
            raise RefreshError(f"no appointments after {previous.window_end}: nothing to add")
        if last > params.window_end:
            raise RefreshError(f"appointments up to {last} reach beyond {params.window_end}: a "
                               "refresh adds exactly one month")
        stored = con.sql("SELECT * FROM store.state_fingerprint ORDER BY source").pl()
        now = _fingerprint(con, backend, previous, params)
        if not now.equals(stored):
            raise RefreshError("appointments before the new month, patients or practices "
                               "changed since the last build: rebuild in full")
        lap("check")

        # the new month alone: its contacts and its unregistered patients' practices
        _register_params(backend, month)
        _table(con, "appointments", engine.query_text("refresh_month_appointments"))
        new_rows = con.execute("SELECT count(*) FROM appointments").fetchone()[0]
        for step in NEW_MONTH_STEPS:
            _run(backend, step)
        for name in KEPT_STATE_STEPS:
            _view(con, f"state_{name}", f"state_{name}")
        if con.execute("SELECT count(*) FROM (" + engine.query_text("refresh_moved_patients")
                       + ")").fetchone()[0]:
            raise RefreshError("a patient missing from the patients extract moved practice in "
                               "the new month: rebuild in full")
        _table(con, "month_contacts", _state_query("contacts"))
        lap("new month")

        # the new window: merged inputs, month-partitioned steps for the boundary months only
        _view(con, "appointments", "appointments")
        _view(con, "result_appointment_mix", "result_appointment_mix")
        _register_params(backend, params)
        backend.register("refresh_params", _refresh_params(previous, params))
        boundary = engine.months_frame([params.window_start.replace(day=1),
                                        params.window_end.replace(day=1)])
        full_months = engine.parameter_frames(params)["months"]
        for step in engine.PIPELINE:
            refresh_query = STEP[step].refresh_query
            if step in MERGED_STEPS and refresh_query is not None:
                _run(backend, f"{step}_merged", engine.query_text(refresh_query))
                _table(con, step, f"SELECT * FROM {step}_merged")
            elif step in BOUNDARY_MONTH_STEPS:  # the boundary months alone
                backend.register("months", boundary)
                _run(backend, step)
                backend.register("months", full_months)
            else:
                _run(backend, step)
            if step in BOUNDARY_MONTH_STEPS and refresh_query is not None:
                _table(con, f"{step}_boundary", _state_query(step))
                _run(backend, f"{step}_merged", engine.query_text(refresh_query))
                _table(con, step, f"SELECT * FROM {step}_merged")
            lap(step)
        _fingerprint(con, backend, params, params)  # what the next refresh checks
        _persist(con, params, in_place=True)
        lap("persist")
    lap("swap store")
    return RefreshReport(params, incremental=True, new_appointments=new_rows, seconds=seconds)


def refresh_or_rebuild(db_path: Path, params: Params | None = None,
                       progress: engine.Progress | None = None) -> RefreshReport:
    """The store's results brought to `params` (default: the last 24 complete months of the
    data): by `refresh` when `params` is the stored window moved on by one month with the same
    options, otherwise, or when `refresh` refuses, by a full build, with the reason in the
    report."""
    if params is not None:
        stored = stored_params(db_path)
        if stored is None or next_month_params(stored) != params:
            report = full_build(db_path, params, progress)
            report.reason = _why_not_one_month(stored, params)
            return report
    try:
        return refresh(db_path, progress)
    except RefreshError as exc:
        report = full_build(db_path, params, progress)
        report.reason = str(exc)
        return report


def _why_not_one_month(stored: Params | None, params: Params) -> str:
    if stored is None:
        return "the store kept no results"
    if stored == params:
        return (f"the window is still {params.window_start} to {params.window_end} (the "
                "data's last complete month has not changed)")
    if stored.with_(window_start=params.window_start, window_end=params.window_end) != params:
        return "the options changed"
    return (f"the window moves from {stored.window_start} - {stored.window_end} to "
            f"{params.window_start} - {params.window_end}, not by one month")


def table_names() -> tuple[str, ...]:
    """Every table a refresh writes into the store."""
    return (*(f"result_{n}" for n in engine.RESULT_TABLES), "result_params",
            *(f"state_{n}" for n in KEPT_STATE_STEPS), "state_fingerprint")

