"""The dashboard through Streamlit's AppTest: every page renders, filters change the figures,
charts carry their limits, flags and icons, and empty or broken data give a clear panel.

Two small databases per session: the hand-worked extract of tests/store/test_results.py (exact
values, months with no contacts) and an 8-practice synthetic sample (every page populated).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import read
from metrics.access import local_viewer
from metrics.charts import dashboard_figures as figures
from metrics.methods import INDICES
from metrics.pipeline import build
from metrics.read import PracticeOptions
from metrics.sample import SampleConfig
from tests.store.test_results import hand_extract

ROOT = Path(__file__).resolve().parents[2]
SMALL = SampleConfig(practices=8, pcns=2, scale=0.02)
PAGES = {"overview": "Continuity of care: overview", "practice": "My practice",
         "networks": "Networks", "deprivation": "Deprivation", "data": "Data",
         "export": "Export", "methods": "Methods"}
CHART_PAGES = ("overview", "practice", "networks", "deprivation")

App = Callable[..., AppTest]


HIDDEN = ("Hidden by disclosure control: every group here has counts under 8 or rests on fewer "
          "than 3 practices")


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "sample.duckdb"
    build.ensure_default_store(path, config=SMALL)
    return path


@pytest.fixture(scope="session")
def hand_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "hand.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    return path


@pytest.fixture(scope="session")
def sample_practice(sample_db: Path) -> str:
    return read.directory(read.open_results(sample_db))["practice_code"][0]


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> App:
    """open_app(db, page=None, **query params) -> the app after its first run(s)."""
    def run(db: Path, page: str | None = None, **query: str) -> AppTest:
        monkeypatch.setenv(build.DB_ENV, str(db))
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(f"views/{page}.py")
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def charts(at: AppTest) -> dict[str, dict]:
    """Every plotly figure on the page, by its title."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def chart(at: AppTest, starts: str) -> dict:
    (found,) = [s for t, s in charts(at).items() if t.startswith(starts)]
    return found


def trace(spec: dict, name: str) -> dict:
    (found,) = [t for t in spec["data"] if t.get("name") == name]
    return found


def values(data: object) -> list:
    """A trace's x or y as a list (plotly sends numpy arrays as base64 'bdata')."""
    if isinstance(data, dict) and "bdata" in data:
        import base64

        import numpy as np

        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        return [None if v != v else v for v in array.tolist()]  # NaN -> None
    return list(data)  # type: ignore[call-overload]


def annotations(spec: dict) -> dict[str, str]:
    return {a.get("name"): a["text"] for a in spec["layout"].get("annotations", [])}


def texts(at: AppTest) -> str:
    """All markdown and captions on the page, one string."""
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_an_error(open_app: App, sample_db: Path,
                                             sample_practice: str, page: str) -> None:
    at = open_app(sample_db, page, practice=sample_practice)
    assert [t.value for t in at.title] == [PAGES[page]]
    assert not at.error, [e.value for e in at.error]
    if page in CHART_PAGES:
        assert len(at.get("plotly_chart")) >= 2
        for title, spec in charts(at).items():
            # each chart says its n; on 8 practices the deprivation quintiles (under 3
            # practices each) are hidden, and their charts say so rather than "No data"
            empty = annotations(spec).get("empty")
            if page == "deprivation" and "practice deprivation quintile" in title:
                assert empty == HIDDEN, title
            else:
                assert spec["layout"]["title"]["subtitle"]["text"] and empty is None, title


def test_changing_the_index_filter_changes_the_figures(open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db)
    slicc = chart(at, "SLICC by PCN")
    assert "pooled ratio over contacts" in slicc["layout"]["title"]["subtitle"]["text"]
    at.sidebar.selectbox(key="index").set_value("upc").run()
    upc = chart(at, "UPC by PCN")
    subtitle = upc["layout"]["title"]["subtitle"]["text"]
    assert "mean of patient values" in subtitle and "eligible patients" in subtitle
    before = trace(slicc, "Estimate (95% CI)")["x"]
    after = trace(upc, "Estimate (95% CI)")["x"]
    assert len(before) == len(after) == 2 and before != after
    assert at.metric[2].label == "Mean UPC"


