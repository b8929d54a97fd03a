"""Rolling UPC: each month's UPC over the 12 calendar months ending with it, per practice (the
series behind the practice page's SPC chart). Hand-worked cases, then random extracts against
the pure-Python reference, on every engine of the `compute` fixture."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from metrics import reference
from metrics.params import Params
from metrics.pipeline import engine
from tests.builders import PRACTICE, appt, extract, one_row, visits
from tests.spec.test_indices_properties import extracts
from tests.store.test_engine import _loaded

MARCH_APRIL_2024 = Params(date(2024, 3, 1), date(2024, 4, 30))


def rolling(out: dict[str, pl.DataFrame], month: date, practice: str = PRACTICE) -> dict:
    return one_row(out["rolling_upc"], practice_code=practice, month=month)


def test_each_month_counts_the_twelve_months_ending_with_it(compute) -> None:
    # p1: A (Jan), A (Feb), B (Mar) -> 2/3 in both windows.
    # p2: C (Apr 2023), C and D (Mar 2024) -> March window (Apr 2023-Mar 2024) C,C,D = 2/3;
    #     April window (May 2023-Apr 2024) loses April 2023: C,D = 1/2.
    appointments = [
        appt("p1", date(2024, 1, 10), "A"), appt("p1", date(2024, 2, 10), "A"),
        appt("p1", date(2024, 3, 10), "B"),
        appt("p2", date(2023, 4, 20), "C"), appt("p2", date(2024, 3, 5), "C"),
        appt("p2", date(2024, 3, 6), "D"),
    ]
    out = compute(extract(appointments), MARCH_APRIL_2024)
    march, april = rolling(out, date(2024, 3, 1)), rolling(out, date(2024, 4, 1))
    assert march["eligible_patients"] == 2
    assert march["upc_mean"] == pytest.approx(2 / 3)
    assert (march["upc_pooled_numerator"], march["upc_pooled_denominator"]) == (4, 6)
    assert april["eligible_patients"] == 2
    assert april["upc_mean"] == pytest.approx((2 / 3 + 1 / 2) / 2)  # 7/12
    assert (april["upc_pooled_numerator"], april["upc_pooled_denominator"]) == (3, 5)
    assert april["upc_pooled"] == pytest.approx(3 / 5)
    assert march["history_months"] == april["history_months"] == 12


def test_a_month_without_eligible_patients_is_blank_not_zero(compute) -> None:
    # One contact in the March window: below the minimum of 2, so March has no UPC at all;
    # the April contact makes the April window eligible (A, A = 1).
    appointments = [appt("p1", date(2024, 3, 10), "A"), appt("p1", date(2024, 4, 10), "A")]
    out = compute(extract(appointments), MARCH_APRIL_2024)
    march, april = rolling(out, date(2024, 3, 1)), rolling(out, date(2024, 4, 1))
    assert march["eligible_patients"] == 0
    assert march["upc_mean"] is None and march["upc_pooled"] is None
    assert april["eligible_patients"] == 1 and april["upc_mean"] == 1.0


def test_history_months_counts_from_the_practice_first_contact(compute) -> None:
    # The practice's first counted contact is in February 2024: the March window holds two
    # months of its data and April's three, so both read high for lack of history.
    appointments = [appt("p1", date(2024, 2, 1), "A"), appt("p1", date(2024, 3, 1), "B")]
    out = compute(extract(appointments), MARCH_APRIL_2024)
    assert rolling(out, date(2024, 3, 1))["history_months"] == 2
    assert rolling(out, date(2024, 4, 1))["history_months"] == 3


def test_staff_group_and_minimum_apply_as_for_upc(compute) -> None:
    # Nurse contacts count only for the clinical staff group; with min 3, p1 needs three.
    appointments = [appt("p1", date(2024, 3, 1), "A"), appt("p1", date(2024, 3, 2), "A"),
                    appt("p1", date(2024, 3, 3), "N", role="nurse")]
    gp_only = compute(extract(appointments), MARCH_APRIL_2024.with_(min_contacts=3))
    clinical = compute(extract(appointments),
                       MARCH_APRIL_2024.with_(min_contacts=3, staff_group="clinical"))
    assert rolling(gp_only, date(2024, 3, 1))["eligible_patients"] == 0
    row = rolling(clinical, date(2024, 3, 1))
    assert row["eligible_patients"] == 1 and row["upc_mean"] == pytest.approx(2 / 3)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=extracts())
def test_rolling_upc_equals_the_reference(compute, case) -> None:
    tables, params = case
    out = compute(tables, params)["rolling_upc"]
    expected = reference.rolling_upc(tables, params)
    for row in out.iter_rows(named=True):
        want = expected.pop((row["practice_code"], f"{row['month']:%Y-%m}"), None)
        if want is None:
            assert row["eligible_patients"] == 0 and row["upc_mean"] is None
            continue
        assert row["eligible_patients"] == want["eligible_patients"]
        assert row["upc_mean"] == pytest.approx(want["upc_mean"], rel=1e-12)
        assert row["upc_pooled_numerator"] == want["upc_pooled_numerator"]
        assert row["upc_pooled_denominator"] == want["upc_pooled_denominator"]
        assert row["history_months"] == want["history_months"]
    assert expected == {}, f"practice-months missing from the SQL: {sorted(expected)}"


def test_a_named_gp_list_sums_its_own_patients_and_the_practice_sums_every_list() -> None:
    # March 2024 windows: p1 (named GP A) sees A, A, B = 2/3; p2 (A) A, A = 1; p3 (registered, no
    # named GP) B, C = 1/2; p4 (unregistered: the practice of their appointments) C, C = 1.
    march = date(2024, 3, 1)
    appointments = [*visits("p1", "AAB", start=march), *visits("p2", "AA", start=march),
                    *visits("p3", "BC", start=march), *visits("p4", "CC", start=march)]
    patients = [{"patient_id": "p1", "practice_code": PRACTICE, "usual_gp_id": "A"},
                {"patient_id": "p2", "practice_code": PRACTICE, "usual_gp_id": "A"},
                {"patient_id": "p3", "practice_code": PRACTICE}]
    backend = _loaded(extract(appointments, patients))
    engine.run_pipeline(backend, MARCH_APRIL_2024)
    rows = backend.fetch("SELECT * FROM group_rolling_upc WHERE month_start = DATE '2024-03-01' "
                         "AND level IN ('practice', 'gp_list')")
    practice = one_row(rows, level="practice")
    assert practice["eligible_patients"] == 4
    assert practice["upc_mean"] == pytest.approx((2 / 3 + 1 + 1 / 2 + 1) / 4)
    assert (practice["upc_pooled_numerator"], practice["upc_pooled_denominator"]) == (7, 9)
    gp_a = one_row(rows, level="gp_list", subgroup="A")
    assert gp_a["eligible_patients"] == 2
    assert gp_a["upc_mean"] == pytest.approx(5 / 6)
    assert gp_a["upc_sd"] == pytest.approx(((2 / 3 - 5 / 6) ** 2 * 2) ** 0.5)
    assert (gp_a["upc_pooled_numerator"], gp_a["upc_pooled_denominator"]) == (4, 5)
    assert rows.filter(level="gp_list").height == 1  # no list for patients without a named GP
