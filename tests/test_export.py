"""Export files: exact bytes, a definitions header, and no spreadsheet formulas."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
from openpyxl import load_workbook

from metrics.export import csv_bytes, neutralise, xlsx_bytes


def test_formula_starts_are_neutralised() -> None:
    for risky in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"):
        assert neutralise(risky) == "'" + risky
    assert neutralise("Dr Brown") == "Dr Brown"


def test_csv_has_the_header_block_then_the_table_exactly() -> None:
    df = pl.DataFrame({"practice_code": ["A81001", "=HYPERLINK(\"x\")"], "slicc": [0.5, None],
                       "month": [date(2024, 1, 1), date(2024, 2, 1)], "delta": [-1, 2]})
    got = csv_bytes(df, [("window", "2024-01-01 to 2024-12-31"), ("=evil", "x")])
    assert got == (
        b"# window: 2024-01-01 to 2024-12-31\n"
        b"# '=evil: x\n"
        b"practice_code,slicc,month,delta\n"
        b"A81001,0.5,2024-01-01,-1\n"
        b"\"'=HYPERLINK(\"\"x\"\")\",,2024-02-01,2\n"
    )


def test_xlsx_has_data_and_about_sheets_without_formulas() -> None:
    df = pl.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok"], "n": [1, 2]})
    book = load_workbook(io.BytesIO(xlsx_bytes(df, [("rule", "nhs")])))
    data = [[c.value for c in row] for row in book["data"].iter_rows()]
    assert data == [["name", "n"], ["'=cmd|' /C calc'!A0", 1], ["ok", 2]]
    assert [[c.value for c in r] for r in book["about"].iter_rows()] == [["rule", "nhs"]]