def test_my_practice_headline_and_spc_on_the_hand_worked_extract(open_app: App,
                                                                 hand_db: Path) -> None:
    at = open_app(hand_db, "practice", practice="A81001")
    latest, window = at.metric[0], at.metric[1]
    assert (latest.label, latest.value) == ("SLICC in Mar 2024", "no data")  # never 0%
    assert ("No GP contacts of named-GP patients this month; last month with data Feb 2024: "
            "50.0%") in texts(at)
    assert window.value == "60.0%"  # 3 of 5 GP contacts with the named GP
    assert "3 of 5 GP contacts" in texts(at)
    spc = chart(at, "A81001: monthly SLICC: XmR chart")
    line = trace(spc, "Monthly value")
    months = [m[:7] for m in values(line["x"])]
    assert len(months) == 24 and months[0] == "2022-04" and months[-1] == "2024-03"
    observed = {m: y for m, y in zip(months, values(line["y"]), strict=True) if y is not None}
    assert observed == pytest.approx({"2024-01": 2 / 3, "2024-02": 1 / 2})  # never zero
    centre = values(trace(spc, "Centre (mean)")["y"])
    assert centre[0] == pytest.approx(7 / 12)
    limits = [y for y in values(trace(spc, "Process limits")["y"]) if y is not None]
    assert limits == pytest.approx([7 / 12 - 2.66 / 6] * 2 + [7 / 12 + 2.66 / 6] * 2)
    assert annotations(spc)["variation"] == "Variation: Common cause variation"
    assert "Variation: Common cause variation" in texts(at)


def test_a_slicc_target_adds_its_line_and_the_assurance_icon(open_app: App,
                                                              hand_db: Path) -> None:
    at = open_app(hand_db, "practice", practice="A81001")
    at.segmented_control(key="target").set_value("excellent").run()
    spc = chart(at, "A81001: monthly SLICC: XmR chart")
    assert values(trace(spc, "Target 75%")["y"]) == [0.75, 0.75]
    assert annotations(spc)["assurance"] == (
        "Assurance: Hit and miss: may pass or fail the target")
    assert ":gray-badge[Assurance: Hit and miss: may pass or fail the target]" in texts(at)


def test_special_cause_points_are_drawn_where_the_table_flags_them(
        open_app: App, sample_db: Path, sample_practice: str) -> None:
    at = open_app(sample_db, "practice", practice=sample_practice)
    src = read.open_results(sample_db)
    expected = read.practice_spc(src, sample_practice, local_viewer(), PracticeOptions())
    for key, title in (("spc", "monthly SLICC: XmR"),
                       ("rolling_upc_spc", "rolling 12-month UPC: XmR")):
        if key not in expected:  # a database built before rolling UPC existed
            continue
        table = expected[key].shown()
        spec = chart(at, f"{sample_practice}: {title}")
        for kind in ("improvement", "concern"):
            months = table.filter(pl.col("variation") == kind)["month"].to_list()
            drawn = [t for t in spec["data"] if t.get("name") == f"Special cause {kind}"]
            got = [x[:10] for x in values(drawn[0]["x"])] if drawn else []
            assert got == [m.isoformat() for m in months]
        points = trace(spec, "Monthly value")
        reasons = [c[0] for c in points["customdata"]]
        assert reasons == [r or "No data" for r in table["reason"].to_list()]
        # "No data" exactly where the month has no value (a rolling window short of history)
        missing = [y is None or y != y for y in values(points["y"])]
        assert [r == "No data" for r in reasons] == missing
    deciles = chart(at, f"{sample_practice}: monthly SLICC over the deciles of all practices")
    own_n = read.practice_deciles(src, sample_practice, local_viewer()).numeric()
    assert (f"n = {own_n['practice_slicc_denominator'].sum():,} GP contacts in the practice; "
            f"deciles of up to {own_n['practices'].max()} practices"
            ) in deciles["layout"]["title"]["subtitle"]["text"]
    assert "th percentile of" in texts(at)
    if "rolling_upc_spc" in expected:  # 27 months of sample: the first windows lack history
        table = expected["rolling_upc_spc"].shown()
        short = table.filter(pl.col("short_history"))["month"].to_list()
        assert 0 < len(short) < table.height
        spec = chart(at, f"{sample_practice}: rolling 12-month UPC: XmR")
        drawn = trace(spec, figures.SHORT_HISTORY)
        assert [x[:10] for x in values(drawn["x"])] == [m.isoformat() for m in short]


