"""Ingest: extract files (CSV, Parquet, XLSX) -> the canonical tables, every row accounted for.

A file's format is decided by its content, never its name. Columns are matched through a
mapping preset (metrics/mapping.py, metrics/presets/*.toml), case- and spacing-insensitively;
extra columns are kept aside in `IngestResult.extras`. Each input row is loaded, merged as a
duplicate, or rejected with file, line (as a spreadsheet shows it: header = line 1), column and
reason; the report's counts add up to the rows read. Blank lines are ignored and counted.

Duplicates: appointments with the same practice_code + appointment_id keep the last row read
(a later export is more current); patients and practices keep the first row, and (national ids)
a patient listed again at a different practice is rejected. Thin exports (no appointment id) get
a derived id: md5 of practice, patient, clinician, date and time, plus the occurrence of that
key within its file, so two genuine same-day visits stay two rows while a row repeated in an
overlapping second export merges. Without a patients file, patients are built from the
appointments: registered where last seen, age band from `age in years`, usual GP from the
optional usual-GP file.

Patient ids: a practice system's ids (EMIS Web, SystmOne) number each practice's patients on
their own, so two practices both have a patient "1". Unless the ids are known to be national
(`national_ids`, never for the emis and systmone presets), each id is stored as
`<practice_code>:<id>` (practice_key), the practice being the patients file's registered practice
or the appointment's practice. Why namespace the stored id rather than key every table on
(practice, patient): the whole SQL pipeline, the refresh state and the store's append keep
keying patients on patient_id alone and stay as they are, while one practice's patient can no
longer be merged with, moved to or overwritten by another practice's patient of the same id.
Derived appointment ids hash the id as exported, so they stay stable across versions.

Everything runs vectorised on polars columns (distinct values for dates and vocabularies), so a
ten-million-row canonical file takes seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from metrics.ingest.columns import _read_table
from metrics.ingest.derived import (
    _apply_usual_gp,
    _checked_practice,
    _fill_patients,
    _patients_from_appointments,
    _practice_row,
)
from metrics.ingest.report import (
    KEYS,
    LOCAL_ID_PRESETS,
    REJECT_SCHEMA,
    ExtractFiles,
    IngestError,
    IngestReport,
    IngestResult,
    PracticeInfo,
    Progress,
    canonical_schema,
    empty_table,
    modes_recorded,
    practice_key,
)
from metrics.ingest.tables import (
    Built,
    _build_appointments,
    _build_patients,
    _build_practices,
    _build_usual_gp,
)
from metrics.mapping import (
    Mapping,
    MappingError,
    TableMapping,
    load_mapping,
)
from metrics.schema import TABLES


def _extras(built: pl.DataFrame, table: str, names: list[str]) -> pl.DataFrame | None:
    cols = [f"x:{n}" for n in names if f"x:{n}" in built.columns]
    if not cols:
        return None
    return built.select(*KEYS[table], *(pl.col(x).alias(x[2:]) for x in cols))


def _finish(built: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = canonical_schema(table)
    return built.select(pl.col(n).cast(t) for n, t in schema.items())


def _count(report: IngestReport, table: str, rows_read: int, built: Built) -> None:
    counts = report.counts[table]
    counts.rows_read += rows_read
    counts.rejected += built.rejects.height
    counts.merged_duplicates += built.merged
    counts.loaded += built.frame.height
    for key, n in built.unknowns.items():
        report.unknown_values[key] = report.unknown_values.get(key, 0) + n


Builder = Callable[[pl.DataFrame, set[str], TableMapping], Built]


def _load_table(path: Path, table: str, build: Builder, mapping: Mapping,
                practice: PracticeInfo | None, report: IngestReport,
                max_bytes: int | None, rejects: list[pl.DataFrame],
                extras: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One patients or practices file: read, built, counted, its rejects and extra columns
    kept aside; the canonical table."""
    frame, present, extra_names = _read_table((path,), table, mapping, practice, report,
                                              max_bytes, None)
    built = build(frame, present, mapping.table(table))
    _count(report, table, frame.height, built)
    rejects.append(built.rejects)
    ex = _extras(built.frame, table, extra_names)
    if ex is not None:
        extras[table] = ex
    return _finish(built.frame, table)


