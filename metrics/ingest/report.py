"""What an ingest takes and gives: the files, the result, the report of every row, the
error a user reads. Every other ingest module builds on these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from metrics.schema import TABLES

Progress = Callable[[str, float], None]

ID_SEPARATOR = ":"  # practice codes are [A-Z0-9]{6}: the first ":" ends the practice
LOCAL_ID_PRESETS = ("emis", "systmone")  # practice systems: their patient ids are never national

KEYS: dict[str, tuple[str, ...]] = {
    "appointments": ("practice_code", "appointment_id"),
    "patients": ("patient_id",),
    "practices": ("practice_code",),
}
REPORT_TABLES = ("appointments", "patients", "practices", "usual_gp")
REJECT_SCHEMA = {"table": pl.Utf8, "file": pl.Utf8, "line": pl.Int64, "column": pl.Utf8,
                 "reason": pl.Utf8, "raw_value": pl.Utf8}
POLARS_TYPES = {"VARCHAR": pl.Utf8, "DATE": pl.Date, "TIME": pl.Time, "INTEGER": pl.Int32,
                "BOOLEAN": pl.Boolean}


class IngestError(ValueError):
    """An extract that cannot be read: one plain-English line (file, what is wrong, what to do)."""


# ---- the contract ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractFiles:
    appointments: tuple[Path, ...]  # one or several files (overlapping chunks allowed)
    patients: Path | None = None
    practices: Path | None = None
    usual_gp: Path | None = None  # optional "Patient ID, Usual GP" file (thin exports)


@dataclass(frozen=True)
class PracticeInfo:
    """The practice of a thin export, given once by the user."""

    practice_code: str
    practice_name: str
    pcn_code: str | None = None
    pcn_name: str | None = None


@dataclass
class TableCounts:
    rows_read: int = 0  # data rows, blank lines excluded
    loaded: int = 0
    merged_duplicates: int = 0
    rejected: int = 0
    blank_lines: int = 0
    synthesised: int = 0  # rows built from other tables (not read)
    files: int = 0

    def adds_up(self) -> bool:
        return self.rows_read == self.loaded + self.merged_duplicates + self.rejected


COUNT_MEASURES = ("rows_read", "loaded", "merged_duplicates", "rejected", "blank_lines",
                  "synthesised")


@dataclass
class IngestReport:
    """What happened to every row: counts per table, unknown values, defaults, notes."""

    preset: str = "canonical"
    counts: dict[str, TableCounts] = field(
        default_factory=lambda: {t: TableCounts() for t in REPORT_TABLES})
    unknown_values: dict[tuple[str, str, str], int] = field(default_factory=dict)
    defaults_applied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blank_clinicians: int = 0
    source_files: dict[str, list[str]] = field(default_factory=dict)
    default_files: dict[str, list[str]] = field(default_factory=dict)  # "{files}" template

    def add_default(self, template: str, file: str) -> None:
        """Record a default applied to every row of `file`; one line per default, however many
        files (SystmOne chunks) it applies to."""
        files = self.default_files.setdefault(template, [])
        if file not in files:
            files.append(file)
        self.defaults_applied = [t.replace("{files}", ", ".join(f))
                                 for t, f in self.default_files.items()]

    def lines(self) -> list[str]:
        """Human-readable lines, as the CLI prints them."""
        out = [f"preset: {self.preset}"]
        for table, c in self.counts.items():
            if c.files == 0 and c.synthesised == 0:
                continue
            if c.files:
                plural = "file" if c.files == 1 else "files"
                out.append(
                    f"{table}: {c.rows_read:,} rows read from {c.files} {plural} = "
                    f"{c.loaded:,} loaded + {c.merged_duplicates:,} merged duplicates + "
                    f"{c.rejected:,} rejected")
            if c.blank_lines:
                out.append(f"{table}: {c.blank_lines:,} blank lines ignored")
            if c.synthesised:
                out.append(f"{table}: {c.synthesised:,} built from the other files")
        out.extend(f"default: {d}" for d in self.defaults_applied)
        for (table, column, raw), n in sorted(self.unknown_values.items(),
                                              key=lambda kv: (kv[0][0], kv[0][1], -kv[1])):
            became = "time left blank" if column == "appointment_time" else "loaded as unknown"
            out.append(f"unknown value: {table}.{column} {raw!r} in {n:,} "
                       f"{'row' if n == 1 else 'rows'} ({became})")
        if self.counts["appointments"].files:
            out.append(f"blank clinician: {self.blank_clinicians:,} appointments "
                       "(left out of every index)")
        out.extend(f"note: {n}" for n in self.notes)
        return out

    def as_frame(self) -> pl.DataFrame:
        """Counts as rows of (table, measure, value)."""
        rows = [(t, m, getattr(c, m)) for t, c in self.counts.items() for m in COUNT_MEASURES]
        rows.append(("appointments", "blank_clinician", self.blank_clinicians))
        return pl.DataFrame(rows, schema={"table": pl.Utf8, "measure": pl.Utf8,
                                          "value": pl.Int64}, orient="row")

    def unknowns_frame(self) -> pl.DataFrame:
        """Unmapped values as rows of (table, column, raw_value, count)."""
        rows = [(t, c, r, n) for (t, c, r), n in sorted(self.unknown_values.items())]
        return pl.DataFrame(rows, schema={"table": pl.Utf8, "column": pl.Utf8,
                                          "raw_value": pl.Utf8, "count": pl.Int64},
                            orient="row")


@dataclass
class IngestResult:
    tables: dict[str, pl.DataFrame]  # canonical columns, in order, with DuckDB-matching types
    extras: dict[str, pl.DataFrame]  # extra source columns, keyed by the table's key
    rejects: pl.DataFrame  # table, file, line, column, reason, raw_value
    report: IngestReport
    national_ids: bool = False  # False: patient ids are stored as practice_key(practice, id)


def practice_key(practice: pl.Expr, patient: pl.Expr) -> pl.Expr:
    """A practice-local patient id made unique across practices: `<practice>:<id>`."""
    return pl.concat_str([practice, pl.lit(ID_SEPARATOR), patient])


def export_id(patient: pl.Expr, practice: pl.Expr) -> pl.Expr:
    """The id as the practice's export gave it (practice_key undone; national ids unchanged)."""
    return patient.str.strip_prefix(pl.concat_str([practice, pl.lit(ID_SEPARATOR)]))


def modes_recorded(appointments: pl.DataFrame) -> bool:
    """Whether any appointment has a known mode. Thin exports (SystmOne) record none, and the
    default modes would then count nothing: the CLI counts `unknown` too for them."""
    return bool((appointments["mode"] != "unknown").any())


def canonical_schema(table: str) -> dict[str, pl.DataType]:
    return {c.name: POLARS_TYPES[c.sql_type] for c in TABLES[table]}


def empty_table(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=canonical_schema(table))
