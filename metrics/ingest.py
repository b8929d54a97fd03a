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

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from metrics import dates
from metrics.engine import query_text
from metrics.mapping import (
    FIELDS,
    Mapping,
    MappingError,
    TableMapping,
    available_presets,
    column_key,
    load_mapping,
    required_fields,
)
from metrics.schema import TABLES

__all__ = ["ExtractFiles", "IngestError", "IngestReport", "IngestResult", "PracticeInfo",
           "available_presets", "read_extract"]

Progress = Callable[[str, float], None]

MIN_DATE = date(2000, 1, 1)
MAX_COLUMNS = 500  # a header wider than this is not an extract
MAX_AGE = 130
MAX_LIST_SIZE = 1_000_000
HEAD_BYTES = 1 << 20  # enough of a file to sniff its format, encoding, delimiter and header
DELIMITERS = (",", ";", "\t", "|")
# openpyxl parses sheet XML at ~16 MB/s holding ~2.3x its size (1 GB of XML: 62 s, 2.3 GB),
# so what an archive says it unpacks to is capped before any parsing: 256 MiB is ~15 s, and
# several times a year of a large practice's appointments.
XLSX_MAX_UNCOMPRESSED = 256 << 20
XLSX_MAX_RATIO = 100  # legitimate sheets compress 5-30x; zip bombs 80x and far more
XLSX_MAX_CELLS = 20_000_000
XLSX_MAX_MEMBERS = 5_000
ODS_PRACTICE = r"^[A-Z][A-Z0-9]{5}$"
PRACTICE_HINT = "an ODS practice code is a letter and 5 letters or digits, e.g. A81001"
# Network codes reach file names, export headers and filters: only ODS shapes are let in.
ODS_PCN = r"^U\d{5}$"
PCN_HINT = "a PCN code is U and 5 digits, e.g. U12345"
ODS_SUB_ICB = r"^[A-Z0-9]{3}([A-Z0-9]{2})?$"
SUB_ICB_HINT = "a sub-ICB location code is 3 or 5 letters or digits, e.g. 00L"
ODS_ICB = r"^Q[A-Z0-9]{2}$"
ICB_HINT = "an ICB code is Q and 2 letters or digits, e.g. QOP"
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


# ---- reading one file into text columns ------------------------------------------------------


@dataclass
class RawFile:
    """One file as text: columns c0..cN (header order), __line (Int64), __over (Utf8)."""

    name: str
    headers: list[str]
    frame: pl.DataFrame


def _fail(path: Path, problem: str) -> IngestError:
    return IngestError(f"{path.name}: {problem}")


MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x7fELF", "a program"), (b"MZ\x90\x00", "a Windows program"),
)


def sniff_format(path: Path, head: bytes) -> str:
    """'csv', 'parquet' or 'xlsx' from the first bytes; anything else is an IngestError."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if len(head) >= 12 and head[8:12] == b"DUCK":
        raise _fail(path, "is a DuckDB database, not an extract: export it to CSV first")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(path, "is an old-style Excel (.xls) or password-protected Office file: "
                          "save it as CSV, or as .xlsx without a password")
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise _fail(path, f"is {what}, not a CSV, Parquet or XLSX extract")
    return "csv"


def _open_head(path: Path, max_bytes: int | None) -> tuple[bytes, int]:
    try:
        if not path.exists():
            raise _fail(path, f"file not found ({path})")
        if path.is_dir():
            raise _fail(path, "is a folder, not a file")
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise _fail(path, f"is {_size(size)}, over the {_size(max_bytes)} limit for one file")
        with path.open("rb") as fh:
            return fh.read(HEAD_BYTES), size
    except PermissionError:
        raise _fail(path, "cannot be opened (permission denied)") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def read_raw(path: Path, *, max_bytes: int | None = None) -> RawFile:
    """Any accepted file as text columns; format by content."""
    path = Path(path)
    head, size = _open_head(path, max_bytes)
    if size == 0 or not head.strip():
        raise _fail(path, "is empty: export the report again with its header row")
    kind = sniff_format(path, head)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "xlsx":
        return _read_xlsx(path, max_bytes)
    return _read_csv(path, head, size)


# CSV


def _looks_binary(head: bytes) -> bool:
    sample = head[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 100)


def _decode_head(head: bytes, complete: bool) -> tuple[str, bool]:
    """Text of the head and whether the file is UTF-8 (else cp1252/latin-1)."""
    try:
        return head.decode("utf-8-sig"), True
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 4:  # a character cut at the chunk end
            try:
                return head[: exc.start].decode("utf-8-sig"), True
            except UnicodeDecodeError:
                pass
    return _legacy_decode(head), False


def _legacy_decode(data: bytes) -> str:
    """Windows-1252 (what Excel writes in the UK), falling back to latin-1 byte for byte."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _legacy_file(path: Path) -> bytes:
    """A whole file that is not UTF-8, as UTF-8 from Windows-1252, refusing a mix: if some lines
    are UTF-8 and others not, decoding all as Windows-1252 would turn `Dr Müller` on the UTF-8
    lines into `Dr MÃ¼ller` and count one clinician as two, silently. Refused rather than
    warned: the figures would be wrong whatever the warning said, and saving again fixes it."""
    data = path.read_bytes()
    utf8_line = legacy_line = None
    for match in re.finditer(rb"[^\n]*[\x80-\xff][^\n]*", data):
        try:
            match.group().decode("utf-8")
        except UnicodeDecodeError:
            legacy_line = legacy_line or data.count(b"\n", 0, match.start()) + 1
        else:
            utf8_line = utf8_line or data.count(b"\n", 0, match.start()) + 1
        if utf8_line and legacy_line:
            raise _fail(path, f"mixes text encodings (line {utf8_line} is UTF-8, line "
                              f"{legacy_line} is Windows-1252 or Latin-1), so names would be "
                              "misread: save the whole file again as CSV UTF-8")
    return _legacy_decode(data).encode("utf-8")


