"""Dates and times as practice exports write them (docs/extract-schema.md s.5; metrics/dates.py)."""

from __future__ import annotations

from datetime import date, datetime, time

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.dates import excel_serial_to_date, parse_dates, parse_times


def one_date(text: str | None) -> date | None:
    return parse_dates(pl.Series("d", [text], dtype=pl.Utf8))[0]


def one_time(text: str | None) -> time | None:
    return parse_times(pl.Series("t", [text], dtype=pl.Utf8))[0]


@pytest.mark.parametrize("text", [
    "2024-03-01",            # ISO
    "2024-03-01T00:00:00",   # ISO with a time part (ignored)
    "2024-03-01 14:30:00",
    "2024/03/01",
    "01/03/2024",            # UK day-first: 1 March, never 3 January
    "1/3/2024",
    "01.03.2024",
    "01-03-2024",
    "01/03/24",              # two-digit year read as 20yy
    "01MAR2024",             # GPAD
    "01-Mar-2024",           # EMIS
    "1 March 2024",
    "01 mar 24",
    "20240301",
    "45352",                 # Excel serial: 45292 = 2024-01-01, + 31 (Jan) + 29 (Feb 2024)
    "45352.0",
    "45352.604166",          # a serial with a time of day: the day part counts
    "  01/03/2024  ",
])
def test_every_accepted_layout_reads_as_1_march_2024(text: str) -> None:
    assert one_date(text) == date(2024, 3, 1)


@pytest.mark.parametrize("text", [
    "31/02/2024",   # no such day
    "29/02/2023",   # not a leap year
    "2024-13-01",
    "13/13/2024",
    "01FOO2024",
    "yesterday",
    "",
    "   ",
    "2024-03",
    "0",            # Excel serial 0 is no date
    "60",           # Excel serial 60 is 29 Feb 1900, a day that never existed
    "99999999",     # beyond Excel's 9999-12-31
    "-45352",
])
def test_unreadable_dates_become_null_for_the_caller_to_reject(text: str) -> None:
    assert one_date(text) is None


def test_null_stays_null() -> None:
    assert one_date(None) is None


def test_leap_day_is_a_real_date() -> None:
    assert one_date("29/02/2024") == date(2024, 2, 29)


@pytest.mark.parametrize(("serial", "expected"), [
    (1, date(1900, 1, 1)),
    (59, date(1900, 2, 28)),
    (61, date(1900, 3, 1)),    # after Lotus's phantom 29 Feb 1900 the count is off by one
    (36526, date(2000, 1, 1)),
    (44537, date(2021, 12, 7)),  # the schema doc's example: 45292 (2024-01-01) - 755 days
    (45292, date(2024, 1, 1)),
    (2_958_465, date(9999, 12, 31)),
])
def test_excel_serials_follow_the_1900_date_system(serial: int, expected: date) -> None:
    assert excel_serial_to_date(pl.Series([serial]))[0] == expected


def test_excel_serial_out_of_range_is_null() -> None:
    out = excel_serial_to_date(pl.Series([0, 60, 2_958_466]))
    assert out.to_list() == [None, None, None]


def test_parsing_keeps_row_order_and_repeats() -> None:
    # the parser works on distinct values then maps back: order and duplicates must survive
    values = pl.Series("d", ["01/03/2024", None, "2024-03-02", "01/03/2024", "junk"])
    assert parse_dates(values).to_list() == [date(2024, 3, 1), None, date(2024, 3, 2),
                                             date(2024, 3, 1), None]


def test_typed_dates_and_datetimes_pass_through() -> None:
    assert parse_dates(pl.Series([date(2024, 3, 1)]))[0] == date(2024, 3, 1)
    assert parse_dates(pl.Series([datetime(2024, 3, 1, 9, 30)]))[0] == date(2024, 3, 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("14:30", time(14, 30)),
    ("14:30:15", time(14, 30, 15)),
    ("9.05", time(9, 5)),
    ("09:05:00.000", time(9, 5)),
    ("2:30 PM", time(14, 30)),
    ("12:00 AM", time(0, 0)),
    ("12:15 pm", time(12, 15)),
    ("2024-03-01 14:30:00", time(14, 30)),
    ("01/03/2024 08:10", time(8, 10)),
    ("0.5", time(12, 0)),            # Excel day fraction
    (".75", time(18, 0)),
    ("0", time(0, 0)),
])
def test_times_in_export_layouts(text: str, expected: time) -> None:
    assert one_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "14:60", "13:00 PM", "noon", "", "1430"])
def test_unreadable_times_become_null(text: str) -> None:
    assert one_time(text) is None


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2099, 12, 31)))
def test_every_layout_of_any_date_reads_back_as_that_date(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days  # Excel 1900 system from March 1900 on
    layouts = [day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d%b%Y").upper(),
               day.strftime("%d-%b-%Y"), day.strftime("%d %B %Y"), day.strftime("%Y%m%d"),
               str(serial)]
    assert parse_dates(pl.Series(layouts)).to_list() == [day] * len(layouts)
