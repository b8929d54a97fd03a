"""The read layer's registry and Table mask: every page is registered, page options survive the
URL, the command line's `export` writes exactly the Export page's tables, and a suppressed
figure stays a number (masked) until it is written or shown as '*'."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import cli, pseudonym
from metrics.access import Viewer
from metrics.disclosure import NHS_RULE, mask_column
from metrics.params import Params
from metrics.pipeline import build
from metrics.read import registry
from metrics.read.export import export_csv
from metrics.read.filters import Selection
from metrics.read.networks import NetworkOptions
from metrics.read.spc import PracticeOptions
from metrics.read.table import Table, disclose
from metrics.sample import SampleConfig
from metrics.store import connect_read_only

ROOT = Path(__file__).resolve().parents[2]
SMALL = SampleConfig(practices=8, pcns=2, scale=0.02)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "sample.duckdb"
    build.ensure_default_store(path, config=SMALL)
    return path


# ---- every page registered -------------------------------------------------------------------

def test_every_page_with_tables_is_registered() -> None:
    """Each page the dashboard draws from tables, and the inferred and GPAD tables, has a
    builder; the pages' own `common.tables(ctx, "<page>")` calls name registered pages."""
    asked = set()
    for view in (ROOT / "views").glob("*.py"):
        asked |= set(re.findall(r'(?:tables|page_tables)\([^)]*?"([a-z_]+)"', view.read_text()))
    assert asked, "no page asks for tables?"
    assert asked <= set(registry.PAGES)
    assert {"overview", "practice", "networks", "deprivation", "inferred", "context",
            "levels"} <= set(registry.PAGES)
    for page in registry.PAGES.values():
        assert callable(page.build) and page.title


# ---- URL codec -------------------------------------------------------------------------------

MONTHS = [date(2024, m, 1) for m in range(1, 13)]


@pytest.mark.parametrize("options", [
    PracticeOptions(),
    PracticeOptions(series="pcn", target="good", peers="icb"),
    PracticeOptions(series="gp_list", gp_list="G123", target="excellent",
                    rebase=date(2024, 5, 1)),
])
def test_practice_options_round_trip_through_the_url(options: PracticeOptions) -> None:
    query = registry.encode("practice", options)
    assert all(isinstance(v, str) for v in query.values())
    assert registry.practice_options(query, gp_lists=["G123"], months=MONTHS) == options


@pytest.mark.parametrize("options", [
    NetworkOptions(),
    NetworkOptions(unit="pcn", scope="icb", code="QSY", overdispersion=False),
    NetworkOptions(unit="practice", scope="pcn", code="U12345"),
])
def test_network_options_round_trip_through_the_url(options: NetworkOptions) -> None:
    assert registry.network_options(registry.encode("networks", options)) == options


def test_the_url_codec_reads_what_the_widgets_write_and_drops_what_it_cannot() -> None:
    query = {"series": "A named-GP list", "gp_list": "not one of ours", "rebase": "2030-01",
             "target": "50% (good)", "funnel_unit": "PCNs", "dispersion": "FALSE"}
    practice = registry.practice_options(query, gp_lists=["G1"], months=MONTHS)
    assert (practice.series, practice.gp_list, practice.rebase, practice.target) == (
        "gp_list", None, None, "good")
    networks = registry.network_options(query)
    assert (networks.unit, networks.overdispersion) == ("pcn", False)


# ---- one route to every shareable file --------------------------------------------------------

def cli_viewer() -> Viewer:
    """The viewer `metrics export --disclosure nhs` uses (metrics.cli.cmd_export)."""
    return Viewer(name="metrics export", role="export", per_gp=False,
                  full_practices=frozenset(), shared_rule=NHS_RULE)


