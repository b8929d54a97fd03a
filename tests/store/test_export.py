"""Export files: exact bytes, a definitions header, and no spreadsheet formulas."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest
from openpyxl import load_workbook

from metrics.export import FORMULA_STARTS, csv_bytes, neutralise, safe_file_name, xlsx_bytes


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


def header_cells(data: bytes) -> list[list[str]]:
    """The header block as a spreadsheet splits it into cells."""
    import csv

    head = [line for line in data.decode().split("\n") if line.startswith(("#", '"#'))]
    return list(csv.reader(head))


def test_header_values_are_neutralised_like_body_cells() -> None:
    df = pl.DataFrame({"n": [1]})
    about = [("filter: PCN", "P1,=2+5,"), ("scope", "practice\r=1+1 x month"),
             ("table", 'Dr "=cmd", +SUM(A1),@x'), ("title", "-3,\t4")]
    got = csv_bytes(df, about)
    cells = [cell for row in header_cells(got) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], cells
    assert b"\r" not in got
    assert got.decode().splitlines()[:4] == [
        "# filter: PCN: P1,'=2+5,",
        "# scope: practice =1+1 x month",
        '"# table: Dr ""=cmd""", +SUM(A1),\'@x',  # a quoted cell, as in the body
        "# title: -3,'\t4",
    ]


def test_a_harmless_header_is_written_as_it_reads() -> None:
    about = [("staff group (SLICC, OPR)", "GP (gp, gp_registrar, locum_gp)")]
    assert csv_bytes(pl.DataFrame({"n": [1]}), about) == (
        b"# staff group (SLICC, OPR): GP (gp, gp_registrar, locum_gp)\nn\n1\n")


@pytest.mark.parametrize(("given", "safe"), [
    ("practice_A81001_slicc.csv", "practice_A81001_slicc.csv"),
    ("../../etc/passwd.csv", "etc_passwd.csv"),
    ("pcn_P1,=2+5,_slicc.csv", "pcn_P1,=2+5,_slicc.csv"),  # a name is not a cell
    ("=HYPERLINK(1).csv", "HYPERLINK(1).csv"),
    ("a\\b/c:d\x00e\r\nf\x7f.csv", "a_b_c_d_e__f_.csv"),
    ("invoice\u202ecsv.exe", "invoice_csv.exe"),  # no right-to-left override to hide a type
    ("@=+-\t..x.csv", "x.csv"),
    ("..csv", "csv"),
    ("", "export"),
])
def test_file_names_carry_no_path_control_or_formula_characters(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe
