"""The National context page and its figure builders, on the hand-worked December 2025 files
of tests/store/test_gpad.py (practice A81001: 40 of 90 appointments with a GP, 75 face to face,
5 DNA)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import gpad
from metrics.charts import context as charts
from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.pipeline import build
from tests.builders import appt, extract
from tests.store.test_gpad import LONDON, NORTH, write

DASHBOARD = str(Path(__file__).resolve().parents[2] / "dashboard.py")
DECEMBER = date(2025, 12, 1)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [write(tmp_path / "Practice_Level_Crosstab_North_East_and_Yorkshire_Dec_25.csv",
                  NORTH),
            write(tmp_path / "Practice_Level_Crosstab_London_Dec_25.csv", LONDON)]


@pytest.fixture
def context(files) -> gpad.Context:
    con = duckdb.connect()
    gpad.write_tables(con, gpad.read_gpad(files))
    return gpad.context(con, "A81001")


def test_the_gp_share_trend_has_one_line_per_level_with_its_n(context) -> None:
    fig = charts.share_trend(context.frame, "staff", "gp", gpad.unit_labels(context),
                             title="GP share")
    lines = {t.name: (list(t.y), list(t.customdata)) for t in fig.data}
    assert lines == {"Practice A81001": ([pytest.approx(40 / 90)], [90]),
                     "PCN U00001": ([0.5], [100]),
                     "Sub-ICB 00L": ([pytest.approx(50 / 120)], [120]),
                     "England": ([0.65], [200])}
    assert "published figures" in fig.layout.title.subtitle.text
    assert "Dec 2025" in fig.layout.title.subtitle.text


def test_the_mode_mix_of_a_month_stacks_to_one_per_level(context) -> None:
    fig = charts.mix_for_month(context.frame, "mode", DECEMBER, gpad.unit_labels(context),
                               title="Mode mix")
    bars = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert bars["Face to face"]["1. Practice A81001"] == pytest.approx(75 / 90)
    assert bars["Home visit"]["2. PCN U00001"] == pytest.approx(0.1)
    for unit in ("1. Practice A81001", "2. PCN U00001", "3. Sub-ICB 00L", "4. England"):
        assert sum(b[unit] for b in bars.values()) == pytest.approx(1.0)
    assert "December 2025" in fig.layout.title.subtitle.text


def store_with_gpad(tmp_path: Path, files: list[Path]) -> Path:
    tables = extract([appt("p1", date(2025, 12, 1), "A", practice="A81001"),
                      appt("p2", date(2025, 12, 2), "B", practice="A81009")])
    result = IngestResult(tables=tables, extras={}, rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                          report=IngestReport(preset="test"))
    db = tmp_path / "store.duckdb"
    build.rebuild(result, db)
    return gpad.load_gpad(gpad.read_gpad(files), db)


def page(db: Path, practice: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(build.DB_ENV, str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params["practice"] = practice
    at.run()
    at.switch_page("views/context.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_shows_the_practice_month_with_counts(files, tmp_path, monkeypatch) -> None:
    at = page(store_with_gpad(tmp_path, files), "A81001", monkeypatch)
    assert [t.value for t in at.title] == ["National context"]
    assert [(m.label, m.value) for m in at.metric] == [
        ("Appointments with a GP", "44.4%"), ("Face to face", "83.3%"),
        ("Did not attend (DNA rate)", "5.6%")]
    captions = [c.value for c in at.caption]
    assert "40 of 90 appointments" in captions
    assert any(c.startswith("Source: NHS England, Appointments in General Practice "
                            "(published figures)") for c in captions)
    assert any("England: 4 practice(s) in Dec 2025" in c for c in captions)
    assert any("Disclosure control: none needed: NHS England's published figures" in c
               for c in captions)
    assert len(at.get("plotly_chart")) == 4


def test_a_practice_not_in_gpad_is_said_so_not_shown_as_zero(files, tmp_path,
                                                             monkeypatch) -> None:
    at = page(store_with_gpad(tmp_path, files), "A81009", monkeypatch)
    assert any("A81009 has no rows in the loaded GPAD files" in w.value for w in at.warning)
    assert at.metric[0].value == "50.0%"  # its PCN U00001 (from the extract): 50 of 100