def test_cli_export_writes_the_export_zip_byte_for_byte(sample_db: Path, tmp_path: Path
                                                        ) -> None:
    source = registry.open_results(sample_db)
    practice = source.query("SELECT min(practice_code) AS p FROM practices")["p"][0]
    query = {"scope": "One ICB", "series": "Its PCN", "target": "50% (good)"}
    window = ["--start", source.params.window_start.isoformat(),
              "--end", source.params.window_end.isoformat()]
    options = [arg for k, v in query.items() for arg in ("--option", f"{k}={v}")]
    assert cli.main(["--quiet", "export", "--db", str(sample_db), "--out", str(tmp_path),
                     "--practice", practice, *window, *options]) == 0
    con = connect_read_only(sample_db)
    salt = pseudonym.connection_salt(con)
    con.close()
    data = registry.export_zip(source, Selection(practice=practice), cli_viewer(), query,
                               salt=salt)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        zipped = {name: archive.read(name) for name in archive.namelist()}
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert written == zipped
    # every page's tables are there: inferred SLICC, the GPAD context and the level files too
    names = set(written)
    assert {"practice.csv", "pcn.csv", "slicc_monthly.csv", "overview_summary.csv",
            f"practice_{practice}_slicc_inferred_monthly.csv",
            f"gpad_context_{practice}.csv"} <= names
    assert any(n.startswith("practices_in_icb_") for n in names)  # the scope option reached it
    assert any(n.endswith("_spc_target50.csv") for n in names)  # and the SPC target


def test_the_export_page_lists_the_tables_the_cli_writes(sample_db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """Same filters (window, practice, page options) -> the same tables, by title."""
    source = registry.open_results(sample_db)
    practice = source.query("SELECT min(practice_code) AS p FROM practices")["p"][0]
    monkeypatch.setenv(build.DB_ENV, str(sample_db))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params["practice"] = practice
    at.query_params["scope"] = "One PCN"
    at.run()
    at.switch_page("views/export.py")
    at.run()
    assert not at.exception
    listed = {label.split(": ", 1)[1] for label in at.selectbox(key="export_table").options}
    window = ["--start", source.params.window_start.isoformat(),
              "--end", source.params.window_end.isoformat()]
    # the local user's page: exact own rows; the same tables under `--disclosure none`
    assert cli.main(["--quiet", "export", "--db", str(sample_db), "--out", str(tmp_path),
                     "--practice", practice, "--disclosure", "none", "--option",
                     "scope=One PCN", *window]) == 0
    titles = set()
    for path in tmp_path.iterdir():
        (line,) = [x for x in path.read_text().splitlines() if x.startswith("# table: ")]
        titles.add(",".join(next(csv.reader([line]))).removeprefix("# table: "))
    assert len(listed) == len(titles) and listed == titles


# ---- the Table mask ----------------------------------------------------------------------------

def masked_table() -> Table:
    frame = pl.DataFrame({"pcn_code": ["U1", "U2"], "slicc": [0.5, 0.5],
                          "slicc_numerator": [40, 3], "slicc_denominator": [80, 6],
                          "slicc_lci": [0.4, 0.1], "slicc_uci": [0.6, 0.9]})
    return Table("pcns_slicc", "PCNs", disclose(frame, NHS_RULE), "pcn level", NHS_RULE)


def test_a_suppressed_figure_is_masked_and_written_as_a_star() -> None:
    table = masked_table()
    assert table.masked("slicc_numerator").to_list() == [False, True]
    assert table.masked("slicc").to_list() == [False, True]
    assert table.frame[mask_column("slicc")].dtype == pl.Boolean
    assert table.frame["slicc_numerator"].to_list() == [40, None]  # a number, or nothing
    assert table.frame["slicc"].dtype == pl.Float64
    body = export_csv(table, Params(date(2024, 1, 1), date(2024, 12, 31)),
                      Selection()).decode().splitlines()
    rows = list(csv.DictReader(line for line in body if not line.startswith("#")))
    assert [r["slicc_numerator"] for r in rows] == ["40", "*"]
    assert [r["slicc"] for r in rows] == ["0.5", "*"]
    assert not any(c.startswith("__masked") for c in rows[0])  # masks never leave


def test_charts_get_nulls_not_stars() -> None:
    from metrics.charts import dashboard_figures as figures

    table = masked_table()
    numeric = table.numeric()
    assert numeric["slicc"].to_list() == [0.5, None]
    assert numeric["slicc_numerator"].dtype == pl.Float64
    assert not [c for c in numeric.columns if c.startswith("__masked")]
    assert "*" not in str(numeric.to_dicts())
    figure = figures.comparison_figure(
        Table(table.key, table.title, table.frame.with_columns(label=pl.col("pcn_code")),
              table.scope, table.rule), "slicc", Params(date(2024, 1, 1), date(2024, 12, 31)),
        title="PCNs")
    assert '"*"' not in figure.to_json()
