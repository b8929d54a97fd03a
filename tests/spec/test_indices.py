"""The indices hold exactly the definitions of docs/methods.md, on hand-worked cases.

Each case is checked on the pure-Python reference and on the SQL pipeline (every engine of the
`compute` fixture). Random extracts: tests/spec/test_indices_properties.py.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import polars as pl
import pytest

from metrics import reference
from metrics.params import Params
from tests.builders import DAY0, appt, extract, visits

WINDOW = Params(date(2024, 1, 1), date(2025, 12, 31))

# docs/methods.md s.3, worked examples (4 dp)
WORKED = {
    "AB": (0.5, 0.0, 0.0, 0.0909, 0.5),
    "AAA": (1.0, 1.0, 1.0, 1.0, 1.0),
    "ABAB": (0.5, 0.3333, 0.0, 0.6774, 0.5),
    "AAAB": (0.75, 0.5, 0.6667, 0.6774, 0.625),
    "AABBC": (0.4, 0.2, 0.5, 0.5122, 0.36),
    "ABCABC": (0.3333, 0.2, 0.0, 0.6078, 0.3333),
    "AABAA": (0.8, 0.6, 0.5, 0.7561, 0.68),
    "AAABBBCCCD": (0.3, 0.2, 0.6667, 0.6703, 0.28),
}
NAMES = ("upc", "coc", "secon", "mmci", "hhi")


def patient(out: dict[str, pl.DataFrame], pid: str) -> dict:
    rows = out["patients"].filter(pl.col("patient_id") == pid).to_dicts()
    assert len(rows) == 1, f"expected one row for {pid}, got {len(rows)}"
    return rows[0]


@pytest.mark.parametrize("sequence", WORKED)
def test_reference_matches_worked_examples(sequence: str) -> None:
    got = tuple(round(reference.PATIENT_INDICES[n](list(sequence)), 4) for n in NAMES)
    assert got == WORKED[sequence]


def test_sql_matches_worked_examples(compute) -> None:
    appointments = [a for i, s in enumerate(WORKED) for a in visits(f"p{i}", s)]
    out = compute(extract(appointments), WINDOW)
    for i, (sequence, expected) in enumerate(WORKED.items()):
        row = patient(out, f"p{i}")
        assert tuple(round(row[n], 4) for n in NAMES) == expected, sequence
        assert row["contacts"] == len(sequence)
        assert row["clinicians"] == len(set(sequence))


def test_one_contact_leaves_every_index_undefined_not_zero(compute) -> None:
    out = compute(extract(visits("p1", "A")), WINDOW)
    row = patient(out, "p1")
    assert row["contacts"] == 1 and row["usual_clinician_id"] == "A"
    assert all(row[n] is None for n in (*NAMES, "kpc"))
    assert out["practices"]["eligible_patients"].to_list() == [0]
    assert out["practices"]["contacts"].to_list() == [1]
    assert out["practices"]["upc_mean"].to_list() == [None]


def test_minimum_contacts_is_a_parameter(compute) -> None:
    tables = extract(visits("p1", "AB") + visits("p2", "AAB"))
    out = compute(tables, WINDOW.with_(min_contacts=3))
    assert patient(out, "p1")["upc"] is None
    assert patient(out, "p2")["upc"] == pytest.approx(2 / 3)


def test_only_attended_contacts_with_a_recorded_clinician_count(compute) -> None:
    appointments = visits("p1", "AAB") + [
        appt("p1", DAY0 + timedelta(days=100), "B", status="did_not_attend"),
        appt("p1", DAY0 + timedelta(days=101), "B", status="cancelled"),
        appt("p1", DAY0 + timedelta(days=102), None),
        appt("p1", DAY0 + timedelta(days=103), "  "),
        appt("p1", DAY0 + timedelta(days=104), "B", mode="unknown"),
    ]
    row = patient(compute(extract(appointments), WINDOW), "p1")
    assert row["contacts"] == 3 and row["upc"] == pytest.approx(2 / 3)


def test_staff_group_selects_roles(compute) -> None:
    appointments = visits("p1", "AA") + visits("p1", "N", role="nurse", start=date(2024, 6, 1)) \
        + visits("p1", "R", role="gp_registrar", start=date(2024, 7, 1)) \
        + visits("p1", "X", role="admin", start=date(2024, 8, 1))
    tables = extract(appointments)
    assert patient(compute(tables, WINDOW), "p1")["contacts"] == 3  # gp, gp, registrar
    assert patient(compute(tables, WINDOW.with_(staff_group="clinical")), "p1")["contacts"] == 4
    assert patient(compute(tables, WINDOW.with_(staff_group="all")), "p1")["contacts"] == 5


def test_modes_are_a_parameter(compute) -> None:
    appointments = visits("p1", "AA") + visits("p1", "B", mode="telephone", start=date(2024, 9, 1))
    tables = extract(appointments)
    assert patient(compute(tables, WINDOW), "p1")["upc"] == pytest.approx(2 / 3)
    face_only = compute(tables, WINDOW.with_(modes=("face_to_face",)))
    assert patient(face_only, "p1")["upc"] == 1.0


def test_window_is_inclusive_at_both_ends(compute) -> None:
    appointments = [appt("p1", date(2023, 12, 31), "B"), appt("p1", date(2024, 1, 1), "A"),
                    appt("p1", date(2025, 12, 31), "A"), appt("p1", date(2026, 1, 1), "B")]
    row = patient(compute(extract(appointments), WINDOW), "p1")
    assert row["contacts"] == 2 and row["upc"] == 1.0


def test_contact_order_puts_a_missing_time_after_any_time_then_appointment_id(compute) -> None:
    day = date(2024, 3, 1)
    # same day: 09:00 C (id b2), 09:00 B (id z9), then A with no time; next day A -> C B A A
    appointments = [
        appt("p1", day, "A", appointment_id="a1"),
        appt("p1", day, "B", at=time(9), appointment_id="z9"),
        appt("p1", day, "C", at=time(9), appointment_id="b2"),
        appt("p1", day + timedelta(days=1), "A", appointment_id="a0"),
    ]
    row = patient(compute(extract(appointments), WINDOW), "p1")
    assert row["secon"] == pytest.approx(1 / 3)  # C B A A: one same-clinician pair of three


def test_same_day_collapse_keeps_the_first_in_contact_order(compute) -> None:
    day = date(2024, 3, 1)
    appointments = [
        appt("p1", day, "A", at=time(11)),
        appt("p1", day, "A", at=time(9)),
        appt("p1", day, "A"),
        appt("p1", day + timedelta(days=3), "B"),
    ]
    tables = extract(appointments)
    assert patient(compute(tables, WINDOW.with_(collapse_same_day=False)), "p1")["contacts"] == 4
    collapsed = patient(compute(tables, WINDOW), "p1")  # collapsing is the default
    assert collapsed["contacts"] == 2 and collapsed["upc"] == 0.5
    assert collapsed["secon"] == 0.0


def test_patient_belongs_to_the_registered_practice(compute) -> None:
    appointments = visits("p1", "AA", practice="B82002") + visits("p2", "AB")
    patients = [{"patient_id": "p1", "practice_code": "A81001"},
                {"patient_id": "p2", "practice_code": "A81001"}]
    out = compute(extract(appointments, patients), WINDOW)
    assert patient(out, "p1")["practice_code"] == "A81001"
    practices = {r["practice_code"]: r for r in out["practices"].to_dicts()}
    assert practices["A81001"]["contacts"] == 4
    assert practices["B82002"]["contacts"] == 0  # listed, no patients: blank, not dropped
    assert practices["B82002"]["upc_mean"] is None


def test_an_unlisted_patient_belongs_where_their_last_contact_in_contact_order_was(compute
                                                                                 ) -> None:
    # Not in the patients extract: placed at the practice of the last appointment in contact
    # order. u1: same day, 09:00 at B82002 then 14:00 at A81001 -> A81001. u2: same day, no
    # times: the larger appointment id (z-2 at B82002) is last -> B82002.
    day = date(2024, 3, 1)
    appointments = [
        appt("u1", day, "A", at=time(14), practice="A81001", appointment_id="a-1"),
        appt("u1", day, "B", at=time(9), practice="B82002", appointment_id="b-1"),
        appt("u2", day, "A", practice="B82002", appointment_id="z-2"),
        appt("u2", day, "B", practice="A81001", appointment_id="z-1"),
    ]
    tables = extract(appointments, patients=[{"patient_id": "p0", "practice_code": "A81001"}])
    out = compute(tables, WINDOW)
    assert patient(out, "u1")["practice_code"] == "A81001"
    assert patient(out, "u2")["practice_code"] == "B82002"
    assert reference.registered_practices(tables) == {"p0": "A81001", "u1": "A81001",
                                                      "u2": "B82002"}


def test_usual_provider_ties_go_to_the_one_seen_most_recently(compute) -> None:
    appointments = visits("p1", "ABBA")
    out = compute(extract(appointments), WINDOW)
    assert patient(out, "p1")["usual_clinician_id"] == "A"  # 2 each, A seen on the later day
    assert reference.patient_indices(extract(appointments), WINDOW)["p1"][
        "usual_clinician_id"] == "A"


SAME_DAY = date(2024, 2, 1)


@pytest.mark.parametrize(("a", "b", "usual"), [
    # A and B seen once each, on the same day: "most recently" is later in contact order
    ((time(9, 0), "1"), (time(11, 0), "2"), "B"),     # B at 11:00 is later than A at 9:00
    ((time(16, 0), "1"), (time(8, 30), "2"), "A"),    # whichever id, the time decides
    ((None, "1"), (time(17, 0), "2"), "A"),           # a missing time is later than any time
    ((time(10, 0), "2"), (None, "1"), "B"),
    ((time(10, 0), "2"), (time(10, 0), "1"), "A"),    # same time: larger appointment id
    ((None, "1"), (None, "2"), "B"),                  # both missing: larger appointment id
], ids=["later-time", "later-time-smaller-id", "missing-time-a", "missing-time-b",
        "same-time-larger-id", "both-missing-larger-id"])
def test_usual_provider_ties_on_the_same_day_go_to_the_later_time_then_appointment_id(
        compute, a: tuple, b: tuple, usual: str) -> None:
    """docs/methods.md s.3: not the smallest clinician id."""
    appointments = [appt("p1", SAME_DAY, "A", at=a[0], appointment_id=a[1]),
                    appt("p1", SAME_DAY, "B", at=b[0], appointment_id=b[1])]
    tables = extract(appointments)
    assert patient(compute(tables, WINDOW), "p1")["usual_clinician_id"] == usual
    assert reference.patient_indices(tables, WINDOW)["p1"]["usual_clinician_id"] == usual


def test_kpc_looks_back_365_days_before_each_contact_even_before_the_window(compute) -> None:
    start = WINDOW.window_start
    appointments = [
        appt("p1", start - timedelta(days=365), "A"),  # makes A known on start + 0
        appt("p1", start, "A"),                        # known
        appt("p1", start, "B"),                        # not known: first B
        appt("p1", start, "B"),                        # same day: not yet known
        appt("p1", start + timedelta(days=1), "B"),    # known
        appt("p1", start - timedelta(days=400), "C"),  # too old to make C known
        appt("p1", start + timedelta(days=2), "C"),    # not known
    ]
    row = patient(compute(extract(appointments), WINDOW.with_(collapse_same_day=False)), "p1")
    assert row["contacts"] == 5
    assert row["kpc"] == pytest.approx(2 / 5)


def test_slicc_and_opr_by_hand(compute) -> None:
    """Practice with named GPs G1, G2; registrar R holds no list; p3 has no named GP.

    p1 (G1): G1 G1 R  -> 2 of 3 with named GP
    p2 (G2): G1 G2    -> 1 of 2
    p3 (none): G1 G2  -> left out of SLICC (coverage 5 / 7)
    SLICC = 3 / 5.  OPR G1: own-list contacts 2 of G1's 4 (p1 x2, p2, p3); G2: 1 of 2.
    Practice OPR = (2 + 1) / (4 + 2).
    """
    appointments = visits("p1", "GGR", role="gp") + visits("p2", "GH") + visits("p3", "GH")
    for a in appointments:
        a["clinician_id"] = {"G": "G1", "H": "G2", "R": "R1"}[a["clinician_id"]]
        a["clinician_role"] = "gp_registrar" if a["clinician_id"] == "R1" else "gp"
    patients = [
        {"patient_id": "p1", "practice_code": "A81001", "usual_gp_id": "G1"},
        {"patient_id": "p2", "practice_code": "A81001", "usual_gp_id": "G2"},
        {"patient_id": "p3", "practice_code": "A81001"},
        {"patient_id": "p4", "practice_code": "A81001", "usual_gp_id": "G1"},  # no contacts
    ]
    out = compute(extract(appointments, patients), WINDOW)
    practice = out["practices"].to_dicts()[0]
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (3, 5)
    assert practice["slicc"] == pytest.approx(0.6)
    assert (practice["opr_numerator"], practice["opr_denominator"]) == (3, 6)
    lists = {r["usual_gp_id"]: r for r in out["gp_lists"].to_dicts()}
    assert lists["G1"]["list_patients"] == 2 and lists["G2"]["list_patients"] == 1
    assert (lists["G1"]["slicc_numerator"], lists["G1"]["slicc_denominator"]) == (2, 3)
    assert (lists["G2"]["slicc_numerator"], lists["G2"]["slicc_denominator"]) == (1, 2)
    assert (lists["G1"]["opr_numerator"], lists["G1"]["opr_denominator"]) == (2, 4)
    assert (lists["G2"]["opr_numerator"], lists["G2"]["opr_denominator"]) == (1, 2)


def test_slicc_uses_gp_contacts_whatever_the_staff_group(compute) -> None:
    appointments = visits("p1", "GN")
    appointments[1]["clinician_role"] = "nurse"
    patients = [{"patient_id": "p1", "practice_code": "A81001", "usual_gp_id": "G"}]
    out = compute(extract(appointments, patients), WINDOW.with_(staff_group="clinical"))
    practice = out["practices"].to_dicts()[0]
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (1, 1)
    assert practice["contacts"] == 2


def test_slicc_monthly_is_a_full_grid_with_missing_months_blank(compute) -> None:
    appointments = [appt("p1", date(2024, 1, 5), "G"), appt("p1", date(2024, 3, 5), "X")]
    patients = [{"patient_id": "p1", "practice_code": "A81001", "usual_gp_id": "G"}]
    out = compute(extract(appointments, patients), Params(date(2024, 1, 1), date(2024, 3, 31)))
    monthly = out["slicc_monthly"].sort("month").to_dicts()
    assert [m["month"] for m in monthly] == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert [m["slicc"] for m in monthly] == [1.0, None, 0.0]
    assert [m["slicc_denominator"] for m in monthly] == [1, 0, 1]


def test_a_window_starting_mid_month_counts_slicc_from_its_first_day(compute) -> None:
    """Window 15 January to February. p1's GP contacts: G in June and July 2023 (so G is the
    inferred GP of both months), X on 5 January (look-back: history, not SLICC), G on 20
    January, X on 5 February. Named GP G. January: 1 of 1 with G; February: 0 of 1."""
    appointments = [appt("p1", date(2023, 6, 1), "G"), appt("p1", date(2023, 7, 1), "G"),
                    appt("p1", date(2024, 1, 5), "X"), appt("p1", date(2024, 1, 20), "G"),
                    appt("p1", date(2024, 2, 5), "X")]
    patients = [{"patient_id": "p1", "practice_code": "A81001", "usual_gp_id": "G"}]
    out = compute(extract(appointments, patients), Params(date(2024, 1, 15), date(2024, 2, 29)))
    named = out["slicc_monthly"].sort("month").to_dicts()
    assert [(m["slicc_numerator"], m["slicc_denominator"]) for m in named] == [(1, 1), (0, 1)]
    practice = out["practices"].to_dicts()[0]
    assert (practice["slicc_numerator"], practice["slicc_denominator"]) == (1, 2)
    inferred = out["slicc_inferred_monthly"].sort("month").to_dicts()
    assert [(m["slicc_inferred_numerator"], m["slicc_inferred_denominator"], m["gp_contacts"])
            for m in inferred] == [(1, 1, 1), (0, 1, 1)]


def test_rollups_come_from_patients_not_from_practice_means(compute) -> None:
    appointments = visits("p1", "AB", practice="A81001") \
        + [a for i in range(3) for a in visits(f"q{i}", "AA", practice="B82002")]
    practices = [
        {"practice_code": "A81001", "practice_name": "One", "pcn_code": "U00001",
         "pcn_name": "N", "imd_decile": 1},
        {"practice_code": "B82002", "practice_name": "Two", "pcn_code": "U00001",
         "pcn_name": "N", "imd_decile": 10},
    ]
    out = compute(extract(appointments, practices=practices), WINDOW)
    pcn = out["pcns"].to_dicts()[0]
    assert pcn["eligible_patients"] == 4 and pcn["contacts"] == 8
    assert pcn["upc_mean"] == pytest.approx((0.5 + 3 * 1.0) / 4)  # not (0.5 + 1) / 2
    assert pcn["upc_pooled"] == pytest.approx(7 / 8)
    bands = {(r["band_source"], r["imd_quintile"]): r for r in out["deprivation"].to_dicts()}
    assert bands[("practice", "1")]["upc_mean"] == 0.5
    assert bands[("practice", "5")]["eligible_patients"] == 3


def test_staff_groups_and_deprivation_quintiles_have_one_definition() -> None:
    """docs/methods.md s.1 and s.7, spelled out: the SQL reads these through the engine's
    role_groups and imd_quintiles tables, the reference and the sample through the constants."""
    from metrics.pipeline.engine import parameter_frames
    from metrics.schema import IMD_QUINTILE_OF_DECILE, STAFF_GROUP_ROLES

    assert STAFF_GROUP_ROLES["gp"] == ("gp", "gp_registrar", "locum_gp")
    assert set(STAFF_GROUP_ROLES["clinical"]) == {
        "gp", "gp_registrar", "locum_gp", "nurse", "pharmacist", "physiotherapist", "paramedic",
        "physician_associate", "social_prescriber", "other_clinical"}  # not admin, unknown
    assert set(STAFF_GROUP_ROLES["all"]) == {*STAFF_GROUP_ROLES["clinical"], "admin", "unknown"}
    # quintile = ceil(decile / 2), 1 = most deprived
    assert IMD_QUINTILE_OF_DECILE == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5,
                                      10: 5}
    frames = parameter_frames(WINDOW.with_(staff_group="clinical"))
    assert dict(frames["imd_quintiles"].rows()) == IMD_QUINTILE_OF_DECILE
    counted = frames["role_groups"].filter("in_staff_group")["role"].to_list()
    assert set(counted) == set(STAFF_GROUP_ROLES["clinical"])
