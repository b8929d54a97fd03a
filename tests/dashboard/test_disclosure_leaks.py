"""Nothing shared gives a count back: every shared table of every page, and every file of
`metrics export`, on the sample and on a one-month window, attacked as an IG reviewer would.

For each row outside the viewer's exact scope: every count is 0, `*` or a multiple of 5; every
ratio times its shown denominator is its shown numerator; every Wilson interval inverts to the
shown counts and every t interval to the shown number of patients (tests/inversion.py); a group
figure rests on at least three practices.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from metrics import cli, read
from metrics.access import Viewer
from metrics.disclosure import NHS_RULE
from metrics.pipeline import build
from metrics.read import NetworkOptions, PracticeOptions, Selection, inferred
from metrics.sample import SampleConfig
from tests.inversion import invert_t, invert_wilson

CONFIG = SampleConfig(practices=8, pcns=2, scale=0.02)
MODES = ("face_to_face", "telephone", "video_online", "home_visit")
# Written out here rather than imported, so that a ratio the code forgets is still checked.
COUNT_COLUMNS = ("patients", "eligible_patients", "contacts", "list_patients", "gp_contacts",
                 "appointments", "numerator", "denominator")
RATIOS = {
    "slicc": ("slicc_numerator", "slicc_denominator"),
    "opr": ("opr_numerator", "opr_denominator"),
    "upc_pooled": ("upc_pooled_numerator", "upc_pooled_denominator"),
    "share": ("numerator", "denominator"),
    "slicc_inferred": ("slicc_inferred_numerator", "slicc_inferred_denominator"),
    "inferred_gp_coverage": ("slicc_inferred_denominator", "gp_contacts"),
    "named_gp_coverage": ("slicc_denominator", "gp_contacts"),
}
MEAN_STEMS = ("upc", "coc", "secon", "mmci", "hhi", "kpc")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("leaks") / "sample.duckdb"
    build.ensure_default_store(path, config=CONFIG)
    return path


@pytest.fixture(scope="module", params=["default window", "one month"])
def source(request: pytest.FixtureRequest, sample_db: Path) -> read.ResultSource:
    if request.param == "default window":
        return read.open_results(sample_db)
    last = read.available_months(read.open_results(sample_db))[-2]
    params = read.window_params(f"{last:%Y-%m}", 1, staff_group="gp", modes=MODES,
                                   min_contacts=2)
    return read.open_results(sample_db, params)


def counts_of(row: dict) -> dict[str, str]:
    return {c: row[c] for c in row if c in COUNT_COLUMNS or c.endswith(
        ("_numerator", "_denominator"))}


def as_number(value: object) -> float | None:
    if value is None or value == "*" or value == "":
        return None
    return float(value)  # type: ignore[arg-type]


def assert_gives_nothing_back(row: dict, where: str) -> None:
    """One shared row: counts rounded, everything derived computed from them."""
    for column, value in counts_of(row).items():
        number = as_number(value)
        assert number is None or number == 0 or (number >= 8 and number % 5 == 0), (
            where, column, value)
    practices = as_number(row.get("practices"))
    if practices is not None and practices < 3:
        assert all(as_number(v) is None for v in counts_of(row).values()), (where, row)
    for ratio, (num, den) in RATIOS.items():
        value = as_number(row.get(ratio))
        if value is None:
            continue
        assert num in row and den in row, (where, ratio, "shown without its counts")
        n, d = as_number(row[num]), as_number(row[den])
        assert n is not None and d is not None, (where, ratio, row)
        assert value * d == pytest.approx(n), (where, ratio)
        lower, upper = as_number(row.get(f"{ratio}_lci")), as_number(row.get(f"{ratio}_uci"))
        if lower is not None and upper is not None:
            k, total = invert_wilson(lower, upper)
            assert (k, total) == pytest.approx((n, d), abs=1e-3), (where, ratio)
    for stem in MEAN_STEMS:
        lower, upper = as_number(row.get(f"{stem}_lci")), as_number(row.get(f"{stem}_uci"))
        sd = as_number(row.get(f"{stem}_sd"))
        if lower is None or upper is None or sd is None or sd == 0:
            continue
        assert invert_t(lower, upper, sd) == as_number(row["eligible_patients"]), (where, stem)


def shared_tables(source: read.ResultSource, viewer: Viewer, practice: str
                  ) -> dict[str, read.Table]:
    sel = Selection(index="slicc", practice=practice)
    rule = viewer.shared_rule
    tables: dict[str, read.Table] = {}
    for index in ("slicc", "upc", "coc", "opr"):
        sel = Selection(index=index, practice=practice)
        pages = {
            "overview": read.overview_tables(source, sel, rule),
            "networks": read.network_tables(source, sel, rule),
            "networks_pcn": read.network_tables(source, sel, rule,
                                                   NetworkOptions(unit="pcn")),
            "deprivation": read.deprivation_tables(source, sel, rule),
            "practice": read.practice_tables(source, sel, viewer),
            "practice_pcn": read.practice_tables(source, sel, viewer,
                                                    PracticeOptions(series="pcn")),
        }
        for page, found in pages.items():
            tables |= {f"{page}/{index}/{key}": t for key, t in viewer.restrict(found).items()}
    monthly = inferred.practice_monthly(source, practice, viewer)
    if monthly is not None:
        tables["practice/inferred"] = monthly
    return tables


def test_no_shared_table_on_any_page_gives_a_count_back(source: read.ResultSource) -> None:
    directory = read.directory(source)
    practice = directory["practice_code"][0]
    pcn = directory["pcn_code"][0]
    reviewer = Viewer(name="r", role="reviewer", scope_pcns=frozenset({pcn})).scoped(directory)
    checked = 0
    for name, table in shared_tables(source, reviewer, practice).items():
        for row in table.shown().iter_rows(named=True):
            assert_gives_nothing_back(row, name)
            checked += 1
    assert checked > 200


def test_a_practice_users_shared_rows_give_nothing_back(source: read.ResultSource) -> None:
    """Beside the practice's own exact figures, its PCN, ICB and every other practice."""
    practice = read.directory(source)["practice_code"][0]
    partner = Viewer(name="p", role="practice", full_practices=frozenset({practice}))
    checked = 0
    for name, table in shared_tables(source, partner, practice).items():
        if name.startswith("practice"):
            if not name.endswith("/peers"):
                continue  # the practice's own series: exact by design
            table = table.__class__(table.key, table.title, table.shown().filter(
                pl.col("level") != "practice"), table.scope, table.rule)
        for row in table.shown().iter_rows(named=True):
            assert_gives_nothing_back(row, name)
            checked += 1
    assert checked > 200


