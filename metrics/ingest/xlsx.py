"""XLSX workbooks: zip bombs and entity tricks refused before any XML is parsed."""

from __future__ import annotations

import zipfile
import zlib
from datetime import date, datetime, time
from pathlib import Path

import polars as pl

from metrics.ingest.raw import MAX_COLUMNS, RawFile, _check_headers, _fail, _size
from metrics.ingest.report import IngestError

# openpyxl parses sheet XML at ~16 MB/s holding ~2.3x its size (1 GB of XML: 62 s, 2.3 GB),
# so what an archive says it unpacks to is capped before any parsing: 256 MiB is ~15 s, and
# several times a year of a large practice's appointments.
XLSX_MAX_UNCOMPRESSED = 256 << 20
XLSX_MAX_RATIO = 100  # legitimate sheets compress 5-30x; zip bombs 80x and far more
XLSX_MAX_CELLS = 20_000_000
XLSX_MAX_MEMBERS = 5_000


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