def expected_deciles(src: read.ResultSource, practice: str) -> pl.DataFrame:
    return read.practice_deciles(src, practice, local_viewer()).shown()


def test_rebasing_and_choosing_the_pcn_series(open_app: App, hand_db: Path) -> None:
    at = open_app(hand_db, "practice", practice="A81001")
    at.selectbox(key="rebase").set_value(date(2024, 2, 1)).run()
    spc = chart(at, "A81001: monthly SLICC: XmR")
    assert "rebased at Feb 2024" in spc["layout"]["title"]["text"]
    at.radio(key="series").set_value("pcn").run()
    spc = chart(at, "PCN U00001: monthly SLICC: XmR")
    assert "rebased at Feb 2024" in spc["layout"]["title"]["text"]


def test_named_gp_lists_show_in_the_practice_own_view(open_app: App, hand_db: Path) -> None:
    at = open_app(hand_db, "practice", practice="A81001")
    lists = chart(at, "SLICC by named-GP list")
    assert trace(lists, "Estimate (95% CI)")["y"] == ["G1", "G2"]
    assert values(trace(lists, "Estimate (95% CI)")["x"]) == pytest.approx([2 / 3, 1 / 2])
    at.radio(key="list_index").set_value("opr").run()
    opr = trace(chart(at, "OPR by named-GP list"), "Estimate (95% CI)")
    assert values(opr["x"]) == pytest.approx([2 / 3, 1 / 2])


def test_patient_groups_are_drawn_in_their_natural_order(open_app: App,
                                                         hand_db: Path) -> None:
    at = open_app(hand_db, "practice", practice="A81001")
    ages = chart(at, "SLICC by age band")
    assert trace(ages, "Estimate (95% CI)")["y"] == ["18-39", "75+"]


def test_the_funnel_carries_its_limits_and_the_dispersion_switch(
        open_app: App, sample_db: Path, sample_practice: str) -> None:
    at = open_app(sample_db, "networks", practice=sample_practice)
    funnel = chart(at, "SLICC funnel plot: practices in the data")
    names = [t["name"] for t in funnel["data"]]
    assert names[:3] == ["99.8% limits", "95% limits", "Target"]
    assert f"Selected: {sample_practice}" in names
    points = sum(len(values(t["x"])) for t in funnel["data"] if t["name"] in (
        "Within limits", "Outside 95% limits", "Outside 99.8% limits"))
    shown = read.network_tables(read.open_results(sample_db),
                                   read.Selection(practice=sample_practice),
                                   local_viewer().shared_rule)["funnel"].numeric()
    assert points == shown["slicc"].drop_nulls().len() >= SMALL.practices - 2
    assert annotations(funnel)["dispersion"].startswith("limits widened for over-dispersion")
    outliers = [t for t in funnel["data"] if t["name"] == "Outside 99.8% limits"]
    if outliers:  # labelled with their codes
        assert outliers[0]["text"] and outliers[0]["mode"] == "markers+text"
    at.toggle(key="dispersion").set_value(False).run()
    plain = chart(at, "SLICC funnel plot: practices in the data (unadjusted limits)")
    assert annotations(plain)["dispersion"].startswith("unadjusted limits")
    wide = [y for y in values(trace(funnel, "99.8% limits")["y"]) if y is not None]
    narrow = [y for y in values(trace(plain, "99.8% limits")["y"]) if y is not None]
    assert wide != narrow


