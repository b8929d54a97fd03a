"""Every file that leaves the dashboard: a table's CSV or XLSX with its header block (filters,
window, definitions, disclosure rule), a ZIP of many, clinician names pseudonymised. The file
formats themselves (formula guard, header lines) are metrics.export's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from metrics.params import Params
from metrics.read.filters import Selection
from metrics.read.table import Table


def export_about(table: Table, params: Params, sel: Selection) -> list[tuple[str, str]]:
    """The header block of an exported table: scope, filters, definitions, disclosure rule."""
    from metrics.export import about_lines

    lines = about_lines(params, table.rule, table.scope)
    lines.insert(1, ("table", table.title))
    lines[2:2] = [(f"filter: {k}", v) for k, v in sel.describe()]
    if table.own_rows:
        lines.append(("exact rows", table.own_rows))
    if table.internal:
        lines.append(("named staff", "per-GP figures: for the practice's internal use only"))
    return lines


def export_csv(table: Table, params: Params, sel: Selection, *,
               salt: bytes | None = None) -> bytes:
    """CSV of a table exactly as shown, with its '# key: value' header block."""
    from metrics.export import csv_bytes

    return csv_bytes(*_leaving(table, params, sel, salt))


def export_xlsx(table: Table, params: Params, sel: Selection, *,
                salt: bytes | None = None) -> bytes:
    from metrics.export import xlsx_bytes

    return xlsx_bytes(*_leaving(table, params, sel, salt))


def _salt(salt: bytes | None) -> bytes:
    from metrics import pseudonym

    return pseudonym.installation_salt() if salt is None else salt


def _leaving(table: Table, params: Params, sel: Selection, salt: bytes | None = None
             ) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """What leaves the dashboard: the table as text ('*' where suppressed), clinician names as
    stable pseudonyms (metrics.pseudonym); the screen (the practice's own view) keeps them."""
    from metrics import pseudonym

    about = export_about(table, params, sel)
    frame = table.shown()
    codes = _staff_codes(table, salt)
    if not codes:
        return frame, about
    return (pseudonym.pseudonymise(frame, _salt(salt), codes),
            [(k, pseudonym.scrub(v, codes)) for k, v in about]
            + [("pseudonyms", pseudonym.NOTE)])


def _staff_codes(table: Table, salt: bytes | None = None) -> dict[str, str]:
    """Name -> pseudonym for the clinicians a table names (none: nothing to replace)."""
    from metrics import pseudonym

    if not pseudonym.has_clinicians(table.frame):
        return {}
    return pseudonym.codes_for(table.frame, _salt(salt))


def export_name(table: Table, suffix: str, *, salt: bytes | None = None) -> str:
    """A download's file name: the table key, with any clinician name pseudonymised and any
    code from the data made safe as a name (metrics.export.safe_file_name)."""
    from metrics import pseudonym
    from metrics.export import safe_file_name

    return safe_file_name(pseudonym.scrub(f"{table.key}.{suffix}", _staff_codes(table, salt)))


def shareable(tables: Sequence[Table], include_internal: bool = False) -> list[Table]:
    """Tables that may be exported: per-GP tables only when deliberately switched on."""
    return [t for t in tables if include_internal or not t.internal]


def named_files(tables: Sequence[Table], *, salt: bytes | None = None
                ) -> list[tuple[str, Table]]:
    """(file name, table) for a set of CSV files: two keys made alike by safe names get
    -2, -3 (else unzipping or writing one would overwrite the other)."""
    taken: set[str] = set()
    out = []
    for table in tables:
        name = export_name(table, "csv", salt=salt)
        stem, n = name.removesuffix(".csv"), 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}.csv"
        taken.add(name)
        out.append((name, table))
    return out


def export_zip_of(tables: Sequence[Table], params: Params, sel: Selection, *,
                  salt: bytes | None = None) -> bytes:
    """Every table as a CSV (each with its header block) in one ZIP archive."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in named_files(tables, salt=salt):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, export_csv(table, params, sel, salt=salt))
    return buffer.getvalue()


def write_files(tables: Sequence[Table], params: Params, sel: Selection, out: Path, *,
                salt: bytes | None = None) -> list[Path]:
    """The ZIP's files written into a folder, byte for byte."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in named_files(tables, salt=salt):
        path = out / name
        path.write_bytes(export_csv(table, params, sel, salt=salt))
        written.append(path)
    return written