def _sniff_delimiter(first_line: str) -> str:
    """The candidate delimiter found most often outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: order of DELIMITERS
    return best if counts[best] else ","


def _header(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"')
    try:
        return next(reader)
    except (StopIteration, csv.Error):
        return []


def _read_csv(path: Path, head: bytes, size: int) -> RawFile:
    complete = size <= len(head)
    source: Path | io.BytesIO = path
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text": UTF-16
        try:
            text = path.read_bytes().decode("utf-16")
        except UnicodeDecodeError:
            raise _fail(path, "starts like UTF-16 text but is not readable as it") from None
        source = io.BytesIO(text.encode("utf-8"))
        head_text, utf8 = text[:HEAD_BYTES], True
    else:
        if _looks_binary(head):
            raise _fail(path, "is binary data, not a CSV, Parquet or XLSX extract")
        head_text, utf8 = _decode_head(head, complete)
    if "\n" not in head_text and "\r" in head_text:  # classic Mac line endings
        data = path.read_bytes() if isinstance(source, Path) else source.getvalue()
        source = io.BytesIO(data.replace(b"\r", b"\n"))
        head_text = head_text.replace("\r", "\n")
    if "\n" not in head_text and not complete:
        raise _fail(path, "has a first line longer than 1 MB: it is not a CSV extract")
    first_line = head_text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    headers = _header(head_text.lstrip("\ufeff"), delimiter)
    _check_headers(path, headers)
    schema = {f"c{i}": pl.Utf8 for i in range(len(headers))} | {"__over": pl.Utf8}

    def scan(src: Path | io.BytesIO) -> pl.DataFrame:
        if isinstance(src, io.BytesIO):
            src.seek(0)
        return pl.read_csv(
            src, has_header=False, skip_rows=1, separator=delimiter, quote_char='"',
            schema=schema, truncate_ragged_lines=True, missing_columns="insert",
            extra_columns="ignore", row_index_name="__line", row_index_offset=2,
            raise_if_empty=False)

    try:
        if not utf8 and isinstance(source, Path):
            source = io.BytesIO(_legacy_file(path))
        try:
            frame = scan(source)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower() or not isinstance(source, Path):
                raise
            frame = scan(io.BytesIO(_legacy_file(path)))
    except IngestError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        named = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
        raise _fail(path, f"could not be read as a {named}-separated file "
                          f"({_csv_problem(exc)})") from None
    frame = frame.with_columns(pl.col("__line").cast(pl.Int64))
    return RawFile(path.name, headers, frame)


def _csv_problem(exc: BaseException) -> str:
    """The reader's complaint in a practice manager's words (its first line is about dtypes)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    unclosed = re.match(r'^could not parse `"(.{0,40})', first)
    if unclosed:
        return (f'a quote is opened before "{unclosed.group(1)}" and never closed: '
                "check the quotes in that field, or save the file again from the spreadsheet")
    return first


def _check_headers(path: Path, headers: list[str]) -> None:
    if not headers or not any(h.strip() for h in headers):
        raise _fail(path, "has no header row: the first line must name the columns")
    if len(headers) > MAX_COLUMNS:
        raise _fail(path, f"has {len(headers):,} columns in its header, more than the "
                          f"{MAX_COLUMNS} an extract can have: is this the right file?")


# Parquet


