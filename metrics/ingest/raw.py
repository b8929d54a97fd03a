"""One file as text columns (RawFile), whatever its format: what the format readers share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metrics.ingest.report import IngestError

MAX_COLUMNS = 500  # a header wider than this is not an extract
HEAD_BYTES = 1 << 20  # enough of a file to sniff its format, encoding, delimiter and header


@dataclass
class RawFile:
    """One file as text: columns c0..cN (header order), __line (Int64), __over (Utf8)."""

    name: str
    headers: list[str]
    frame: pl.DataFrame


def _fail(path: Path, problem: str) -> IngestError:
    return IngestError(f"{path.name}: {problem}")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def _check_headers(path: Path, headers: list[str]) -> None:
    if not headers or not any(h.strip() for h in headers):
        raise _fail(path, "has no header row: the first line must name the columns")
    if len(headers) > MAX_COLUMNS:
        raise _fail(path, f"has {len(headers):,} columns in its header, more than the "
                          f"{MAX_COLUMNS} an extract can have: is this the right file?")
