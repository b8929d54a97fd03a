"""Reading any accepted file: the format is decided by its content, never its name.

CSV lives in metrics/ingest/delimited.py and XLSX in metrics/ingest/xlsx.py; Parquet is short
enough to stay here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from metrics.ingest.delimited import _read_csv
from metrics.ingest.raw import HEAD_BYTES, RawFile, _check_headers, _fail, _size
from metrics.ingest.xlsx import _read_xlsx

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