def _as_text(series: pl.Series) -> pl.Series:
    dtype = series.dtype
    if dtype == pl.Utf8:
        return series
    if dtype == pl.Date:
        return series.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return series.dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype == pl.Time:
        return series.dt.strftime("%H:%M:%S")
    if dtype == pl.Boolean:
        return series.replace_strict([True, False], ["true", "false"], default=None,
                                     return_dtype=pl.Utf8)
    if dtype.is_numeric() or dtype in (pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
        return series.cast(pl.Utf8)
    raise ValueError(f"column {series.name!r} holds {dtype} values, which are not text, "
                     "numbers or dates")


def _read_parquet(path: Path) -> RawFile:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise _fail(path, f"looks like Parquet but could not be read ({first})") from None
    headers = list(frame.columns)
    _check_headers(path, headers)
    try:
        columns = [_as_text(frame.to_series(i)).alias(f"c{i}") for i in range(len(headers))]
    except ValueError as exc:
        raise _fail(path, str(exc)) from None
    text = pl.DataFrame(columns) if columns else pl.DataFrame()
    text = text.with_columns(
        pl.int_range(2, text.height + 2, dtype=pl.Int64).alias("__line"),
        pl.lit(None, dtype=pl.Utf8).alias("__over"))
    return RawFile(path.name, headers, text)


# XLSX


def _check_zip(path: Path, max_bytes: int | None) -> None:
    """Refuse zip bombs before any XML is parsed: member count, sizes and ratios."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            xml_heads = [zf.open(i).read(4096) for i in infos[:XLSX_MAX_MEMBERS]
                         if i.filename.endswith(".xml") and i.filename.startswith("xl/")]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        raise _fail(path, "is a damaged zip/XLSX file") from None
    if any(b"<!DOCTYPE" in head or b"<!ENTITY" in head for head in xml_heads):
        raise _fail(path, "declares XML entities (Excel never does): refused as unsafe; save "
                          "the sheet as CSV instead")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _fail(path, "is a zip archive, not an Excel workbook: unzip it or save the sheet "
                          "as CSV")
    if len(infos) > XLSX_MAX_MEMBERS:
        raise _fail(path, f"is a workbook of {len(infos):,} parts: refused as unsafe")
    total = sum(i.file_size for i in infos)
    limit = XLSX_MAX_UNCOMPRESSED if max_bytes is None else min(XLSX_MAX_UNCOMPRESSED,
                                                                  max(max_bytes * 50, 1 << 24))
    if total > limit:
        raise _fail(path, f"unpacks to {_size(total)}, over the {_size(limit)} limit: refused as "
                          "unsafe (a zip bomb?); save the sheet as CSV instead")
    whole = total // max(sum(i.compress_size for i in infos), 1)
    if total > (1 << 20) and whole > XLSX_MAX_RATIO:
        raise _fail(path, f"is compressed {whole:,} times, over the limit of {XLSX_MAX_RATIO}: "
                          "refused as unsafe (a zip bomb?); save the sheet as CSV instead")
    for info in infos:
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > (1 << 20) and ratio > XLSX_MAX_RATIO:
            raise _fail(path, f"has a part compressed {ratio:,} times, over the limit of "
                              f"{XLSX_MAX_RATIO}: refused as unsafe (a zip bomb?); save the "
                              "sheet as CSV instead")


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() else None


def _read_xlsx(path: Path, max_bytes: int | None) -> RawFile:
    _check_zip(path, max_bytes)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on malformed parts
        raise _fail(path, f"could not be opened as an Excel workbook ({type(exc).__name__})"
                    ) from None
    try:
        if not workbook.worksheets:
            raise _fail(path, "has no worksheet")
        sheet = workbook.worksheets[0]
        rows_hint, cols_hint = sheet.max_row or 0, sheet.max_column or 0
        if cols_hint > MAX_COLUMNS and rows_hint > 1:
            raise _fail(path, f"declares {cols_hint:,} columns, more than the {MAX_COLUMNS} an "
                              "extract can have: refused")
        if rows_hint * max(cols_hint, 1) > XLSX_MAX_CELLS:
            raise _fail(path, f"declares {rows_hint:,} rows x {cols_hint:,} columns, over the "
                              f"{XLSX_MAX_CELLS:,} cell limit: save it as CSV instead")
        headers, columns, lines, over = _sheet_rows(path, sheet)
    except IngestError:
        raise
    except Exception as exc:  # malformed sheet XML
        raise _fail(path, f"has a sheet that could not be read ({type(exc).__name__})") from None
    finally:
        workbook.close()
    data = {f"c{i}": pl.Series(col, dtype=pl.Utf8) for i, col in enumerate(columns)}
    frame = pl.DataFrame(data | {"__line": pl.Series(lines, dtype=pl.Int64),
                                 "__over": pl.Series(over, dtype=pl.Utf8)})
    return RawFile(path.name, headers, frame)


def _sheet_rows(path: Path, sheet) -> tuple[list[str], list[list], list[int], list]:  # noqa: ANN001
    headers: list[str] | None = None
    columns: list[list[str | None]] = []
    lines: list[int] = []
    over: list[str | None] = []
    cells = 0
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        wide = len(row) > MAX_COLUMNS * 4
        if wide and headers is None and any(v is not None for v in row[MAX_COLUMNS * 4:]):
            raise _fail(path, f"has a header row of {len(row):,} cells: refused")
        values = [_cell_text(v) for v in row[: MAX_COLUMNS * 4]]
        if headers is None:
            if not any(values):
                continue
            while values and values[-1] is None:
                values.pop()
            headers = [v or "" for v in values]
            _check_headers(path, headers)
            columns = [[] for _ in headers]
            continue
        cells += len(row)
        if cells > XLSX_MAX_CELLS:
            raise _fail(path, f"has more than {XLSX_MAX_CELLS:,} cells: save it as CSV instead")
        n = len(headers)
        for i in range(n):
            columns[i].append(values[i] if i < len(values) else None)
        extra = next((v for v in values[n:] if v is not None), None)
        over.append(extra)
        lines.append(number)
    if headers is None:
        raise _fail(path, "has an empty first sheet")
    return headers, columns, lines, over


# ---- columns: matching a raw file onto a table's fields ------------------------------------


@dataclass
class MappedFile:
    name: str
    number: int
    frame: pl.DataFrame  # fields (Utf8) + x:<extra> + __file, __file_no, __line, __over
    present: set[str]  # fields found as columns
    extras: list[str]


def _match_columns(raw: RawFile, table: str, tm: TableMapping) -> tuple[dict[str, int],
                                                                        dict[int, str]]:
    keys = [column_key(h) for h in raw.headers]
    used: dict[str, int] = {}
    taken: set[int] = set()
    for name in FIELDS[table]:
        for alias in tm.aliases(name):
            idx = next((i for i, k in enumerate(keys) if k == alias and i not in taken), None)
            if idx is not None:
                used[name] = idx
                taken.add(idx)
                break
    extras: dict[int, str] = {}
    seen = set(FIELDS[table])
    for i, key in enumerate(keys):
        if i in taken:
            continue
        base = key or f"column_{i + 1}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        extras[i] = name
    return used, extras


def _map_file(raw: RawFile, number: int, table: str, tm: TableMapping, mapping: Mapping,
              practice: PracticeInfo | None, report: IngestReport) -> MappedFile:
    used, extras = _match_columns(raw, table, tm)
    optional = set(tm.defaults)
    if table == "appointments" and tm.options.get("derive_appointment_id"):
        optional.add("appointment_id")
    if practice is not None:
        optional.add("practice_code")
    missing = [f for f in required_fields(table) if f not in used and f not in optional]
    if missing:
        shown = ", ".join(repr(h) for h in raw.headers[:25])
        more = f" and {len(raw.headers) - 25} more" if len(raw.headers) > 25 else ""
        hint = ("; give the practice code and name for a thin export"
                if missing == ["practice_code"] else "")
        raise IngestError(
            f"{raw.name}: the {table.replace('_', ' ')} file has no column for "
            f"{', '.join(missing)} (columns found: {shown}{more}); check the preset "
            f"({mapping.name}) or rename columns with a mapping file{hint}")
    frame = raw.frame
    exprs: list[pl.Expr] = [pl.col(f"c{i}").alias(name) for name, i in used.items()]
    exprs += [pl.col(f"c{i}").alias(f"x:{name}") for i, name in extras.items()]
    for name, value in tm.defaults.items():
        if name not in used:
            exprs.append(pl.lit(value, dtype=pl.Utf8).alias(name))
            report.add_default(f"{table}.{name} = {value!r} for every row of {{files}} "
                               f"(no {name} column)", raw.name)
    if "practice_code" in FIELDS[table] and "practice_code" not in used and practice:
        exprs.append(pl.lit(practice.practice_code, dtype=pl.Utf8).alias("practice_code"))
        report.add_default(f"{table}.practice_code = {practice.practice_code!r} for every row "
                           "of {files} (given for the practice)", raw.name)
    if table == "appointments":
        exprs.append(pl.lit("appointment_id" not in used).alias("__derive"))
    if table == "appointments" and "appointment_id" not in used:
        report.add_default("appointments.appointment_id derived for {files} from practice, "
                           "patient, clinician, date and time", raw.name)
    data_cols = [f"c{i}" for i in range(len(raw.headers))]
    blank = pl.all_horizontal(pl.col(c).is_null() for c in data_cols) & pl.col("__over").is_null()
    n_blank = int(frame.select(blank.sum()).item()) if data_cols else 0
    if n_blank:
        frame = frame.filter(~blank)
    report.counts[table].blank_lines += n_blank
    out = frame.select(
        *exprs,
        pl.lit(raw.name, dtype=pl.Utf8).alias("__file"),
        pl.lit(number, dtype=pl.Int32).alias("__file_no"),
        pl.col("__line"), pl.col("__over"))
    present = set(used) | {n for n in tm.defaults if n not in used}
    return MappedFile(raw.name, number, out, present, list(extras.values()))


def _read_table(paths: tuple[Path, ...], table: str, mapping: Mapping,
                practice: PracticeInfo | None, report: IngestReport, max_bytes: int | None,
                progress: Progress | None) -> tuple[pl.DataFrame, set[str], list[str]]:
    """All files of one table, mapped and stacked; the fields found in any of them."""
    tm = mapping.table(table)
    mapped: list[MappedFile] = []
    for i, path in enumerate(paths):
        if progress:
            progress(f"reading {Path(path).name}", i / max(len(paths), 1))
        raw = read_raw(Path(path), max_bytes=max_bytes)
        mapped.append(_map_file(raw, i, table, tm, mapping, practice, report))
    report.counts[table].files += len(paths)
    report.source_files[table] = [str(p) for p in paths]
    present = set.union(*(m.present for m in mapped))  # in at least one file
    extras = list(dict.fromkeys(e for m in mapped for e in m.extras))
    # One chunk per column, copied now while only the raw text is held. The checks add columns
    # of one chunk each, and polars copies a whole frame whose columns are chunked differently
    # (the CSV reader makes hundreds of chunks) at each such step: 4.9 GB -> 3.5 GB at 10M rows.
    frame = pl.concat([m.frame for m in mapped], how="diagonal_relaxed").rechunk()
    for name in FIELDS[table]:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(name))
    return frame, present, extras


# ---- values ------------------------------------------------------------------------------


def _blank_to_null(col: pl.Expr) -> pl.Expr:
    return pl.when(col.str.len_bytes() > 0).then(col)


def _tidy_expr(col: pl.Expr) -> pl.Expr:
    return _blank_to_null(col.str.strip_chars().str.replace_all(r"\s+", " "))


def _code_expr(col: pl.Expr) -> pl.Expr:
    return _blank_to_null(col.str.strip_chars().str.to_uppercase())


def _on_distinct(values: pl.Series, expr: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """Apply a text expression once per distinct value (names and codes repeat a lot)."""
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return values
    mapped = pl.DataFrame({"v": distinct}).select(expr(pl.col("v")))["v"]
    if mapped.eq_missing(distinct).all():  # already tidy: share the column, copy nothing
        return values
    return values.replace_strict(distinct, mapped, default=None, return_dtype=pl.Utf8)


def tidy_text(values: pl.Series) -> pl.Series:
    """Trimmed text, runs of white space as one space; blank -> null (names, clinicians)."""
    return _on_distinct(values, _tidy_expr)


def tidy_code(values: pl.Series) -> pl.Series:
    """Trimmed upper-case code; blank -> null (practice, PCN, ICB codes)."""
    return _on_distinct(values, _code_expr)


def tidy_id(values: pl.Series) -> pl.Series:
    """Trimmed id; blank -> null; digits grouped with spaces (NHS numbers, SystmOne ids) lose
    the spaces, so `943 476 5919` and `9434765919` are one patient."""
    return _on_distinct(values, _id_expr).alias(values.name)


def _id_expr(col: pl.Expr) -> pl.Expr:
    text = col.str.strip_chars()
    grouped = text.str.contains(r"^[0-9][0-9 ]*$")
    return _blank_to_null(pl.when(grouped).then(text.str.replace_all(" ", "", literal=True))
                          .otherwise(text))


def tidy_unique_id(values: pl.Series) -> pl.Series:
    """Trimmed id; blank -> null: for ids that are mostly distinct (appointment ids), where a
    per-distinct-value pass would cost more than it saves; already-tidy ids are shared as they
    are, not copied (10 million ids are about 400 MB of text)."""
    if not (values.str.contains(r"^\s|\s$") | (values.str.len_bytes() == 0)).any():
        return values
    return values.to_frame("v").select(_blank_to_null(pl.col("v").str.strip_chars()))["v"]


def _whole_number(col: pl.Expr) -> pl.Expr:
    """Text -> Int64 for whole numbers (3, 3.0, 1,234, -2); too long or not whole -> null."""
    text = col.str.strip_chars().str.replace_all(r"[,\s]", "")
    ok = text.str.contains(r"^[+-]?\d{1,12}(\.0+)?$")
    return pl.when(ok).then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))


def map_vocabulary(values: pl.Series, table: str, name: str, tm: TableMapping,
                   fallback: str | None) -> tuple[pl.Series, list[str]]:
    """Raw values -> canonical codes (unmatched -> fallback), and the distinct raw values that
    matched nothing ("" for blank). Exact value map first, then `contains` fragments in order."""
    exact = tm.value_map(table, name)
    fragments = tm.contains.get(name, ())
    text = values.fill_null("")
    distinct = text.unique()
    frame = pl.DataFrame({"raw": distinct})
    k = pl.col("raw").str.to_lowercase().str.replace_all(r"[\s_\-]+", " ").str.strip_chars()
    exact_code = k.replace_strict(list(exact), list(exact.values()), default=None,
                                  return_dtype=pl.Utf8)
    partial = [pl.when(k.str.contains(f, literal=True)).then(pl.lit(code))
               for f, code in fragments]
    coded = frame.with_columns(pl.coalesce(exact_code, *partial).alias("code"))
    unmatched = coded.filter(pl.col("code").is_null())["raw"].to_list()
    codes = coded["code"].fill_null(fallback) if fallback is not None else coded["code"]
    mapped = text.replace_strict(distinct, codes, default=None, return_dtype=pl.Utf8)
    return mapped.alias(name), unmatched


def age_band(age: pl.Expr) -> pl.Expr:
    """Age in whole years -> the canonical age band."""
    return (pl.when(age.is_null()).then(None)
            .when(age < 5).then(pl.lit("0-4"))
            .when(age < 18).then(pl.lit("5-17"))
            .when(age < 40).then(pl.lit("18-39"))
            .when(age < 65).then(pl.lit("40-64"))
            .when(age < 75).then(pl.lit("65-74"))
            .otherwise(pl.lit("75+")))


# ---- checks -> rejects -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    column: str
    reason: str
    failed: pl.Expr  # true where the row is rejected for this reason
    raw: pl.Expr


def _apply_checks(frame: pl.DataFrame, table: str, checks: list[Check]
                  ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows into (kept, rejects); a row's reason is the first check it fails."""
    first = pl.coalesce([pl.when(c.failed).then(pl.lit(i, dtype=pl.Int16))
                         for i, c in enumerate(checks)]).alias("__check")
    tagged = frame.with_columns(first)
    failed = pl.col("__check").is_not_null()
    bad = tagged.filter(failed)
    kept = tagged.filter(~failed).drop("__check") if bad.height else frame
    index = list(range(len(checks)))
    check = pl.col("__check")
    rejects = bad.select(
        pl.lit(table).alias("table"), pl.col("__file").alias("file"),
        pl.col("__line").cast(pl.Int64).alias("line"),
        check.replace_strict(index, [c.column for c in checks], return_dtype=pl.Utf8
                             ).alias("column"),
        check.replace_strict(index, [c.reason for c in checks], return_dtype=pl.Utf8
                             ).alias("reason"),
        pl.coalesce([pl.when(check == i).then(c.raw.cast(pl.Utf8)) for i, c in
                     enumerate(checks)]).alias("raw_value"))
    return kept, rejects


def _over_check() -> Check:
    return Check("(row)", "more fields than the header has columns (a stray delimiter or "
                 "an unclosed quote?)", pl.col("__over").is_not_null(), pl.col("__over"))


def _required(name: str, raw: pl.Expr, clean: pl.Expr) -> Check:
    return Check(name, f"missing {name}", clean.is_null(), raw)


def _practice_checks(raw: pl.Expr, clean: pl.Expr) -> list[Check]:
    return [_required("practice_code", raw, clean),
            Check("practice_code", f"not a practice code: {PRACTICE_HINT}",
                  ~clean.str.contains(ODS_PRACTICE), raw)]


def _code_check(name: str, raw: pl.Expr, clean: pl.Expr, pattern: str, hint: str) -> Check:
    """A given code of the wrong shape (a blank one is the required check's business)."""
    return Check(name, f"{name} is not an ODS code: {hint}",
                 clean.is_not_null() & ~clean.str.contains(pattern), raw)


def _number_checks(name: str, raw: pl.Expr, low: int, high: int, what: str) -> list[Check]:
    given = raw.is_not_null() & (raw.str.strip_chars() != "")
    value = _whole_number(raw)
    return [
        Check(name, f"{name} is not a whole number", given & value.is_null(), raw),
        Check(name, f"{name} is below {low} ({what})", given & (value < low), raw),
        Check(name, f"{name} is above {high:,} ({what})", given & (value > high), raw),
    ]


def _date_checks(name: str, raw: pl.Expr, parsed: pl.Expr, today: date) -> list[Check]:
    return [
        _required(name, raw, _blank_to_null(raw.str.strip_chars())),
        Check(name, "unreadable date (expected e.g. 2024-03-01, 01/03/2024 or 01-Mar-2024)",
              parsed.is_null(), raw),
        Check(name, f"date in the future (after {today.isoformat()})", parsed > today, raw),
        Check(name, f"date before {MIN_DATE.isoformat()}", parsed < MIN_DATE, raw),
    ]


# ---- tables ------------------------------------------------------------------------------


@dataclass
class Built:
    """One table after normalising, checking and merging duplicates."""

    frame: pl.DataFrame  # canonical columns + internal columns (__file, __line, x:...)
    rejects: pl.DataFrame
    merged: int
    unknowns: dict[tuple[str, str, str], int] = field(default_factory=dict)


def _unknown_counts(raw: pl.Series, table: str, name: str, unmatched: list[str], *,
                    skip_blank: bool = False) -> dict[tuple[str, str, str], int]:
    """Rows per raw value that mapped to nothing (blank optional values are not unknown)."""
    wanted = [u for u in unmatched if u.strip()] if skip_blank else unmatched
    if not wanted:
        return {}
    text = raw.fill_null("")
    counts = text.filter(text.is_in(wanted)).value_counts(sort=True, name="n")
    return {(table, name, value if value.strip() else "(blank)"): n
            for value, n in counts.iter_rows()}


def _with_vocab(frame: pl.DataFrame, table: str, names: list[str], tm: TableMapping,
                fallbacks: dict[str, str | None]) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Map vocabulary columns in place, keeping the raw text as `__raw:<name>`."""
    unmatched: dict[str, list[str]] = {}
    for name in names:
        mapped, unmatched[name] = map_vocabulary(frame[name], table, name, tm, fallbacks[name])
        frame = frame.with_columns(frame[name].alias(f"__raw:{name}"), mapped)
    return frame, unmatched


def _count_unknowns(frame: pl.DataFrame, table: str, unmatched: dict[str, list[str]],
                    present: set[str], *, skip_blank: bool) -> dict[tuple[str, str, str], int]:
    out: dict[tuple[str, str, str], int] = {}
    for name, values in unmatched.items():
        if name in present:
            out |= _unknown_counts(frame[f"__raw:{name}"], table, name, values,
                                   skip_blank=skip_blank)
    return out


def _dedupe(frame: pl.DataFrame, key: list[str], keep: str) -> pl.DataFrame:
    """Rows unique on `key`; skips the exact pass when a hash shows every key is distinct."""
    hashed = frame.select(pl.struct(key).hash(seed=7).n_unique()).item()
    if hashed == frame.height:
        return frame
    return frame.unique(subset=key, keep=keep, maintain_order=True)  # type: ignore[arg-type]


def _derive_ids(frame: pl.DataFrame) -> pl.Series:
    """Stable ids for thin exports: md5 of the visit's key + its occurrence within its file."""
    key = pl.concat_str(
        [pl.col("practice_code"), pl.col("patient_id"), pl.col("clinician_id").fill_null(""),
         pl.col("appointment_date").dt.strftime("%Y-%m-%d"),
         pl.col("appointment_time").dt.strftime("%H:%M:%S").fill_null("")],
        separator="\x1f")
    keyed = frame.select(key.alias("k"), pl.col("__file_no"))
    keyed = keyed.with_columns(
        (pl.int_range(pl.len()).over(["k", "__file_no"]) + 1).alias("occ"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"))
    con = duckdb.connect()
    try:
        con.register("keyed", keyed.select("i", "k"))
        digest = con.sql(query_text("ingest_derived_ids")).pl()
    finally:
        con.close()
    return (digest["h"] + "-" + keyed["occ"].cast(pl.Utf8)).alias("appointment_id")


def _build_appointments(frame: pl.DataFrame, present: set[str], tm: TableMapping,
                        today: date, progress: Progress | None) -> Built:
    c = pl.col
    if progress:
        progress("checking appointments", 0.3)
    frame = frame.with_columns(
        dates.parse_dates(frame["appointment_date"]).alias("__date"),
        dates.parse_times(frame["appointment_time"]).alias("__time"),
        tidy_unique_id(frame["appointment_id"]).alias("__id"),
        tidy_id(frame["patient_id"]).alias("__patient"),
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["clinician_id"]).alias("__clinician"),
        tidy_text(frame["usual_gp_id"]).alias("__usual_gp"),
    )
    if "age_years" in present:
        frame = frame.with_columns(_whole_number(c("age_years")).alias("__age"))
    checks = [_over_check(),
              Check("appointment_id", "missing appointment_id",
                    ~c("__derive") & c("__id").is_null(), c("appointment_id")),
              _required("patient_id", c("patient_id"), c("__patient")),
              *_practice_checks(c("practice_code"), c("__practice")),
              *_date_checks("appointment_date", c("appointment_date"), c("__date"), today)]
    if "age_years" in present:
        checks += _number_checks("age_years", c("age_years"), 0, MAX_AGE, "age in years")
    kept, rejects = _apply_checks(frame, "appointments", checks)
    del frame
    if progress:
        progress("normalising appointments", 0.6)
    vocab = ["clinician_role", "status", "mode"] + (["sex"] if "sex" in present else [])
    kept, unmatched = _with_vocab(kept, "appointments", vocab, tm, dict.fromkeys(vocab,
                                                                                "unknown"))
    kept = kept.with_columns(
        c("appointment_time").alias("__raw:appointment_time"),
        c("__patient").alias("patient_id"), c("__practice").alias("practice_code"),
        c("__date").alias("appointment_date"), c("__time").alias("appointment_time"),
        c("__clinician").alias("clinician_id"), c("__id").alias("appointment_id"),
    )
    if kept["__derive"].any():
        kept = kept.with_columns(
            pl.when(c("__derive")).then(_derive_ids(kept)).otherwise(c("appointment_id"))
            .alias("appointment_id"))
    if progress:
        progress("merging duplicate appointments", 0.8)
    before = kept.height
    kept = _dedupe(kept, ["practice_code", "appointment_id"], "last")
    merged = before - kept.height
    unknowns = _count_unknowns(kept, "appointments", unmatched, present, skip_blank=False)
    bad_time = kept["__raw:appointment_time"].is_not_null() & kept["appointment_time"].is_null()
    if bad_time.any():
        raw_time = kept["__raw:appointment_time"]
        unknowns |= _unknown_counts(raw_time, "appointments", "appointment_time",
                                    raw_time.filter(bad_time).unique().to_list(),
                                    skip_blank=True)
    return Built(kept, rejects, merged, unknowns)


def _build_patients(frame: pl.DataFrame, present: set[str], tm: TableMapping, *,
                    national_ids: bool = False) -> Built:
    c = pl.col
    frame = frame.with_columns(
        tidy_id(frame["patient_id"]).alias("__patient"),
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["usual_gp_id"]).alias("__usual_gp"),
        _whole_number(c("imd_decile")).alias("__imd"),
        _whole_number(c("age_years")).alias("__age"),
    )
    checks = [_over_check(), _required("patient_id", c("patient_id"), c("__patient")),
              *_practice_checks(c("practice_code"), c("__practice")),
              *_number_checks("imd_decile", c("imd_decile"), 1, 10, "IMD deciles run 1 to 10")]
    if "age_years" in present:
        checks += _number_checks("age_years", c("age_years"), 0, MAX_AGE, "age in years")
    kept, rejects = _apply_checks(frame, "patients", checks)
    if not national_ids:  # local ids: the same id at another practice is another patient
        kept = kept.with_columns(practice_key(c("__practice"), c("__patient")).alias("__patient"))
    # one practice per patient: the first row decides; rows elsewhere are rejected
    kept = kept.with_columns(
        c("__practice").first().over("__patient").alias("__first_practice"),
        c("__line").first().over("__patient").alias("__first_line"),
        c("__file").first().over("__patient").alias("__first_file"))
    conflict = c("__practice") != c("__first_practice")
    clash = kept.filter(conflict).select(
        pl.lit("patients").alias("table"), c("__file").alias("file"),
        c("__line").alias("line"), pl.lit("practice_code").alias("column"),
        pl.format("patient listed at another practice ({}) on line {} of {}",
                  c("__first_practice"), c("__first_line"), c("__first_file")).alias("reason"),
        c("practice_code").alias("raw_value"))
    kept = kept.filter(~conflict)
    before = kept.height
    kept = _dedupe(kept, ["__patient"], "first")
    merged = before - kept.height
    kept, unmatched = _with_vocab(kept, "patients", ["age_band", "sex"], tm,
                                  {"age_band": None, "sex": "unknown"})
    kept = kept.with_columns(
        c("__patient").alias("patient_id"), c("__practice").alias("practice_code"),
        c("__usual_gp").alias("usual_gp_id"), c("__imd").cast(pl.Int32).alias("imd_decile"),
        pl.coalesce(c("age_band"), age_band(c("__age"))).alias("age_band"),
        pl.when(c("__raw:sex").is_null()).then(None).otherwise(c("sex")).alias("sex"))
    unknowns = _count_unknowns(kept, "patients", unmatched, present, skip_blank=True)
    return Built(kept, pl.concat([rejects, clash]), merged, unknowns)


def _build_practices(frame: pl.DataFrame, present: set[str], tm: TableMapping) -> Built:
    c = pl.col
    frame = frame.with_columns(
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["practice_name"]).alias("__name"),
        tidy_code(frame["pcn_code"]).alias("__pcn"),
        tidy_text(frame["pcn_name"]).alias("__pcn_name"),
        tidy_code(frame["sub_icb_code"]).alias("__sub_icb"),
        tidy_code(frame["icb_code"]).alias("__icb"),
        _whole_number(c("list_size")).alias("__list"),
        _whole_number(c("imd_decile")).alias("__imd"),
    )
    checks = [_over_check(), *_practice_checks(c("practice_code"), c("__practice")),
              _required("practice_name", c("practice_name"), c("__name")),
              _required("pcn_code", c("pcn_code"), c("__pcn")),
              _code_check("pcn_code", c("pcn_code"), c("__pcn"), ODS_PCN, PCN_HINT),
              _code_check("sub_icb_code", c("sub_icb_code"), c("__sub_icb"), ODS_SUB_ICB,
                          SUB_ICB_HINT),
              _code_check("icb_code", c("icb_code"), c("__icb"), ODS_ICB, ICB_HINT),
              _required("pcn_name", c("pcn_name"), c("__pcn_name")),
              *_number_checks("list_size", c("list_size"), 0, MAX_LIST_SIZE,
                              "registered patients"),
              *_number_checks("imd_decile", c("imd_decile"), 1, 10, "IMD deciles run 1 to 10")]
    kept, rejects = _apply_checks(frame, "practices", checks)
    before = kept.height
    kept = _dedupe(kept, ["__practice"], "first")
    merged = before - kept.height
    kept, unmatched = _with_vocab(kept, "practices", ["personal_lists"], tm,
                                  {"personal_lists": None})
    kept = kept.with_columns(
        c("__practice").alias("practice_code"), c("__name").alias("practice_name"),
        c("__pcn").alias("pcn_code"), c("__pcn_name").alias("pcn_name"),
        c("__sub_icb").alias("sub_icb_code"), c("__icb").alias("icb_code"),
        c("__list").cast(pl.Int32).alias("list_size"),
        c("__imd").cast(pl.Int32).alias("imd_decile"),
        pl.when(c("personal_lists").is_null()).then(None)
        .otherwise(c("personal_lists") == "true").alias("personal_lists"))
    unknowns = _count_unknowns(kept, "practices", unmatched, present, skip_blank=True)
    return Built(kept, rejects, merged, unknowns)


