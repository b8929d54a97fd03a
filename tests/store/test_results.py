"""The dashboard's page tables (metrics.read) on a small extract worked by hand.

Three practices, four patients, all contacts in Jan-Mar 2024; the last appointment is on
31 Mar 2024, so the stored window is Apr 2022 to Mar 2024 (24 months).

    A81001 Alpha (PCN U00001, ICB QAA, IMD decile 1)
        p1, named GP G1, 75+, IMD 1: G1 3 Jan, G1 10 Jan (telephone), G2 17 Jan, nurse 24 Jan
        p2, named GP G2, 18-39, IMD 2: G2 7 Feb, G1 14 Feb
    A81002 Beta (PCN U00001, ICB QAA, IMD decile 10)
        p3, named GP G3, 40-64, IMD 10: G3 ten times, weekly from 2 Jan (Jan 5, Feb 4, Mar 1)
    A81003 Gamma (PCN U00002, ICB QBB, IMD decile 5)
        p4, named GP G9, 40-64, IMD 5: G9 1 Mar, G8 8 Mar, nurse 31 Mar

SLICC: A81001 Jan 2/3 (p1 saw G1 twice of 3), Feb 1/2, window 3/5; A81002 10/10;
A81003 Mar 1/2; PCN U00001 13/15; all 14/17. OPR at A81001: G1 2/3 (p1 twice, p2 once),
G2 1/2, practice 3/5. UPC (GP contacts, N >= 2): p1 2/3, p2 1/2, p3 1, p4 1/2; COC: p1 1/3,
p2 0, p3 1, p4 0.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from metrics import read
from metrics.access import Viewer
from metrics.disclosure import NHS_RULE, NO_CONTROL, mask_column
from metrics.params import Params
from metrics.pipeline import build
from metrics.read import NetworkOptions, PracticeOptions, Selection, Table
from tests.builders import appt, extract
from views.format import display_frame

A, B, C = "A81001", "A81002", "A81003"
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
# A practice's own view: exact numbers for A81001 only, NHS rule for everything shared.
OWN = Viewer(name="partner", role="practice", full_practices=frozenset({A}), per_gp=True)
REVIEWER = Viewer(name="reviewer", role="reviewer", full_practices=frozenset())
# For deciles worked without rounding: nothing controlled anywhere.
EXACT = Viewer(name="analyst", role="local", full_practices=None, per_gp=True,
               shared_rule=NO_CONTROL)


def hand_extract() -> dict[str, pl.DataFrame]:
    d = date
    appointments = [
        appt("p1", d(2024, 1, 3), "G1", practice=A),
        appt("p1", d(2024, 1, 10), "G1", practice=A, mode="telephone"),
        appt("p1", d(2024, 1, 17), "G2", practice=A),
        appt("p1", d(2024, 1, 24), "N1", practice=A, role="nurse"),
        appt("p2", d(2024, 2, 7), "G2", practice=A),
        appt("p2", d(2024, 2, 14), "G1", practice=A),
        *[appt("p3", d(2024, 1, 2) + timedelta(days=7 * i), "G3", practice=B)
          for i in range(10)],
        appt("p4", d(2024, 3, 1), "G9", practice=C),
        appt("p4", d(2024, 3, 8), "G8", practice=C),
        appt("p4", d(2024, 3, 31), "N2", practice=C, role="nurse"),
    ]
    patients = [
        {"patient_id": "p1", "practice_code": A, "usual_gp_id": "G1", "imd_decile": 1,
         "age_band": "75+"},
        {"patient_id": "p2", "practice_code": A, "usual_gp_id": "G2", "imd_decile": 2,
         "age_band": "18-39"},
        {"patient_id": "p3", "practice_code": B, "usual_gp_id": "G3", "imd_decile": 10,
         "age_band": "40-64"},
        {"patient_id": "p4", "practice_code": C, "usual_gp_id": "G9", "imd_decile": 5,
         "age_band": "40-64"},
    ]
    practices = [
        {"practice_code": A, "practice_name": "Alpha Surgery", "pcn_code": "U00001",
         "pcn_name": "North PCN", "icb_code": "QAA", "list_size": 1000, "imd_decile": 1,
         "personal_lists": True},
        {"practice_code": B, "practice_name": "Beta Surgery", "pcn_code": "U00001",
         "pcn_name": "North PCN", "icb_code": "QAA", "list_size": 3000, "imd_decile": 10},
        {"practice_code": C, "practice_name": "Gamma Surgery", "pcn_code": "U00002",
         "pcn_name": "South PCN", "icb_code": "QBB", "list_size": 2000, "imd_decile": 5},
    ]
    return extract(appointments, patients, practices)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("results") / "hand.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    return path


@pytest.fixture(scope="module")
def source(db: Path) -> read.ResultSource:
    return read.open_results(db)


def rows(table: Table, key: str) -> dict[str, dict]:
    return {r[key]: r for r in table.shown().iter_rows(named=True)}


def wilson(x: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Newcombe (1998) method 3, written out independently of metrics.stats."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_the_stored_window_is_the_24_months_ending_with_the_last_complete_month(source):
    assert (source.params.window_start, source.params.window_end) == (
        date(2022, 4, 1), date(2024, 3, 31))


def test_overview_headline_exact_and_under_the_nhs_rule(source):
    exact = read.overview_summary(source, NO_CONTROL).shown().row(0, named=True)
    assert (exact["slicc_numerator"], exact["slicc_denominator"]) == (14, 17)
    assert exact["slicc"] == pytest.approx(14 / 17)
    assert (exact["slicc_lci"], exact["slicc_uci"]) == pytest.approx(wilson(14, 17))
    assert exact["eligible_patients"] == 4
    assert exact["upc_mean"] == pytest.approx((2 / 3 + 1 / 2 + 1 + 1 / 2) / 4)
    assert exact["coc_mean"] == pytest.approx((1 / 3 + 0 + 1 + 0) / 4)
    shared = read.overview_summary(source, NHS_RULE).shown().row(0, named=True)
    # 14 -> 15 and 17 -> 15: the ratio comes from the rounded counts; 4 patients < 8: hidden
    assert (shared["slicc_numerator"], shared["slicc_denominator"]) == ("15", "15")
    assert float(shared["slicc"]) == 1.0
    assert shared["eligible_patients"] == "*"
    assert shared["upc_mean"] == "*"
    assert shared["upc_lci"] is None and shared["upc_uci"] is None


def test_practice_against_pcn_icb_and_all_own_row_exact_others_controlled(source):
    table = read.practice_peers(source, A, "slicc", OWN)
    got = rows(table, "unit")
    assert list(got) == [f"Practice {A}", "PCN U00001", "ICB QAA", "All practices"]
    own = got[f"Practice {A}"]
    assert (own["slicc_numerator"], own["slicc_denominator"]) == ("3", "5")
    assert float(own["slicc"]) == pytest.approx(0.6)
    assert (own["slicc_lci"], own["slicc_uci"]) == pytest.approx(wilson(3, 5))
    # PCN U00001 and ICB QAA hold two practices each: beside A's exact figures either would
    # give B's counts back by subtraction, so neither is shown to A's partner
    for group in ("PCN U00001", "ICB QAA"):
        assert (got[group]["slicc_numerator"], got[group]["slicc_denominator"],
                got[group]["slicc"], got[group]["slicc_lci"]) == ("*", "*", "*", None)
        assert got[group]["practices"] == 2
    every = got["All practices"]  # three practices: 14/17 rounds to 15/15
    assert (every["slicc_numerator"], every["slicc_denominator"], float(every["slicc"])) == (
        "15", "15", 1.0)
    assert (every["slicc_lci"], every["slicc_uci"]) == pytest.approx(wilson(15, 15))
    assert table.own_rows is not None and "A81001" in table.own_rows
    assert table.rule == NHS_RULE


def test_a_reviewer_sees_the_practice_row_under_the_shared_rule(source):
    own = rows(read.practice_peers(source, A, "slicc", REVIEWER), "unit")[f"Practice {A}"]
    assert (own["slicc_numerator"], own["slicc_denominator"], own["slicc"]) == ("*", "*", "*")
    assert own["slicc_lci"] is None


def test_named_gp_lists_carry_slicc_opr_and_list_size_in_the_own_view_only(source):
    table = read.gp_lists(source, A, OWN)
    assert table is not None and table.internal
    got = rows(table, "named_gp")
    assert set(got) == {"G1", "G2"}
    g1, g2 = got["G1"], got["G2"]
    assert (g1["list_patients"], g1["slicc_numerator"], g1["slicc_denominator"]) == (1, 2, 3)
    assert (g1["opr_numerator"], g1["opr_denominator"]) == (2, 3)
    assert (g2["slicc_numerator"], g2["slicc_denominator"]) == (1, 2)
    assert (g2["opr_numerator"], g2["opr_denominator"]) == (1, 2)
    assert (g1["slicc_lci"], g1["slicc_uci"]) == pytest.approx(wilson(2, 3))
    assert read.gp_lists(source, A, REVIEWER) is None
    assert read.gp_lists(source, B, OWN) is None  # not this viewer's practice


def test_patient_groups_keep_their_natural_order(source):
    table = read.practice_groups(source, A, "age_band", "upc", OWN)
    assert table.shown()["age_band"].to_list() == ["18-39", "75+"]
    got = rows(table, "age_band")
    assert got["75+"]["upc_mean"] == pytest.approx(2 / 3)
    assert got["18-39"]["upc_mean"] == pytest.approx(1 / 2)
    quintiles = read.practice_groups(source, A, "patient_imd_quintile", "slicc", OWN)
    only = quintiles.shown().row(0, named=True)  # p1 (decile 1) and p2 (decile 2): Q1
    assert (only["label"], only["slicc_numerator"], only["slicc_denominator"]) == (
        "Q1 most deprived", 3, 5)


def test_who_patients_saw_shares_of_attended_appointments(source):
    table = read.practice_mix(source, A, "role", OWN)
    own = table.shown().filter(pl.col("unit") == f"Practice {A}")
    got = {r["category"]: r for r in own.iter_rows(named=True)}
    assert (got["GP"]["numerator"], got["GP"]["denominator"]) == ("5", "6")
    assert float(got["GP"]["share"]) == pytest.approx(5 / 6)
    assert (got["Nurse"]["numerator"], float(got["Nurse"]["share"])) == ("1", pytest.approx(1 / 6))
    modes = read.practice_mix(source, A, "mode", OWN).shown().filter(
        pl.col("unit") == f"Practice {A}")
    by_mode = {r["category"]: r["numerator"] for r in modes.iter_rows(named=True)}
    assert (by_mode["Face to face"], by_mode["Telephone"]) == ("5", "1")


def test_monthly_slicc_missing_months_stay_blank_never_zero(source):
    table = read.practice_monthly(source, A, OWN)
    frame = table.shown()
    assert frame.height == 24
    got = {r["month"]: r for r in frame.iter_rows(named=True)}
    assert got[JAN]["slicc"] == pytest.approx(2 / 3)
    assert got[FEB]["slicc"] == pytest.approx(1 / 2)
    assert got[MAR]["slicc"] is None and got[MAR]["slicc_denominator"] == 0
    assert frame.filter(pl.col("slicc").is_not_null()).height == 2


def test_spc_table_lists_the_limits_drawn_for_the_practice(source):
    tables = read.practice_spc(source, A, OWN, PracticeOptions(target="good"))
    spc = tables["spc"]
    got = {r["month"]: r for r in spc.shown().iter_rows(named=True)}
    centre, mr = (2 / 3 + 1 / 2) / 2, 1 / 6  # two observed months, one moving range
    assert got[JAN]["slicc_centre"] == pytest.approx(centre)
    assert got[JAN]["slicc_lower_limit"] == pytest.approx(centre - 2.66 * mr)
    assert got[JAN]["slicc_upper_limit"] == pytest.approx(centre + 2.66 * mr)
    assert got[JAN]["variation"] == "common" and not got[JAN]["special_cause"]
    assert got[MAR]["variation"] is None and got[MAR]["slicc"] is None
    assert spc.result.target == 0.5
    assert spc.result.assurance == "inconsistent"  # 0.14 .. 1.03 straddles 50%
    assert spc.key == f"practice_{A}_slicc_monthly_spc_target50"


def test_spc_series_can_be_a_named_gp_list_or_the_pcn(source):
    gp = read.practice_spc(source, A, OWN, PracticeOptions(series="gp_list",
                                                              gp_list="G2"))["spc"]
    assert gp.internal
    got = {r["month"]: r for r in gp.shown().iter_rows(named=True)}
    # G2's list is p2: Feb G2 then G1
    assert (got[FEB]["slicc_numerator"], got[FEB]["slicc_denominator"]) == (1, 2)
    assert got[JAN]["slicc"] is None
    pcn = read.practice_spc(source, A, OWN, PracticeOptions(series="pcn"))["spc"]
    assert not pcn.internal and pcn.key.startswith("pcn_U00001")
    jan = {r["month"]: r for r in pcn.shown().iter_rows(named=True)}[JAN]
    # 2/3 at A81001 and 5/5 at A81002: a PCN of two practices is not shown outside them
    assert (jan["slicc_numerator"], jan["slicc_denominator"]) == ("*", "*")
    # a reviewer asking for a named-GP list gets the practice series instead
    fallback = read.practice_spc(source, A, REVIEWER,
                                    PracticeOptions(series="gp_list", gp_list="G2"))["spc"]
    assert fallback.key == f"practice_{A}_slicc_monthly_spc" and not fallback.internal


def test_spc_table_reads_special_causes_on_a_constructed_series():
    months = [date(2024, m, 1) for m in range(1, 10)]
    values = [0.40, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.45, None]
    frame = pl.DataFrame({"label": ["X"] * 9, "month": months, "slicc": values})
    series = Table("x_monthly", "X", frame, "x", NO_CONTROL)
    spc = read.spc_table(series, "slicc", target=0.75,
                            rebase_at=[date(2024, 8, 1)])
    got = spc.shown().select("month", "special_cause", "variation", "reason").rows()
    # Jan-Jul: centre 0.43, every moving range 0.01, limits 0.43 +/- 0.0266
    assert [r[1] for r in got[:7]] == [True] * 7
    assert got[0][2] == "concern"  # 0.40 is below 0.4034: the first rule met decides
    assert got[0][3] == ("Special cause concern: below the lower process limit; part of 7 or "
                         "more points in a row each higher than the last")
    assert got[1][2:] == ("improvement", "Special cause improvement: part of 7 or more points "
                          "in a row each higher than the last")
    assert got[6][3].startswith("Special cause improvement: above the upper process limit")
    got = spc.shown()
    assert got["variation"][8] is None  # September is missing, not zero
    assert spc.title == "X: XmR chart; target 75%; rebased at Aug 2024"
    assert spc.result.assurance is None  # one point in the last segment: no limits


def test_funnel_table_target_limits_and_flags_worked_by_hand(source):
    units = read.funnel_units(source, "slicc", NO_CONTROL)
    funnel = read.funnel_table(units, "slicc", overdispersion=False)
    got = rows(funnel, "practice_code")
    target = (3 + 10 + 1) / (5 + 10 + 2)
    assert got[A]["slicc_target"] == pytest.approx(target)

    def limit(n: int, z: float) -> float:  # arcsine scale, as FunnelPlotR
        angle = math.asin(math.sqrt(target)) + z / (2 * math.sqrt(n))
        return math.sin(min(max(angle, 0), math.pi / 2)) ** 2

    assert got[A]["slicc_lower95"] == pytest.approx(limit(5, -1.959964), abs=1e-6)
    assert got[A]["slicc_upper998"] == pytest.approx(limit(5, 3.090232), abs=1e-6)
    z_b = (math.asin(1.0) - math.asin(math.sqrt(target))) * 2 * math.sqrt(10)
    assert got[B]["z_score"] == pytest.approx(z_b)
    assert (got[B]["outside_95"], got[B]["outside_99_8"]) == ("high", None)  # z = 2.73
    assert got[C]["z_score"] is not None  # 1/2 at n = 2
    assert funnel.result.adjusted is False
    assert funnel.title == "SLICC funnel plot: practices in the data (unadjusted limits)"


def test_funnel_needs_two_units_with_values():
    frame = pl.DataFrame({"practice_code": ["A"], "slicc": [0.5], "slicc_numerator": [1],
                          "slicc_denominator": [2]})
    funnel = read.funnel_table(Table("one", "One", frame, "x", NO_CONTROL), "slicc")
    assert funnel.result is None


def test_network_scope_defaults_to_the_selected_practice(source):
    sel = Selection(index="slicc", practice=C)
    tables = read.network_tables(source, sel, NO_CONTROL,
                                    NetworkOptions(scope="icb", overdispersion=False))
    assert tables["funnel"].shown()["practice_code"].to_list() == [C]  # ICB QBB: one practice
    assert tables["pcn_practices"].shown()["practice_code"].to_list() == [C]
    assert read.scope_code(source, sel, "pcn", "U00001") == "U00001"
    assert read.scope_code(source, sel, "pcn", "nonsense") == "U00002"
    assert read.scope_code(source, Selection(), "icb") == "QAA"  # the first one
    pcns = read.network_tables(source, Selection(), NO_CONTROL,
                                  NetworkOptions(unit="pcn"))["funnel"]
    assert rows(pcns, "pcn_code")["U00001"]["slicc_numerator"] == 13


def test_deprivation_bands_from_practice_and_patient_deciles(source):
    tables = read.deprivation_tables(source, Selection(index="slicc"), NO_CONTROL)
    practice = rows(tables["practice_band"], "practice_imd_quintile")
    assert {k: (r["slicc_numerator"], r["slicc_denominator"]) for k, r in practice.items()} == {
        "1": (3, 5), "3": (1, 2), "5": (10, 10)}
    assert practice["1"]["label"] == "Q1 most deprived"
    assert [r["practices"] for r in practice.values()] == [1, 1, 1]  # Q1, Q3, Q5 in order
    patient = rows(tables["patient_band"], "patient_imd_quintile")
    assert (patient["1"]["slicc_numerator"], patient["1"]["slicc_denominator"]) == (3, 5)


def test_deciles_over_all_practices_or_the_icb(source):
    every = {r["month"]: r for r in
             read.practice_deciles(source, B, EXACT).shown().iter_rows(named=True)}
    # March: B 1/1 and C 1/2 have values: median 0.75, B ranks top of 2
    assert every[MAR]["practices"] == 2
    assert every[MAR]["p50"] == pytest.approx(0.75)
    assert every[MAR]["percentile"] == 100.0
    # January: A 2/3 and B 5/5; C has no GP contacts that month (not ranked, not zero)
    assert every[JAN]["practices"] == 2 and every[JAN]["p50"] == pytest.approx(5 / 6)
    icb = {r["month"]: r for r in
           read.practice_deciles(source, B, EXACT, "icb").shown().iter_rows(named=True)}
    assert icb[MAR]["practices"] == 1 and icb[MAR]["p50"] == 1.0  # QAA: A has no March
    assert icb[MAR]["percentile"] == 0.0  # the only unit


def test_rolling_upc_table_is_controlled_like_every_shared_mean():
    con = duckdb.connect()
    con.execute("CREATE TABLE result_group_rolling_upc AS SELECT * FROM (VALUES "
                "('practice', 'A81001', '', DATE '2024-01-01', 10, 0.6, 0.2, 60, 100, 0.6),"
                "('practice', 'A81001', '', DATE '2024-02-01', 5, 0.5, 0.1, 20, 40, 0.5),"
                "('practice', 'A81002', '', DATE '2024-01-01', 9, 0.9, 0.1, 9, 10, 0.9)"
                ") t(level, group_code, subgroup, month_start, eligible_patients, upc_mean, "
                "upc_sd, upc_pooled_numerator, upc_pooled_denominator, upc_pooled)")
    params = Params(window_start=date(2024, 1, 1), window_end=date(2024, 2, 29))
    src = read.ResultSource(con, params, "result_")
    table = read.rolling_upc_table(src, "practice", A, NHS_RULE, key="k", title="t",
                                      scope="s")
    assert table is not None
    jan, feb = table.shown().iter_rows(named=True)
    assert (jan["month"], jan["eligible_patients"], float(jan["upc_mean"])) == (
        JAN, "10", 0.6)
    half = 2.2621571627409915 * 0.2 / math.sqrt(10)  # t(9, 0.975) x sd / sqrt(n)
    assert (float(jan["upc_lci"]), float(jan["upc_uci"])) == pytest.approx(
        (0.6 - half, 0.6 + half))
    assert (feb["eligible_patients"], feb["upc_mean"], feb["upc_lci"]) == ("*", "*", None)
    assert [float(v) for v in read.rolling_upc(src, "practice", [B])["upc_mean"]] == [0.9]
    assert "short_history" not in table.shown().columns  # no history_months: nothing to mark


def test_rolling_windows_short_of_history_are_drawn_but_not_judged():
    months = [date(2024, m, 1) for m in range(1, 7)]
    frame = pl.DataFrame({"label": ["A"] * 6, "month": months,
                          "upc_mean": [0.9, 0.8, 0.5, 0.6, 0.5, 0.6],
                          "short_history": [True, True, False, False, False, False]})
    spc = read.spc_table(Table("r", "R", frame, "x", NO_CONTROL), "upc_mean",
                            leave_out="short_history")
    got = spc.shown()
    assert got["variation"].to_list() == [None, None, *["common"] * 4]
    assert got["upc_mean_centre"][2] == pytest.approx(0.55)  # mean of the four judged
    assert got["upc_mean"].to_list()[:2] == [0.9, 0.8]  # still listed as shown


def test_rolling_upc_is_none_for_a_database_without_it():
    con = duckdb.connect()
    params = Params(window_start=date(2024, 1, 1), window_end=date(2024, 2, 29))
    assert read.rolling_upc(read.ResultSource(con, params, "result_"), "practice") is None


EXPORT_PARAMS = Params(window_start=date(2024, 1, 1), window_end=date(2024, 12, 31))


def export_table() -> Table:
    """Two PCNs, the second's SLICC and numerator suppressed: numbers with their masks."""
    frame = pl.DataFrame({"label": ["=North", "South"], "slicc": [0.5, None],
                          "slicc_numerator": [10, None], "slicc_denominator": [20, 5],
                          "slicc_lci": [0.299, None], "slicc_uci": [0.701, None],
                          mask_column("slicc"): [False, True],
                          mask_column("slicc_numerator"): [False, True],
                          mask_column("slicc_denominator"): [False, False]})
    return Table("pcns_slicc", "All PCNs side by side", frame, "pcn level", NHS_RULE)