def test_the_funnel_within_one_pcn_and_of_pcns(open_app: App, sample_db: Path,
                                               sample_practice: str) -> None:
    at = open_app(sample_db, "networks", practice=sample_practice)
    at.radio(key="scope").set_value("pcn").run()
    directory = read.directory(read.open_results(sample_db))
    pcn = directory.filter(pl.col("practice_code") == sample_practice)["pcn_code"][0]
    members = directory.filter(pl.col("pcn_code") == pcn).height
    funnel = chart(at, f"SLICC funnel plot: practices in PCN {pcn}")
    points = sum(len(values(t["x"])) for t in funnel["data"] if t["name"] in (
        "Within limits", "Outside 95% limits", "Outside 99.8% limits"))
    assert points == members
    at.radio(key="scope").set_value("all").run()
    at.radio(key="funnel_unit").set_value("pcn").run()
    pcns = chart(at, "SLICC funnel plot: PCNs in the data")
    assert sum(len(values(t["x"])) for t in pcns["data"] if t["name"] == "Within limits"
               or t["name"].startswith("Outside")) == SMALL.pcns


def test_overview_leads_with_the_pcn_funnel_and_networks_shows_the_pcn_spc(
        open_app: App, sample_db: Path, sample_practice: str) -> None:
    at = open_app(sample_db, practice=sample_practice)
    titles = list(charts(at))
    assert titles[0] == "SLICC funnel plot: PCNs in the data (limits widened for over-dispersion)"
    assert titles.index(titles[0]) < titles.index("SLICC by PCN, with 95% intervals")
    at.switch_page("views/networks.py").run()
    directory = read.directory(read.open_results(sample_db))
    pcn = directory.filter(pl.col("practice_code") == sample_practice)["pcn_code"][0]
    spc = chart(at, f"PCN {pcn}: monthly SLICC: XmR chart")
    assert annotations(spc)["variation"].startswith("Variation: ")
    assert len(values(trace(spc, "Monthly value")["x"])) == 24


def test_continuity_against_list_size_colours_by_the_chosen_group(
        open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db, "networks")
    scatter = chart(at, "SLICC against registered list size")
    assert "Least-squares line" in [t["name"] for t in scatter["data"]]
    at.radio(key="size_group").set_value("personal_lists").run()
    names = {t["name"] for t in chart(at, "SLICC against registered list size")["data"]}
    assert names <= {"Personal lists", "No personal lists", "Not known", "Least-squares line"}


def test_deprivation_page_draws_the_bands_in_order_and_no_band_of_few_practices(
        open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db, "deprivation", index="UPC")
    spec = chart(at, "UPC by patient deprivation quintile")
    labels = values(trace(spec, "Estimate (95% CI)")["y"])
    assert labels == ["Q1 most deprived", "Q2", "Q3", "Q4", "Q5 least deprived"]
    # the sample's practice bands hold one or two practices each: a band of one practice is
    # that practice, so none is drawn
    behind = read.group_practices(read.open_results(sample_db))
    bands = behind.filter(pl.col("level") == "practice_imd_quintile")
    assert bands.height and bands["practices"].max() < 3
    spec = chart(at, "UPC by practice deprivation quintile")
    assert annotations(spec)["empty"] == HIDDEN


def test_the_hand_worked_deprivation_bands_are_hidden_under_the_nhs_rule(
        open_app: App, hand_db: Path) -> None:
    at = open_app(hand_db, "deprivation", index="UPC")  # fewer than 8 patients per band
    spec = chart(at, "UPC by practice deprivation quintile")
    assert annotations(spec)["empty"] == HIDDEN


def test_a_practice_without_contacts_shows_no_data_never_zero(open_app: App,
                                                              tmp_path: Path) -> None:
    tables = hand_extract()
    dormant = tables["practices"].head(1).with_columns(
        practice_code=pl.lit("A81004"), practice_name=pl.lit("Dormant Surgery"))
    tables["practices"] = pl.concat([tables["practices"], dormant])
    db = tmp_path / "dormant.duckdb"
    build.rebuild(build.result_from_tables(tables, "test"), db)
    at = open_app(db, "practice", practice="A81004")
    assert not at.error
    assert [m.value for m in at.metric] == ["no data"] * 4
    spc = chart(at, "A81004: monthly SLICC: XmR chart")
    assert annotations(spc)["empty"] == "No data for this selection"
    peers = chart(at, "SLICC: practice, PCN, ICB and all practices")
    assert values(trace(peers, "Selected: Practice A81004")["x"]) == [None]  # a row, no dot


