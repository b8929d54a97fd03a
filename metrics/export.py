"""Files that leave the product: CSV with a definitions header block, XLSX with an 'about' sheet.

Every file states its filters, window, definitions and disclosure rule, and no cell can start a
spreadsheet formula (a text cell beginning with =, +, -, @, tab or carriage return gets a
leading apostrophe, the OWASP CSV-injection advice).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralise_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Neutralise every text cell (numbers stay numbers; a negative number is not a formula)."""
    text = [c for c, t in df.schema.items() if t == pl.Utf8]
    return df.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c in text
    )


def header_lines(about: Sequence[tuple[str, str]]) -> list[str]:
    """'# key: value' lines. A spreadsheet splits them at commas like any row, so each piece is
    neutralised and quoted as a body cell is; line breaks become spaces (one line per entry)."""
    lines = []
    for k, v in about:
        text = f"# {neutralise(k)}: {v}".replace("\r", " ").replace("\n", " ")
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(neutralise(c) for c in text.split(","))
        lines.append(out.getvalue())
    return lines


def safe_file_name(name: str) -> str:
    """A download or ZIP entry name built from codes and titles: no path separators, no `..`,
    no control or invisible format characters, no leading formula character or dot."""
    name = "".join("_" if c in "/\\:" or unicodedata.category(c)[0] == "C" else c
                   for c in name)
    name = re.sub(r"\.{2,}", ".", name).lstrip("".join(FORMULA_STARTS) + "._ ")
    return name or "export"


def csv_bytes(df: pl.DataFrame, about: Sequence[tuple[str, str]] = ()) -> bytes:
    """UTF-8 CSV: '# key: value' header lines (definitions, filters, rule), then the table."""
    body = neutralise_frame(df).write_csv(date_format="%Y-%m-%d", float_precision=None)
    head = "".join(line + "\n" for line in header_lines(about))
    return (head + body).encode("utf-8")


def xlsx_bytes(df: pl.DataFrame, about: Sequence[tuple[str, str]] = ()) -> bytes:
    """An XLSX workbook: sheet 'data' (the table) and sheet 'about' (the definitions)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    data = wb.create_sheet("data")
    safe = neutralise_frame(df)
    data.append(list(safe.columns))
    for row in safe.iter_rows():
        data.append([neutralise(v) if isinstance(v, str) else v for v in row])
    sheet = wb.create_sheet("about")
    for k, v in about:
        sheet.append([neutralise(k), neutralise(str(v))])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def about_lines(params, rule, scope: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """The header block: what the figures are, for which window, under which rule."""
    return [
        ("product", "continuity-of-care dashboard (python -m metrics)"),
        ("scope", scope),
        *params.describe(),
        ("patient indices", "mean of patient values over eligible patients (contacts >= "
                            "minimum); upc_pooled = sum of max_j n_j / sum of N"),
        ("SLICC, OPR", "pooled ratios over GP contacts, with numerator and denominator"),
        ("disclosure control", rule.describe()),
    ]