def read_extract(files: ExtractFiles, *, preset: str = "canonical",
                 mapping_file: Path | None = None, practice: PracticeInfo | None = None,
                 progress: Progress | None = None, today: date | None = None,
                 max_bytes: int | None = None, national_ids: bool = False) -> IngestResult:
    """Read, map, check and merge an extract into canonical tables with a full report.
    `national_ids`: the patient ids mean the same person at every practice (module docstring)."""
    today = today or date.today()
    if national_ids and preset in LOCAL_ID_PRESETS:
        raise IngestError(f"the {preset} preset's patient ids are local to each practice: they "
                          "cannot be treated as national ids")
    try:
        mapping = load_mapping(preset, mapping_file)
    except MappingError as exc:
        raise IngestError(str(exc)) from None
    practice = _checked_practice(practice)
    if not files.appointments:
        raise IngestError("no appointments file given: an extract needs at least one")
    report = IngestReport(preset=mapping.name)
    tables: dict[str, pl.DataFrame] = {}
    extras: dict[str, pl.DataFrame] = {}
    rejects: list[pl.DataFrame] = []

    def step(label: str, fraction: float) -> None:
        if progress:
            progress(label, fraction)

    def sub(start: float, span: float) -> Progress:
        return lambda label, f: step(label, start + span * f)

    # appointments
    frame, present, extra_names = _read_table(
        tuple(Path(p) for p in files.appointments), "appointments", mapping, practice, report,
        max_bytes, sub(0.0, 0.4))
    rows_read = frame.height
    if rows_read == 0:
        names = ", ".join(Path(p).name for p in files.appointments)
        raise IngestError(f"{names}: no appointment rows (only a header?): nothing to load")
    tm = mapping.table("appointments")
    appts = _build_appointments(frame, present, tm, today, sub(0.4, 0.3))
    if not national_ids:
        appts.frame = appts.frame.with_columns(
            practice_key(pl.col("practice_code"), pl.col("patient_id")).alias("patient_id"))
    aux = {"age_years", "usual_gp_id", "sex"} & present
    del frame
    _count(report, "appointments", rows_read, appts)
    rejects.append(appts.rejects)
    report.blank_clinicians = int(appts.frame["clinician_id"].null_count())
    ex = _extras(appts.frame, "appointments", extra_names)
    if ex is not None:
        extras["appointments"] = ex
    step("building patients and practices", 0.75)

    # patients
    if files.patients is not None:
        patients = _load_table(Path(files.patients), "patients",
                               partial(_build_patients, national_ids=national_ids), mapping,
                               practice, report, max_bytes, rejects, extras)
        if aux:  # a thin export's age, sex or usual GP fills what the patients file lacks
            patients = _fill_patients(patients, _patients_from_appointments(appts.frame))
    else:
        patients = _patients_from_appointments(appts.frame)
        report.counts["patients"].synthesised = patients.height
        report.notes.append("patients: no patients file, so each patient is registered at the "
                            "practice of their latest appointment (with --append, a patient "
                            "the database already holds stays where it was)")

    # usual GP file
    if files.usual_gp is not None:
        frame, _, _ = _read_table((Path(files.usual_gp),), "usual_gp", mapping, practice,
                                  report, max_bytes, None)
        built = _build_usual_gp(frame)
        codes = patients["practice_code"].unique().drop_nulls().to_list()
        home = practice.practice_code if practice else (codes[0] if len(codes) == 1 else None)
        if not national_ids:  # the file has no practice column: its ids are the home practice's
            if home is None:
                raise IngestError(f"{Path(files.usual_gp).name}: a usual-GP file names no "
                                  "practice, and this load holds several: load one practice's "
                                  "files at a time (or give --practice-code)")
            built.frame = built.frame.with_columns(
                practice_key(pl.lit(home), pl.col("__patient")).alias("__patient"))
        patients, unplaced = _apply_usual_gp(patients, built.frame, home, report)
        placed = built.frame.join(unplaced.select(pl.col("raw_value").alias("__patient")),
                                  on="__patient", how="anti")
        built = Built(placed, pl.concat([built.rejects, unplaced]), built.merged)
        _count(report, "usual_gp", frame.height, built)
        rejects.append(built.rejects)
    tables["patients"] = _finish(patients, "patients")

    # practices
    if files.practices is not None:
        practices = _load_table(Path(files.practices), "practices", _build_practices, mapping,
                                practice, report, max_bytes, rejects, extras)
    else:
        practices = empty_table("practices")
    if practice is not None and practice.practice_code not in practices["practice_code"]:
        practices = pl.concat([practices, _finish(_practice_row(practice), "practices")])
        report.counts["practices"].synthesised += 1
    tables["practices"] = practices
    tables["appointments"] = _finish(appts.frame, "appointments")
    if tables["appointments"].height and not modes_recorded(tables["appointments"]):
        report.notes.append("mode: no appointment records its mode, so the indices count "
                            "mode `unknown` as well (choose modes with --modes)")
    all_rejects = pl.concat([r.select(list(REJECT_SCHEMA)).cast(REJECT_SCHEMA)
                             for r in rejects])
    step("ingest checked", 1.0)
    return IngestResult(tables={t: tables[t] for t in TABLES}, extras=extras,
                        rejects=all_rejects, report=report, national_ids=national_ids)