def test_metrics_export_files_give_no_count_back(source: read.ResultSource, sample_db: Path,
                                                 tmp_path: Path) -> None:
    window = ["--start", source.params.window_start.isoformat(),
              "--end", source.params.window_end.isoformat()]
    assert cli.main(["export", "--db", str(sample_db), "--out", str(tmp_path), *window]) == 0
    files = sorted(tmp_path.glob("*.csv"))
    assert {p.stem for p in files} >= {"practice", "pcn", "icb", "slicc_monthly"}
    for path in files:
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
        assert rows, path.name
        for row in rows:
            assert_gives_nothing_back(row, path.name)


def test_the_old_exact_intervals_would_have_given_counts_back(source: read.ResultSource
                                                              ) -> None:
    """The check itself can fail: exact intervals beside rounded counts are caught."""
    frame = read.groups(source, "practice").filter(pl.col("slicc_denominator") % 5 != 0)
    row = read.with_interval(frame, "slicc").row(0, named=True)
    shown = {**row, "slicc_numerator": str(NHS_RULE.round_to * round(
        row["slicc_numerator"] / NHS_RULE.round_to)), "slicc_denominator": str(
        NHS_RULE.round_to * round(row["slicc_denominator"] / NHS_RULE.round_to)), "slicc": None}
    with pytest.raises(AssertionError):
        assert_gives_nothing_back(shown, "exact limits")


def test_the_reviewers_downloads_and_zip_give_no_count_back(source: read.ResultSource
                                                            ) -> None:
    """What leaves as files (each page's CSV and XLSX, the Export page's ZIP), parsed back."""
    import zipfile

    from openpyxl import load_workbook

    directory = read.directory(source)
    reviewer = Viewer(name="r", role="reviewer",
                      scope_pcns=frozenset({directory["pcn_code"][0]})).scoped(directory)
    practice = directory["practice_code"][0]
    tables = read.shareable(list(shared_tables(source, reviewer, practice).values()))
    sel = Selection(index="slicc", practice=practice)
    archive = zipfile.ZipFile(io.BytesIO(read.export_zip_of(tables, source.params, sel)))
    assert len(archive.namelist()) == len(tables)
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        for row in csv.DictReader(io.StringIO(body)):
            assert_gives_nothing_back(row, name)
    for table in tables[:12]:
        sheet = load_workbook(io.BytesIO(read.export_xlsx(table, source.params, sel)),
                              read_only=True)["data"]
        header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        for values in cells:
            assert_gives_nothing_back(dict(zip(header, values, strict=False)), table.key)
