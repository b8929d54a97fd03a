"""Build or rebuild the dashboard's database: the default sample on first run, or an upload.

Why here and not in a page: the dashboard must open on a fresh install without a manual
`python -m metrics ingest`, and the Data page's rebuild must do exactly what the CLI does
(write the store beside the old one, swap it in atomically, store the default results).
Progress goes to a callback; the caller draws it (st.progress / st.spinner).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import polars as pl

from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.params import Params, counted_modes
from metrics.pipeline import engine, refresh
from metrics.sample import SampleConfig, generate
from metrics.store import (  # noqa: F401  (DB_ENV, DEFAULT_DB: as the dashboard imports them)
    DB_ENV,
    DEFAULT_DB,
    connect_read_only,
    default_db,
    read_meta,
    write_store,
)
from metrics.store.changes import LoadNeedsConfirmation, load_changes
from metrics.store.previous import previous_path, swap_in
from metrics.store.swap import side_file

Progress = Callable[[str, float], None]

# About 40 practices x 27 months at a tenth of real list sizes: ~0.5M appointments, a few
# seconds to generate and compute, and every index looks as it does at full scale.
DEFAULT_SAMPLE = SampleConfig(scale=0.1)


def db_path() -> Path:
    """The dashboard's database: metrics.store.default_db, as the CLI's."""
    return default_db()


def result_from_tables(tables: dict[str, pl.DataFrame], preset: str,
                       note: str | None = None) -> IngestResult:
    """Canonical frames made in code (the sample, a test's extract) as if ingested: every row
    loaded, nothing rejected; their patient ids are taken as given (national)."""
    report = IngestReport(preset=preset)
    for table, frame in tables.items():
        counts = report.counts[table]
        counts.rows_read = counts.loaded = frame.height
        counts.files = 1
    if note:
        report.notes.append(note)
    return IngestResult(tables=tables, extras={}, rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                        report=report, national_ids=True)


def sample_result(config: SampleConfig = DEFAULT_SAMPLE, progress: Progress | None = None
                  ) -> IngestResult:
    """The synthetic extract as if it had been ingested (nothing rejected)."""
    return result_from_tables(
        generate(config, progress), "synthetic sample",
        f"synthetic sample: seed {config.seed}, {config.practices} practices, "
        f"{config.months} months, scale {config.scale}")


def default_results_params(con: duckdb.DuckDBPyConnection) -> Params:
    """The parameters of a store's default results: the last 24 complete months of its data,
    with mode `unknown` counted as well when the extract recorded no mode (counted_modes)."""
    recorded = read_meta(con).get("modes_recorded", "true") == "true"
    return engine.default_params(engine.DuckDBBackend(con), modes=counted_modes(None, recorded))


def persist_default_results(progress: Progress | None = None
                            ) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The `after_load` step: compute and keep the default results in the store, with the state
    a later incremental refresh needs."""
    def after_load(con: duckdb.DuckDBPyConnection) -> None:
        refresh.persist_with_state(con, default_results_params(con), progress)

    return after_load


def rebuild(result: IngestResult, path: Path, *, append: bool = False,
            progress: Progress | None = None, confirmed: bool | Sequence[str] = False
            ) -> refresh.RefreshReport | None:
    """Write `result` as the new database at `path` (atomic swap) with default results; the
    database it replaces is kept for undo (metrics.store.previous).

    A load that would remove practices, move one to another PCN, sub-ICB or ICB, or move
    patients to another practice (metrics.store.changes) raises LoadNeedsConfirmation, listing them,
    and changes nothing unless `confirmed` is True or exactly the changes the user was shown
    (a page that showed them confirms what it showed, not what another load made of the store
    since).

    Appending to a store that keeps refresh state (a build by this version), the appointments
    go in first, with the store's results and state as they were, and then the results are
    brought forward: incrementally when the data now reaches one month further
    (metrics.pipeline.refresh), otherwise in full. Both happen on a copy that replaces the store
    only when both succeeded. Returns that refresh's report (how, and why not incrementally), or
    None when the results were computed with the load.

    Progress runs forward: the store reports 0.1 and 0.5 while loading, then the results are
    computed (here 0.2 to 0.9), then it reports 0.9 and 1.0 while swapping the file in
    (appending: the store to 0.3, then the refresh)."""
    def store_step(label: str, fraction: float) -> None:
        if progress is not None:
            progress(label, 0.4 * fraction if fraction <= 0.5 else fraction)

    changes = load_changes(result, Path(path), append=append)
    if changes and confirmed is not True and list(confirmed or ()) != changes:
        raise LoadNeedsConfirmation(changes)
    if append and refresh.has_state(path):
        with _staged(Path(path)) as staging:
            write_store(result, staging, append=True, progress=_scaled(progress, 0.0, 0.3),
                        keep_previous=False)
            with contextlib.closing(connect_read_only(staging)) as con:
                params = default_results_params(con)
            report = refresh.refresh_or_rebuild(staging, params, _scaled(progress, 0.3, 0.7))
        if progress is not None:
            progress("results brought forward", 1.0)
        return report
    write_store(result, path, append=append,
                after_load=persist_default_results(_scaled(progress, 0.2, 0.7)),
                progress=store_step)
    return None


@contextlib.contextmanager
def _staged(path: Path) -> Iterator[Path]:
    """A copy of the store to make several changes to; it replaces the store (os.replace, as
    metrics.store does) only when they all succeeded, and goes otherwise."""
    staging = side_file(path, "staged")
    shutil.copyfile(path, staging)
    try:
        yield staging
        swap_in(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def report_lines(report: refresh.RefreshReport | None) -> list[str]:
    """How an append's results were made, for the CLI and the Data page."""
    if report is None:
        return []
    window = f"{report.params.window_start} to {report.params.window_end}"
    seconds = sum(report.seconds.values())
    if report.incremental:
        return [f"results: brought forward one month, incrementally, to {window} "
                f"({report.new_appointments:,} new appointments, {seconds:.1f} s)"]
    return [f"results: computed in full for {window} ({seconds:.1f} s): not incrementally, "
            f"because {report.reason}"]


def ensure_default_store(path: Path | None = None, *, config: SampleConfig = DEFAULT_SAMPLE,
                         progress: Progress | None = None) -> bool:
    """Build the default sample database at `path` when there is none; True if it built one."""
    path = Path(path) if path is not None else db_path()
    if path.exists():
        return False
    result = sample_result(config, _scaled(progress, 0.0, 0.3))
    rebuild(result, path, progress=_scaled(progress, 0.3, 0.7))
    from metrics.sample.gpad import load_into_store  # national context: GPAD of this sample

    load_into_store(result.tables, path)
    previous_path(path).unlink(missing_ok=True)  # a first build has no load to undo
    return True


def _scaled(progress: Progress | None, start: float, span: float) -> Progress | None:
    if progress is None:
        return None
    return lambda label, fraction: progress(label, start + span * min(max(fraction, 0.0), 1.0))


# ---- the Data page's upload: column mapping step --------------------------------------------

MAX_UPLOAD_MB = 200  # per file; .streamlit/config.toml sets the same server-wide limit


def preset_matches(preset: str, table: str, headers: list[str]) -> dict[str, str | None]:
    """For each field of `table`, the header the preset would use (first alias found)."""
    from metrics.mapping import FIELDS, column_key, load_mapping

    tm = load_mapping(preset).table(table)
    keys = {column_key(h): h for h in reversed(headers)}  # first header wins on a clash
    return {name: next((keys[k] for k in tm.aliases(name) if k in keys), None)
            for name in FIELDS[table]}


def mapping_toml(choices: dict[str, dict[str, str]], name: str = "dashboard_upload") -> str:
    """A mapping file (layered on the chosen preset) from the user's column choices:
    {table: {field: source column}}; any header is written as a valid TOML string."""
    from metrics.mapping import FIELDS, toml_string

    lines = [f"name = {toml_string(name)}"]
    for table, fields in choices.items():
        if table not in FIELDS:
            raise ValueError(f"unknown table {table!r}")
        chosen = {f: c for f, c in fields.items() if c}
        if not chosen:
            continue
        lines.append(f"\n[{table}.columns]")
        for field, column in chosen.items():
            if field not in FIELDS[table]:
                raise ValueError(f"{field!r} is not a field of {table}")
            lines.append(f"{field} = {toml_string(column)}")
    return "\n".join(lines) + "\n"


def safe_file_name(name: str, fallback: str = "upload") -> str:
    """An uploaded file's name reduced to letters, digits, dot, dash and underscore."""
    import re

    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:100]
    return cleaned or fallback