def test_export_csv_is_the_table_as_shown_after_its_header_block():
    got = read.export_csv(export_table(), EXPORT_PARAMS,
                             Selection(index="slicc", practice="A81001"))
    assert got.decode("utf-8") == (
        "# product: continuity-of-care dashboard (python -m metrics)\n"
        "# table: All PCNs side by side\n"
        "# filter: index: SLICC (St Leonard's Index of Continuity of Care; pooled ratio over "
        "contacts)\n"
        "# filter: practice: A81001\n"
        "# filter: PCN: none selected\n"
        "# scope: pcn level\n"
        "# window: 2024-01-01 to 2024-12-31 (inclusive)\n"
        "# contacts counted: attended appointments with a recorded clinician\n"
        "# staff group (UPC, COC, SECON, MMCI, HHI, KPC): GP (gp, gp_registrar, locum_gp)\n"
        "# staff group (SLICC, OPR): GP (gp, gp_registrar, locum_gp)\n"
        "# modes: face_to_face, telephone, video_online, home_visit\n"
        "# minimum contacts per patient: 2\n"
        "# same-day contacts with the same clinician: collapsed into one\n"
        "# patient indices: mean of patient values over eligible patients (contacts >= "
        "minimum); upc_pooled = sum of max_j n_j / sum of N\n"
        "# SLICC, OPR: pooled ratios over GP contacts, with numerator and denominator\n"
        "# disclosure control: nhs: counts 1-7 shown as *, other counts rounded to the "
        "nearest 5, zero stays 0; ratios, coverage and intervals computed from the rounded "
        "counts; means over fewer than 8 patients not shown; a second count suppressed where "
        "one suppressed member of a total could be found by subtraction; group figures resting "
        "on fewer than 3 practices not shown\n"
        "label,slicc,slicc_numerator,slicc_denominator,slicc_lci,slicc_uci\n"
        "'=North,0.5,10,20,0.299,0.701\n"
        "South,*,*,5,,\n")


