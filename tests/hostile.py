"""A corpus of bad, broken and hostile extract files, built in code.

Each case is a file as it arrives (name and bytes) and what ingest must do with it: refuse it with
one clear line (`error` = a regex of the message), or load it with exact accounting (`counts` =
rows read, loaded, merged duplicates, rejected).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date

import openpyxl

from tests.extract_files import APPOINTMENT_HEADER, csv_text

SQL_TEXT = "'; DROP TABLE appointments; --"
SCRIPT_TEXT = "<script>alert('x')</script>"
HEADER = ",".join(APPOINTMENT_HEADER)
GOOD = "1,P1,A81001,2024-03-01,09:00,GP1,gp,attended,face_to_face"


@dataclass(frozen=True)
class Case:
    filename: str
    content: bytes
    error: str | None = None  # regex the one-line IngestError must match
    counts: tuple[int, int, int, int] | None = None  # read, loaded, merged, rejected


def lines(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode("utf-8")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def zip_bomb_xlsx() -> bytes:
    """A real workbook whose sheet XML holds a 64 MB run of one letter: ~64 KB on disk, a
    thousand-fold expansion when unpacked."""
    good = xlsx_bytes([list(APPOINTMENT_HEADER), GOOD.split(",")])
    src = zipfile.ZipFile(io.BytesIO(good))
    out_buffer = io.BytesIO()
    with zipfile.ZipFile(out_buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                bomb = (b"<row r='3'><c r='A3' t='inlineStr'><is><t>" + b"A" * (64 << 20)
                        + b"</t></is></c></row></sheetData>")
                data = data.replace(b"</sheetData>", bomb)
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out_buffer.getvalue()


def entity_bomb_xlsx() -> bytes:
    """A real workbook whose sheet declares nested XML entities ("billion laughs": ten to the
    ninth copies of a word once expanded)."""
    good = xlsx_bytes([list(APPOINTMENT_HEADER), GOOD.split(",")])
    src = zipfile.ZipFile(io.BytesIO(good))
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    out_buffer = io.BytesIO()
    with zipfile.ZipFile(out_buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = data.decode().split("?>", 1)[-1].replace("GP1", "&lol9;", 1)
                data = (f'<?xml version="1.0" encoding="UTF-8"?>'
                        f"<!DOCTYPE worksheet [{entities}]>{body}").encode()
            out.writestr(info.filename, data)
    return out_buffer.getvalue()


def declared_bomb_xlsx(unpacked: int, packed: int) -> bytes:
    """A small real workbook whose archive directory declares its sheet `packed` bytes on disk
    and `unpacked` bytes once inflated: what the size and ratio checks read, without a test
    having to build a gigabyte of XML."""
    import struct

    data = bytearray(xlsx_bytes([list(APPOINTMENT_HEADER), GOOD.split(",")]))
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 4)
    struct.pack_into("<II", data, at + 20, packed, unpacked)
    return bytes(data)


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("appointments.csv", lines(GOOD).decode())
    return buffer.getvalue()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def corpus() -> dict[str, Case]:
    """Every case by name (bytes are deterministic)."""
    wide_row = "2,P2,A81001,2024-03-02,09:00,GP1,gp,attended,face_to_face" + ",x" * 5000
    return {
        # delimiters and layout
        "semicolon delimited": Case("semi.csv", lines(GOOD.replace(",", ";"),
                                                      header=HEADER.replace(",", ";")),
                                    counts=(1, 1, 0, 0)),
        "tab delimited": Case("tab.csv", lines(GOOD.replace(",", "\t"),
                                               header=HEADER.replace(",", "\t")),
                              counts=(1, 1, 0, 0)),
        "rows in another delimiter than the header": Case(
            "mixed.csv", lines(GOOD, GOOD.replace(",", ";").replace("1;P1", "2;P1")),
            counts=(2, 1, 0, 1)),
        "missing columns": Case("missing.csv", lines("1,P1", header="appointment_id,patient_id"),
                                error=r"missing\.csv: the appointments file has no column for "
                                      r"practice_code, appointment_date"),
        "extra columns": Case("extra.csv", lines(GOOD + ",Room 2,x", header=HEADER + ",room,"),
                              counts=(1, 1, 0, 0)),
        "short row": Case("short.csv", lines(GOOD, "2,P2,A81001"), counts=(2, 1, 0, 1)),
        "a line with thousands of columns": Case("wide.csv", lines(wide_row, GOOD),
                                                 counts=(2, 1, 0, 1)),
        "a later line with thousands of columns": Case("wide2.csv", lines(GOOD, wide_row),
                                                       counts=(2, 1, 0, 1)),
        "a header with thousands of columns": Case(
            "wideheader.csv", lines("1", header=",".join(f"c{i}" for i in range(5000))),
            error=r"has 5,000 columns in its header, more than the 500"),
        # encodings and line endings
        "latin-1": Case("latin1.csv", lines(GOOD.replace("GP1", "Dr Müller")).decode()
                        .encode("latin-1"), counts=(1, 1, 0, 0)),
        "utf-8 and latin-1 lines mixed": Case(
            "mixed.csv", lines(GOOD.replace("GP1", "Dr Müller"))
            + GOOD.replace("1,P1", "2,P2").replace("GP1", "Dr Müller").encode("latin-1") + b"\n",
            error=r"mixes text encodings \(line 2 is UTF-8, line 3 is Windows-1252 or "
                  r"Latin-1\), so names would be misread: save the whole file again as CSV "
                  r"UTF-8"),
        "utf-8 with BOM": Case("bom.csv", b"\xef\xbb\xbf" + lines(GOOD), counts=(1, 1, 0, 0)),
        "utf-16 (Excel unicode text)": Case(
            "utf16.csv", lines(GOOD.replace(",", "\t"), header=HEADER.replace(",", "\t"))
            .decode().encode("utf-16"), counts=(1, 1, 0, 0)),
        "windows line endings": Case("crlf.csv", lines(GOOD, newline="\r\n"),
                                     counts=(1, 1, 0, 0)),
        "old mac line endings": Case("cr.csv", lines(GOOD, newline="\r"), counts=(1, 1, 0, 0)),
        # quoting
        "quotes and embedded newlines": Case(
            "quotes.csv", csv_text([*APPOINTMENT_HEADER, "note"], [
                [*GOOD.split(","), 'said "hello",\nthen left'],
                ["2", "P1", "A81001", "2024-03-02", "", "Brown, J", "gp", "attended",
                 "telephone", ""]]).encode(), counts=(2, 2, 0, 0)),
        "an unclosed quote": Case("unclosed.csv", lines('2,P2,A81001,2024-03-02,,"GP1,gp,x,y',
                                                        GOOD),
                                  error=r"a quote is opened before .* and never closed"),
        # empty and not-CSV files
        "empty file": Case("empty.csv", b"", error=r"empty\.csv: is empty"),
        "only white space": Case("blank.csv", b" \n\n \n", error=r"is empty"),
        "header only": Case("header.csv", lines(), error=r"no appointment rows"),
        "binary garbage": Case("garbage.csv", bytes((i * 7919) % 256 for i in range(4096)),
                               error=r"garbage\.csv: is binary data"),
        "a PNG named .csv": Case("photo.csv", PNG, error=r"photo\.csv: is a PNG image"),
        "a ZIP named .csv": Case("archive.csv", plain_zip(),
                                 error=r"is a zip archive, not an Excel workbook"),
        "a PDF named .xlsx": Case("report.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
                                  error=r"is a PDF document"),
        "an old .xls or encrypted workbook": Case(
            "old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            error=r"is an old-style Excel \(\.xls\) or password-protected Office file: "
                  r"save it as CSV"),
        "NUL bytes in text": Case("nul.csv", lines(GOOD) + b"\x00" * 40 + lines(GOOD),
                                  error=r"is binary data"),
        "an XLSX zip bomb": Case("bomb.xlsx", zip_bomb_xlsx(), error=r"refused as unsafe"),
        "an XLSX of 12 MB unpacking to 1 GB": Case(
            "big.xlsx", declared_bomb_xlsx(1_000_000_000, 12_000_000),
            error=r"unpacks to 953\.7 MB, over the 256\.0 MB limit: refused as unsafe"),
        "an XLSX 150 times compressed": Case(
            "dense.xlsx", declared_bomb_xlsx(150_000_000, 1_000_000),
            error=r"is compressed 1[45]\d times, over the limit of 100: refused as unsafe"),
        "an XLSX entity bomb": Case("laughs.xlsx", entity_bomb_xlsx(),
                                    error=r"declares XML entities .*refused as unsafe"),
        "a damaged XLSX": Case("damaged.xlsx", xlsx_bytes([list(APPOINTMENT_HEADER)])[:300],
                               error=r"damaged zip/XLSX"),
        # values
        "dates in the future": Case("future.csv", lines(GOOD, GOOD.replace("1,P1", "2,P1")
                                                        .replace("2024-03-01", "2031-01-01")),
                                    counts=(2, 1, 0, 1)),
        "dates before 2000 and impossible dates": Case(
            "olddates.csv", lines(GOOD.replace("2024-03-01", "31/12/1999"),
                                  GOOD.replace("1,P1", "2,P1").replace("2024-03-01",
                                                                       "30/02/2024")),
            counts=(2, 0, 0, 2)),
        "huge and negative numbers as dates and times": Case(
            "numbers.csv", lines(GOOD.replace("2024-03-01", "99999999999999999999"),
                                 GOOD.replace("1,P1", "2,P1").replace("2024-03-01", "-45352"),
                                 GOOD.replace("1,P1", "3,P1").replace("09:00", "-1")),
            counts=(3, 1, 0, 2)),
        "duplicated ids": Case("dups.csv", lines(GOOD, GOOD, GOOD.replace("GP1", "GP2")),
                               counts=(3, 1, 2, 0)),
        "SQL and script text in fields": Case(
            "inject.csv", csv_text(APPOINTMENT_HEADER, [
                ["1", SQL_TEXT, "A81001", "2024-03-01", "", SCRIPT_TEXT, "gp", "attended",
                 "face_to_face"],
                ["2", "P2", "A81001", "2024-03-01", "", "GP1", SQL_TEXT, SCRIPT_TEXT,
                 "=cmd|' /C calc'!A0"]]).encode(), counts=(2, 2, 0, 0)),
        "SQL text in a column name": Case(
            "injectheader.csv", lines(GOOD + ",x", header=HEADER + ',"x"; DROP TABLE '
                                                                   'appointments; --'),
            counts=(1, 1, 0, 0)),
        # XLSX oddities
        "xlsx with a wide row": Case("wide.xlsx", xlsx_bytes([
            list(APPOINTMENT_HEADER), GOOD.split(","),
            ["2", "P2", "A81001", date(2024, 3, 2), "", "GP1", "gp", "attended",
             "face_to_face", "stray"]]), counts=(2, 1, 0, 1)),
    }


ODD_NAMES = ("my export (1).csv", "Ünïcødé – åpt.csv", "with\nnewline.csv", "-starts-dash.csv",
             "semi;colon'quote\".csv")