def test_no_practice_chosen_shows_a_clear_empty_state(open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db, "practice")
    assert at.info[-1].value == "Choose a practice in the sidebar to see its continuity."
    assert not at.get("plotly_chart")


def test_no_modes_chosen_shows_the_error_panel(open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db)
    at.sidebar.multiselect(key="modes").set_value([]).run()
    assert not at.exception
    assert "choose at least one mode in the sidebar" in at.error[0].value
    assert not at.get("plotly_chart")


def test_a_broken_database_shows_the_error_panel(open_app: App, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"this is not a database" * 100)
    at = open_app(broken)
    assert at.error and at.error[0].value.startswith("The figures cannot be shown:")
    at.switch_page("views/data.py").run()
    assert any("cannot be read" in e.value for e in at.error)
    assert at.get("file_uploader")  # the way out: load an extract


def test_export_lists_the_page_tables_and_keeps_named_staff_out_by_default(
        open_app: App, hand_db: Path) -> None:
    at = open_app(hand_db, "export", practice="A81001")
    choices = at.selectbox(key="export_table").options
    assert "Overview: Whole dataset: headline figures" in choices
    assert not any("named-GP lists" in c for c in choices)
    header = at.code[0].value.splitlines()
    assert header[0] == "# product: continuity-of-care dashboard (python -m metrics)"
    assert "# table: Whole dataset: headline figures" in header
    at.checkbox(key="include_gp_lists").check().run()
    assert any("A81001: named-GP lists" in c for c in at.selectbox(key="export_table").options)


def test_export_follows_the_page_choices_kept_in_the_address(open_app: App,
                                                             hand_db: Path) -> None:
    at = open_app(hand_db, "export", practice="A81001", series="Its PCN",
                  target="75% (excellent)", rebase="Feb 2024", scope="One ICB",
                  scope_code="QBB", dispersion="false")
    titles = at.selectbox(key="export_table").options
    assert ("My practice: PCN U00001: monthly SLICC: XmR chart; target 75%; rebased at "
            "Feb 2024") in titles
    assert "Networks: SLICC funnel plot: practices in ICB QBB" in titles  # one unit: no limits


def test_the_methods_page_explains_every_index(open_app: App, sample_db: Path) -> None:
    at = open_app(sample_db, "methods")
    labels = [e.label for e in at.expander]
    for d in INDICES.values():
        assert f"{d.name}: {d.full_name}" in labels


