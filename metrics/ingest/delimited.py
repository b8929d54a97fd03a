"""CSV and other delimited text: encodings (UTF-8, else cp1252/latin-1), delimiter and header."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl

from metrics.ingest.raw import HEAD_BYTES, RawFile, _check_headers, _fail
from metrics.ingest.report import IngestError

DELIMITERS = (",", ";", "\t", "|")


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
