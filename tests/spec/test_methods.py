"""Index definitions as data: every figure names its definition from here, so each one must
point at real result columns and say what the reference says."""

from __future__ import annotations

import pytest

from metrics import read
from metrics.methods import GENERAL_NOTES, INDEX_KEYS, INDICES, index
from metrics.pipeline import build
from metrics.stats import SLICC_TARGETS
from tests.store.test_results import hand_extract


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    path = tmp_path_factory.mktemp("methods") / "hand.duckdb"
    build.rebuild(build.result_from_tables(hand_extract(), "test"), path)
    return set(read.groups(read.open_results(path), "practice").columns)


@pytest.mark.parametrize("key", INDEX_KEYS)
def test_every_index_points_at_real_result_columns(columns: set[str], key: str):
    d = index(key)
    wanted = {d.value_col, d.denominator_col}
    wanted |= {d.numerator_col} if d.numerator_col else {d.sd_col}
    assert wanted <= columns


def test_ratios_are_pooled_percentages_and_patient_indices_are_means():
    assert [k for k in INDEX_KEYS if INDICES[k].kind == "ratio"] == ["slicc", "opr",
                                                                      "upc_pooled"]
    slicc, upc = index("slicc"), index("upc")
    assert (slicc.percent, slicc.summary, slicc.value_col) == (
        True, "pooled ratio over contacts", "slicc")
    assert (upc.percent, upc.summary, upc.value_col, upc.denominator_col) == (
        False, "mean of patient values", "upc_mean", "eligible_patients")
    assert [k for k in INDEX_KEYS if INDICES[k].monthly] == ["slicc", "opr"]


def test_slicc_is_the_default_index_and_names_the_committee_thresholds():
    assert INDEX_KEYS[0] == "slicc"
    caveats = " ".join(index("slicc").caveats)
    assert f"above {SLICC_TARGETS['good']:.0%} good" in caveats
    assert f"above {SLICC_TARGETS['excellent']:.0%} excellent" in caveats


def test_every_definition_is_complete_and_reads_higher_is_better():
    for d in INDICES.values():
        assert d.formula and d.reads and d.window and d.conventions and d.references, d.key
        assert d.direction.startswith("higher is better"), d.key


def test_an_unknown_index_from_a_url_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown index 'sllic'; known: slicc, opr, "):
        index("sllic")


def test_the_general_notes_cover_missing_data_intervals_and_disclosure():
    titles = [title for title, _ in GENERAL_NOTES]
    assert {"Missing is not zero", "Intervals", "Disclosure control", "Fair comparison"} <= set(
        titles)
    text = dict(GENERAL_NOTES)
    assert "never a zero" in text["Missing is not zero"]
    assert "Wilson" in text["Intervals"] and "t intervals" in text["Intervals"]
    assert "counts 1-7 shown as *" in text["Disclosure control"]

