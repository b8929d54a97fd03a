"""Extract files written in code: canonical CSVs and practice-export layouts for ingest tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from metrics.ingest import ExtractFiles, IngestResult, PracticeInfo, read_extract

TODAY = date(2025, 1, 1)  # ingest's "today" in tests: later dates are in the future
APPOINTMENT_HEADER = ("appointment_id", "patient_id", "practice_code", "appointment_date",
                      "appointment_time", "clinician_id", "clinician_role", "status", "mode")
PATIENT_HEADER = ("patient_id", "practice_code", "usual_gp_id", "imd_decile", "age_band", "sex")
PRACTICE_HEADER = ("practice_code", "practice_name", "pcn_code", "pcn_name", "sub_icb_code",
                   "icb_code", "list_size", "imd_decile", "personal_lists")


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ",",
             newline: str = "\n") -> str:
    """CSV as a spreadsheet writes it (quotes only where needed)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def appointment(appointment_id: object, patient: str, day: str, clinician: str | None = "GP1",
                *, practice: str = "A81001", at: str = "", role: str = "gp",
                status: str = "attended", mode: str = "face_to_face") -> tuple:
    """One canonical appointments row (text, as in a file)."""
    return (appointment_id, patient, practice, day, at, clinician, role, status, mode)


def canonical(tmp: Path, appointments: Sequence[tuple], patients: Sequence[tuple] | None = None,
              practices: Sequence[tuple] | None = None, name: str = "appointments.csv"
              ) -> ExtractFiles:
    """Canonical CSV files in `tmp`; practices default to A81001 and B82002 in one PCN."""
    if practices is None:
        practices = [("A81001", "Riverside Surgery", "U12345", "Riverside PCN", "00L", "QOP",
                      "8000", "3", "true"),
                     ("B82002", "Hill Practice", "U12345", "Riverside PCN", "00L", "QOP",
                      "12000", "8", "false")]
    return ExtractFiles(
        appointments=(write(tmp / name, csv_text(APPOINTMENT_HEADER, appointments)),),
        patients=(write(tmp / "patients.csv", csv_text(PATIENT_HEADER, patients))
                  if patients is not None else None),
        practices=write(tmp / "practices.csv", csv_text(PRACTICE_HEADER, practices)),
    )


def ingest(files: ExtractFiles, *, preset: str = "canonical", mapping_file: Path | None = None,
           practice: PracticeInfo | None = None, max_bytes: int | None = None,
           national_ids: bool = False) -> IngestResult:
    return read_extract(files, preset=preset, mapping_file=mapping_file, practice=practice,
                        today=TODAY, max_bytes=max_bytes, national_ids=national_ids)


def counts(result: IngestResult, table: str = "appointments") -> tuple[int, int, int, int]:
    """(rows read, loaded, merged duplicates, rejected) of one table."""
    c = result.report.counts[table]
    return (c.rows_read, c.loaded, c.merged_duplicates, c.rejected)


def table_counts(db: Path) -> dict[str, int]:
    """Rows per canonical table of a store, read through a fresh read-only connection."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("appointments", "patients", "practices")}
    finally:
        con.close()