def test_export_header_names_exact_rows_and_named_staff():
    table = Table("lists", "Lists", pl.DataFrame({"named_gp": ["G1"], "slicc": [0.5]}),
                  "practice A81001", NO_CONTROL, own_rows="rows of practice A81001: exact",
                  internal=True)
    about = dict(read.export_about(table, EXPORT_PARAMS, Selection()))
    assert about["exact rows"] == "rows of practice A81001: exact"
    assert about["named staff"] == "per-GP figures: for the practice's internal use only"
    assert [t.key for t in read.shareable([table, export_table()])] == ["pcns_slicc"]
    assert [t.key for t in read.shareable([table], include_internal=True)] == ["lists"]


def test_export_xlsx_holds_the_same_rows_and_the_header_block():
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(read.export_xlsx(export_table(), EXPORT_PARAMS,
                                                        Selection())))
    data = [[c.value for c in row] for row in book["data"].iter_rows()]
    assert data == [
        ["label", "slicc", "slicc_numerator", "slicc_denominator", "slicc_lci", "slicc_uci"],
        ["'=North", "0.5", "10", "20", 0.299, 0.701],
        ["South", "*", "*", "5", None, None]]
    about = {r[0].value: r[1].value for r in book["about"].iter_rows()}
    assert about["table"] == "All PCNs side by side"
    assert about["window"] == "2024-01-01 to 2024-12-31 (inclusive)"