def _build_usual_gp(frame: pl.DataFrame) -> Built:
    c = pl.col
    frame = frame.with_columns(tidy_id(frame["patient_id"]).alias("__patient"),
                               tidy_text(frame["usual_gp_id"]).alias("__usual_gp"))
    kept, rejects = _apply_checks(frame, "usual_gp", [
        _over_check(), _required("patient_id", c("patient_id"), c("__patient"))])
    kept = kept.with_columns(
        c("__usual_gp").first().over("__patient").alias("__first_gp"),
        c("__line").first().over("__patient").alias("__first_line"))
    conflict = c("__usual_gp").ne_missing(c("__first_gp"))
    clash = kept.filter(conflict).select(
        pl.lit("usual_gp").alias("table"), c("__file").alias("file"), c("__line").alias("line"),
        pl.lit("usual_gp_id").alias("column"),
        pl.format("patient has another usual GP on line {}", c("__first_line")).alias("reason"),
        c("usual_gp_id").alias("raw_value"))
    kept = kept.filter(~conflict)
    before = kept.height
    kept = _dedupe(kept, ["__patient"], "first")
    return Built(kept, pl.concat([rejects, clash]), before - kept.height)


# ---- assembling the result ---------------------------------------------------------------


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


def _visit_order(appts: pl.DataFrame) -> pl.Expr:
    """Each visit's rank in contact order (docs/methods.md s.1: date, time with a missing time
    last, appointment_id, practice code), so "where last seen" is the practice that
    queries/patient_practice.sql gives a patient missing from the patients extract."""
    c = pl.col
    return pl.arg_sort_by(
        c("appointment_date"), c("appointment_time").is_null(), c("appointment_time"),
        c("appointment_id"), c("practice_code")).arg_sort().cast(pl.Int64)