def test_uploading_an_extract_checks_then_rebuilds_the_database(
        open_app: App, hand_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(hand_db, db)
    at = open_app(db, "data")
    tables = hand_extract()
    tables["appointments"] = tables["appointments"].filter(pl.col("patient_id") != "p4")
    files = {t: f.write_csv().encode() for t, f in tables.items()}
    at.file_uploader(key="upload_appointments").set_value(
        [("appts.csv", files["appointments"], "text/csv")])
    at.file_uploader(key="upload_patients").set_value(
        ("patients.csv", files["patients"], "text/csv"))
    at.file_uploader(key="upload_practices").set_value(
        ("practices.csv", files["practices"], "text/csv"))
    at.run()
    assert "Column mapping" in texts(at)
    at.button(key="check").click().run()
    report = at.code[0].value
    assert "appointments: 16 rows read from 1 file = 16 loaded" in report
    assert [s.value for s in at.success] == ["No rows rejected."]
    at.button(key="rebuild").click().run()
    assert not at.exception
    assert "The database was rebuilt from the uploaded extract." in [s.value for s in at.success]
    counts = read.store_counts(read.open_results(db))
    assert counts == {"appointments": 16, "patients": 4, "practices": 3}


def test_uploaded_files_leave_no_trace_on_disk_after_a_check_or_a_refusal(
        open_app: App, hand_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    at = open_app(hand_db, "data")
    appointments = hand_extract()["appointments"].write_csv().encode()
    at.file_uploader(key="upload_appointments").set_value(
        [("appts.csv", appointments, "text/csv")])
    at.run()
    at.button(key="check").click().run()
    assert [s.value for s in at.success] == ["No rows rejected."]
    assert list(temp.iterdir()) == []
    at.file_uploader(key="upload_appointments").set_value(
        [("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(64), "text/csv")])
    at.run()
    assert [e.value for e in at.error] == ["appointments0_photo.csv: is a PNG image, not a "
                                           "CSV, Parquet or XLSX extract"]
    assert list(temp.iterdir()) == []


def test_an_upload_added_to_the_data_says_how_the_results_were_brought_up_to_date(
        open_app: App, hand_db: Path, tmp_path: Path) -> None:
    # the same rows again add no month: the results are computed in full, and the page says
    # why they were not brought forward incrementally (metrics.pipeline.refresh)
    db = tmp_path / "copy.duckdb"
    shutil.copy(hand_db, db)
    at = open_app(db, "data")
    at.checkbox(key="append").check().run()
    at.checkbox(key="national_ids").check().run()  # as the store's ids (built from frames)
    at.file_uploader(key="upload_appointments").set_value(
        [("appts.csv", hand_extract()["appointments"].write_csv().encode(), "text/csv")])
    at.run()
    at.button(key="check").click().run()
    at.button(key="rebuild").click().run()
    assert not at.exception
    [flash] = [s.value for s in at.success]
    assert flash.startswith("The database was rebuilt from the uploaded extract. Results: "
                            "computed in full for 2022-04-01 to 2024-03-31"), flash
    assert "not incrementally, because the window is still 2022-04-01 to 2024-03-31" in flash


def test_the_validation_report_lists_rejected_rows_with_their_reason(open_app: App,
                                                                    hand_db: Path) -> None:
    at = open_app(hand_db, "data")
    good = hand_extract()["appointments"].head(2).write_csv()
    bad = good + "x9,p1,A81001,not a date,,G1,gp,attended,face_to_face\n"
    at.file_uploader(key="upload_appointments").set_value(("a.csv", bad.encode(), "text/csv"))
    at.run()
    at.button(key="check").click().run()
    assert "appointments: 3 rows read from 1 file = 2 loaded + 0 merged duplicates + 1 rejected" \
        in at.code[0].value
    assert any(m.value.startswith("**Rejected rows**: 1") for m in at.markdown)
    (rejects,) = [d.value for d in at.dataframe if "reason" in d.value.columns]
    assert rejects["line"].tolist() == [4] and rejects["column"].tolist() == ["appointment_date"]


def test_an_upload_that_would_remove_practices_waits_for_confirmation_and_can_be_undone(
        open_app: App, hand_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(hand_db, db)
    at = open_app(db, "data")
    assert "undo" not in [b.key for b in at.button]  # nothing loaded here yet
    alpha = hand_extract()["appointments"].filter(pl.col("practice_code") == "A81001")
    at.file_uploader(key="upload_appointments").set_value(
        [("alpha.csv", alpha.write_csv().encode(), "text/csv")])
    at.run()
    at.button(key="check").click().run()
    [warning] = [w.value for w in at.warning]
    # replacing the database with appointments alone leaves no practice
    assert "- practice A81001 (Alpha Surgery) would be removed, with its 2 patients and 6 " \
           "appointments" in warning
    assert "- practice A81003 (Gamma Surgery) would be removed, with its 1 patient and 3 " \
           "appointments" in warning
    assert at.button(key="rebuild").disabled
    before = {"appointments": 19, "patients": 4, "practices": 3}
    assert read.store_counts(read.open_results(db)) == before
    [confirm] = [c for c in at.checkbox if c.label == "I have checked these changes: apply them"]
    confirm.check().run()
    assert not at.button(key="rebuild").disabled
    at.button(key="rebuild").click().run()
    assert not at.exception
    assert read.store_counts(read.open_results(db)) == {
        "appointments": 6, "patients": 2, "practices": 0}
    at.button(key="undo").click().run()
    assert not at.exception
    assert [s.value for s in at.success][0].startswith(f"Undone: {db} is again the database")
    assert read.store_counts(read.open_results(db)) == before


def test_practice_system_ids_are_never_offered_as_national(open_app: App, hand_db: Path) -> None:
    at = open_app(hand_db, "data")
    assert not at.checkbox(key="national_ids").disabled
    at.selectbox(key="preset").set_value("systmone").run()
    assert at.checkbox(key="national_ids").disabled