def test_export_zip_holds_one_csv_per_table_byte_for_byte():
    import io
    import zipfile

    first, second = export_table(), Table("other", "Other", pl.DataFrame({"n": [1]}), "x",
                                          NO_CONTROL)
    data = read.export_zip_of([first, second], EXPORT_PARAMS, Selection())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["pcns_slicc.csv", "other.csv"]
        assert archive.read("other.csv") == read.export_csv(second, EXPORT_PARAMS,
                                                               Selection())
    assert data == read.export_zip_of([first, second], EXPORT_PARAMS, Selection())


def test_a_hostile_code_reaches_no_zip_path_and_no_live_header_cell():
    import csv
    import io
    import zipfile

    code = "../P1,=2+5,"
    table = Table(f"pcn_{code}_slicc", f"PCN {code}: SLICC", pl.DataFrame({"n": [1]}),
                  f"PCN {code}\r=1+1", NO_CONTROL)
    data = read.export_zip_of([table], EXPORT_PARAMS, Selection(pcn=code))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["pcn_._P1,=2+5,_slicc.csv"]
        text = archive.read("pcn_._P1,=2+5,_slicc.csv").decode()
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert "# filter: PCN: ../P1,'=2+5," in head
    assert "# scope: PCN ../P1,'=2+5, =1+1" in head
    cells = [c for row in csv.reader(head) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_tables_whose_safe_names_coincide_keep_one_zip_entry_each():
    import io
    import zipfile

    tables = [Table(key, key, pl.DataFrame({"n": [i]}), "x", NO_CONTROL)
              for i, key in enumerate(("pcn_a/b", "pcn_a_b", "pcn_a:b"))]
    data = read.export_zip_of(tables, EXPORT_PARAMS, Selection())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["pcn_a_b.csv", "pcn_a_b-2.csv", "pcn_a_b-3.csv"]
        assert archive.read("pcn_a_b-3.csv").decode().endswith("n\n2\n")


def test_display_frame_formats_around_suppressed_cells():
    shown = display_frame(export_table())
    assert shown["slicc"].to_list() == ["50.0%", "*"]
    assert shown["slicc_numerator"].to_list() == ["10", "*"]
    assert shown["slicc_denominator"].dtype == pl.Float64  # nothing hidden: stays a number


@pytest.mark.parametrize(("column", "kind"), [
    ("slicc", "percent"), ("slicc_lci", "percent"), ("upc_mean", "mean"),
    ("upc_mean_centre", "mean"), ("slicc_upper_limit", "percent"), ("upc_lower998", "mean"),
    ("slicc_target", "percent"), ("z_score", "z"), ("eligible_patients", "count"),
    ("percentile", "percentile"), ("label", None), ("p50", "percent")])
def test_column_kinds_decide_number_formats(column: str, kind: str | None):
    assert read.column_kind(column) == kind


def test_window_params_cover_whole_calendar_months():
    params = read.window_params("2024-02", 3, staff_group="clinical",
                                   modes=["telephone"], min_contacts=3)
    assert (params.window_start, params.window_end) == (date(2023, 12, 1), date(2024, 2, 29))
    assert (params.staff_group, params.modes, params.min_contacts) == (
        "clinical", ("telephone",), 3)


def test_a_reviewer_gets_every_practice_table_controlled_and_no_named_staff(source):
    tables = read.practice_tables(source, Selection(practice=A), REVIEWER,
                                     PracticeOptions(series="gp_list", gp_list="G1"))
    assert "gp_lists" not in tables
    assert not any(t.internal or t.own_rows for t in tables.values())
    monthly = {r["month"]: r for r in tables["monthly"].shown().iter_rows(named=True)}
    assert (monthly[JAN]["slicc_numerator"], monthly[JAN]["slicc"]) == ("*", "*")
    assert read.practice_tables(source, Selection(practice="Z99999"), REVIEWER) == {}


def test_the_share_of_attended_appointments_with_a_gp_is_a_fraction_not_zero(source):
    # A81001: January 3 GP contacts of 4 attended (p1's nurse visit), February 2 of 2
    frame = read.practice_gp_share(source, A, OWN).shown()
    got = {r["month"]: r for r in frame.iter_rows(named=True)}
    assert (got[JAN]["numerator"], got[JAN]["denominator"]) == (3, 4)
    assert got[JAN]["share"] == pytest.approx(0.75)
    assert got[FEB]["share"] == pytest.approx(1.0)