def _patients_from_appointments(appts: pl.DataFrame) -> pl.DataFrame:
    """One patient per appointment patient: where last seen; latest age, sex and usual GP."""
    c = pl.col
    sex = (pl.when(c("__raw:sex").is_not_null()).then(c("sex")) if "__raw:sex" in appts.columns
           else pl.lit(None, dtype=pl.Utf8))
    age = c("__age") if "__age" in appts.columns else pl.lit(None, dtype=pl.Int64)
    visits = appts.select(
        c("patient_id"), c("practice_code"), _visit_order(appts).alias("k"),
        c("__usual_gp").alias("usual_gp_id"), age.alias("age"), sex.alias("sex"))
    def latest(name: str) -> pl.Expr:
        return c(name).sort_by("k").drop_nulls().last().alias(name)

    latest_known = (visits.group_by("patient_id")
                    .agg(c("practice_code").sort_by("k").last(), latest("usual_gp_id"),
                         latest("age"), latest("sex"))
                    .with_columns(pl.lit(None, dtype=pl.Int32).alias("imd_decile"))
                    .sort("patient_id"))
    return latest_known.select(
        c("patient_id"), c("practice_code"), c("usual_gp_id"),
        c("imd_decile").cast(pl.Int32), age_band(c("age")).alias("age_band"), c("sex"))


def _fill_patients(patients: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Fill blank usual GP, age band and sex from what the appointments say."""
    fill = known.select("patient_id", pl.col("age_band").alias("__ab"),
                        pl.col("usual_gp_id").alias("__ug"), pl.col("sex").alias("__sx"))
    joined = patients.join(fill, on="patient_id", how="left", maintain_order="left")
    return joined.with_columns(
        pl.coalesce("usual_gp_id", "__ug").alias("usual_gp_id"),
        pl.coalesce("age_band", "__ab").alias("age_band"),
        pl.coalesce("sex", "__sx").alias("sex")).drop("__ab", "__ug", "__sx")


def _apply_usual_gp(patients: pl.DataFrame, usual: pl.DataFrame, practice: str | None,
                    report: IngestReport) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Set each listed patient's usual GP; add unknown patients when the practice is known."""
    c = pl.col
    gp = usual.select(c("__patient").alias("patient_id"), c("__usual_gp").alias("__gp"),
                      c("__file"), c("__line"), c("usual_gp_id").alias("__raw"))
    known = gp.join(patients.select("patient_id"), on="patient_id", how="semi")
    unknown = gp.join(patients.select("patient_id"), on="patient_id", how="anti")
    patients = patients.join(known.select("patient_id", "__gp"), on="patient_id", how="left",
                             maintain_order="left")
    patients = patients.with_columns(pl.coalesce(c("__gp"), c("usual_gp_id"))
                                     .alias("usual_gp_id")).drop("__gp")
    rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    if unknown.height and practice is not None:
        added = unknown.select(
            c("patient_id"), pl.lit(practice).alias("practice_code"),
            c("__gp").alias("usual_gp_id"), pl.lit(None, dtype=pl.Int32).alias("imd_decile"),
            pl.lit(None, dtype=pl.Utf8).alias("age_band"), pl.lit(None, dtype=pl.Utf8)
            .alias("sex"))
        patients = pl.concat([patients, added.cast(patients.schema)])
        report.notes.append(f"usual_gp: {added.height:,} patients with no appointment added to "
                            f"{practice} from the usual-GP file")
    elif unknown.height:
        rejects = unknown.select(
            pl.lit("usual_gp").alias("table"), c("__file").alias("file"),
            c("__line").alias("line"), pl.lit("patient_id").alias("column"),
            pl.lit("patient not in the patients or appointments files").alias("reason"),
            c("patient_id").alias("raw_value"))
    return patients, rejects


def _practice_row(info: PracticeInfo) -> pl.DataFrame:
    return pl.DataFrame([{"practice_code": info.practice_code, "practice_name": info.practice_name,
                          "pcn_code": info.pcn_code, "pcn_name": info.pcn_name}]).cast(
        {"pcn_code": pl.Utf8, "pcn_name": pl.Utf8}).with_columns(
        pl.lit(None, dtype=pl.Utf8).alias("sub_icb_code"),
        pl.lit(None, dtype=pl.Utf8).alias("icb_code"),
        pl.lit(None, dtype=pl.Int32).alias("list_size"),
        pl.lit(None, dtype=pl.Int32).alias("imd_decile"),
        pl.lit(None, dtype=pl.Boolean).alias("personal_lists"))


def _checked_practice(practice: PracticeInfo | None) -> PracticeInfo | None:
    if practice is None:
        return None
    code = practice.practice_code.strip().upper()
    if not re.match(ODS_PRACTICE, code):
        raise IngestError(f"practice code {practice.practice_code!r} is not valid: "
                          f"{PRACTICE_HINT}")
    name = " ".join(practice.practice_name.split())
    if not name:
        raise IngestError("the practice name is blank: give the practice's name")
    pcn = practice.pcn_code.strip().upper() if practice.pcn_code else None
    if pcn is not None and not re.match(ODS_PCN, pcn):
        raise IngestError(f"PCN code {practice.pcn_code!r} is not valid: {PCN_HINT}")
    pcn_name = " ".join(practice.pcn_name.split()) if practice.pcn_name else None
    return PracticeInfo(code, name, pcn, pcn_name)


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
