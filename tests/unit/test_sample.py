"""The synthetic ICB: canonical, deterministic, GPAD-like, with real-world events and the published
continuity patterns (docs/methods.md s.10) when run through the engine."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import spearmanr

from metrics import sample
from metrics.params import Params
from metrics.pipeline.engine import compute_tables
from metrics.sample import SAMPLE_DATA_CONFIG, SampleConfig, generate, generate_to_dir, synth
from metrics.schema import AGE_BANDS, GP_ROLES, MODES, ROLES, SEXES, STATUSES, TABLES

TYPES = {"VARCHAR": pl.Utf8, "DATE": pl.Date, "TIME": pl.Time, "INTEGER": pl.Int32,
         "BOOLEAN": pl.Boolean}
ICB = SampleConfig(scale=0.1)  # the default ICB, thinned: ~500k appointments
TINY = SampleConfig(practices=6, pcns=2, months=8, scale=0.03)
OLD = ("65-74", "75+")


@pytest.fixture(scope="module")
def icb() -> dict[str, pl.DataFrame]:
    return generate(ICB)


@pytest.fixture(scope="module")
def indices(icb: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return compute_tables(icb, Params.last_24_months(ICB.end))


@pytest.fixture(scope="module")
def practices(icb, indices) -> pl.DataFrame:
    """Practice figures with list size (at scale 1) and personal lists; active practices only."""
    extra = icb["practices"].select(
        "practice_code", "personal_lists",
        nominal=pl.col("list_size") / ICB.scale)
    return (indices["practices"].join(extra, on="practice_code")
            .filter(pl.col("eligible_patients") > 100))


def attended_gp(appointments: pl.DataFrame) -> pl.DataFrame:
    return appointments.filter(pl.col("clinician_role").is_in(GP_ROLES),
                               pl.col("status") == "attended")


# --- determinism and files --------------------------------------------------------------------

def test_same_seed_gives_identical_frames_and_another_seed_does_not():
    first, again = generate(TINY), generate(TINY)
    for name in TABLES:
        assert_frame_equal(first[name], again[name])
    other = generate(SampleConfig(seed=TINY.seed + 1, practices=6, pcns=2, months=8, scale=0.03))
    assert not first["appointments"].equals(other["appointments"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_chunked_writing_gives_the_rows_of_generate(tmp_path: Path, monkeypatch, fmt: str):
    monkeypatch.setattr(synth, "BLOCK_PATIENTS", 150)  # several blocks per practice
    tables = generate(TINY)
    assert tables["patients"]["practice_code"].n_unique() >= 4
    paths = generate_to_dir(tmp_path, TINY, fmt=fmt)
    assert sorted(p.name for p in paths.values()) == sorted(f"{t}.{fmt}" for t in TABLES)
    for name in TABLES:
        schema = {c.name: TYPES[c.sql_type] for c in TABLES[name]}
        read = (pl.read_csv(paths[name], schema=schema) if fmt == "csv"
                else pl.read_parquet(paths[name]))
        assert_frame_equal(read, tables[name])


def test_write_extract_refuses_an_unknown_format(tmp_path: Path):
    with pytest.raises(ValueError, match="csv or parquet"):
        sample.write_extract(generate(TINY), tmp_path, fmt="xlsx")


def test_progress_reports_rising_fractions_ending_at_one():
    calls: list[tuple[str, float]] = []
    generate(TINY, progress=lambda label, fraction: calls.append((label, fraction)))
    fractions = [f for _, f in calls]
    assert len(calls) >= 6 and fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0


def test_config_rejects_impossible_values_and_caps_pcns_at_practices():
    with pytest.raises(ValueError):
        SampleConfig(scale=0)
    with pytest.raises(ValueError):
        SampleConfig(practices=0)
    tables = generate(SampleConfig(practices=3, pcns=8, months=3, scale=0.02))
    assert tables["practices"]["pcn_code"].n_unique() == 3


def test_shipped_sample_data_is_what_the_documented_config_generates(tmp_path: Path):
    shipped = sample.SAMPLE_DATA_DIR
    fresh = sample.write_extract(generate(SAMPLE_DATA_CONFIG), tmp_path, "csv")
    total = 0
    for name, path in fresh.items():
        assert (shipped / path.name).read_bytes() == path.read_bytes(), name
        total += path.stat().st_size
    assert total <= 3_000_000
    readme = (shipped / "README.md").read_text(encoding="utf-8")
    assert "practices=4, pcns=1, scale=0.05" in readme
    assert repr(SAMPLE_DATA_CONFIG).endswith("practices=4, pcns=1, months=27, "
                                             "end=datetime.date(2026, 10, 31), scale=0.05)")


# --- schema -----------------------------------------------------------------------------------

def test_tables_have_exactly_the_canonical_columns_and_types(icb):
    for name, columns in TABLES.items():
        assert icb[name].schema == pl.Schema({c.name: TYPES[c.sql_type] for c in columns})
        required = [c.name for c in columns if c.required and c.name != "clinician_id"]
        assert icb[name].select(required).null_count().sum_horizontal().item() == 0


def test_values_come_from_the_vocabularies(icb):
    a, p = icb["appointments"], icb["patients"]
    assert set(a["clinician_role"].unique()) <= set(ROLES)
    assert set(a["status"].unique()) == set(STATUSES)
    assert set(a["mode"].unique()) == set(MODES)
    assert set(p["age_band"].unique()) == set(AGE_BANDS)
    assert set(p["sex"].unique()) <= set(SEXES)
    assert p["imd_decile"].min() >= 1 and p["imd_decile"].max() <= 10


def test_codes_look_like_ods_codes(icb):
    pr = icb["practices"]
    assert all(re.fullmatch(r"[A-Z]\d{5}", c) for c in pr["practice_code"])
    assert all(re.fullmatch(r"U\d{5}", c) for c in pr["pcn_code"])
    assert all(re.fullmatch(r"[0-9A-Z]{3}", c) for c in pr["sub_icb_code"])
    assert pr["icb_code"].unique().to_list() == ["QSY"]
    assert pr["practice_name"].n_unique() == pr.height
    assert pr["pcn_name"].n_unique() == pr["pcn_code"].n_unique() == 8
    assert 2 <= pr["sub_icb_code"].n_unique() <= 3


def test_ids_are_unique_and_every_appointment_has_a_registered_patient(icb):
    a, p = icb["appointments"], icb["patients"]
    assert p["patient_id"].is_unique().all()
    assert a.select("practice_code", "appointment_id").is_unique().all()
    assert a.join(p, on="patient_id", how="anti").height == 0
    assert a["appointment_date"].min() == date(2024, 8, 1)  # 27 months to October 2026
    assert a["appointment_date"].max() <= ICB.end


def test_list_sizes_match_the_patients_table(icb):
    counts = icb["patients"].group_by("practice_code").len()
    joined = icb["practices"].join(counts, on="practice_code", how="left")
    assert joined.select(pl.col("len").fill_null(0) == pl.col("list_size")).to_series().all()


def test_named_gps_are_list_holding_gps_of_the_practice(icb):
    a, p = icb["appointments"], icb["patients"]
    gp_ids = set(a.filter(pl.col("clinician_role") == "gp")["clinician_id"].drop_nulls())
    named = p["usual_gp_id"].drop_nulls()
    assert set(named.unique()) <= gp_ids
    assert 0.02 < p["usual_gp_id"].null_count() / p.height < 0.12


# --- the ICB's shape --------------------------------------------------------------------------

def test_practices_span_sizes_deprivation_and_personal_lists(icb):
    pr = icb["practices"]
    assert pr.height == 40
    nominal = pr.filter(pl.col("list_size") > 0)["list_size"] / ICB.scale
    assert 2000 <= nominal.min() <= 3000 and 28000 <= nominal.max() <= 36000
    assert sorted(pr["imd_decile"].unique()) == list(range(1, 11))
    assert 4 <= pr["personal_lists"].sum() <= 6
    pcn_lists = pr.group_by("pcn_code").agg(pl.col("list_size").sum() / ICB.scale)["list_size"]
    assert 25_000 < pcn_lists.mean() < 70_000


def test_patients_live_near_their_practice_on_the_deprivation_scale(icb):
    both = icb["patients"].join(icb["practices"].select("practice_code", pl.col("imd_decile")
                                                        .alias("practice_decile")),
                                on="practice_code")
    r = np.corrcoef(both["imd_decile"], both["practice_decile"])[0, 1]
    assert 0.7 < r < 0.97


def test_roles_modes_and_statuses_in_gpad_like_proportions(icb):
    a = icb["appointments"]
    share = {col: dict(a[col].value_counts(normalize=True).iter_rows())
             for col in ("clinician_role", "mode", "status")}
    assert sum(share["clinician_role"][r] for r in GP_ROLES) == pytest.approx(0.45, abs=0.02)
    assert 0.01 < share["clinician_role"]["gp_registrar"] < 0.04
    assert 0.02 < share["clinician_role"]["locum_gp"] < 0.06
    assert share["mode"]["face_to_face"] == pytest.approx(0.64, abs=0.02)
    assert share["mode"]["telephone"] == pytest.approx(0.25, abs=0.02)
    assert share["mode"]["video_online"] == pytest.approx(0.08, abs=0.015)
    assert share["mode"]["home_visit"] == pytest.approx(0.01, abs=0.005)
    assert share["status"]["attended"] == pytest.approx(0.90, abs=0.015)
    assert share["status"]["did_not_attend"] == pytest.approx(0.04, abs=0.008)
    assert a["clinician_id"].null_count() / a.height == pytest.approx(0.005, abs=0.002)
    assert 0.01 < a["appointment_time"].null_count() / a.height < 0.05


def test_appointments_per_patient_match_england_and_rise_with_age(icb):
    a, p = icb["appointments"], icb["patients"]
    per_month = a.height / p.height / ICB.months
    assert 0.40 < per_month < 0.52  # GPAD: ~29m a month for ~63m registered patients
    counts = (p.join(a.group_by("patient_id").len(), on="patient_id", how="left")
              .group_by("age_band").agg(pl.col("len").fill_null(0).mean()))
    rate = dict(counts.iter_rows())
    assert rate["75+"] > rate["65-74"] > rate["40-64"] > rate["18-39"] > rate["5-17"]


def test_some_contacts_repeat_the_same_clinician_on_the_same_day(icb):
    gp = attended_gp(icb["appointments"]).drop_nulls("clinician_id")
    repeats = gp.height - gp.select("patient_id", "clinician_id", "appointment_date").n_unique()
    assert 0.005 < repeats / gp.height < 0.03


def test_closures_merger_and_late_join(icb):
    a, p, pr = icb["appointments"], icb["patients"], icb["practices"]
    last_month = date(ICB.end.year, ICB.end.month, 1)
    span = a.group_by("practice_code").agg(first=pl.col("appointment_date").min(),
                                           last=pl.col("appointment_date").max())
    closed = span.filter(pl.col("last") < last_month)
    assert closed.height == 3  # two closures and the merged practice
    late = span.filter(pl.col("first") >= date(2024, 11, 1))
    assert late.height == 1
    merged = pr.filter(pl.col("list_size") == 0)["practice_code"].to_list()
    assert len(merged) == 1 and merged[0] in closed["practice_code"].to_list()
    # its patients are registered at the absorbing practice; their earlier rows keep the old code
    old = a.filter(pl.col("practice_code") == merged[0])
    moved = p.filter(pl.col("patient_id").is_in(old["patient_id"].implode()))
    assert moved["practice_code"].n_unique() == 1
    absorbing = moved["practice_code"][0]
    later = a.filter(pl.col("patient_id").is_in(moved["patient_id"].implode()),
                     pl.col("appointment_date") > old["appointment_date"].max())
    assert later.height > 0 and later["practice_code"].unique().to_list() == [absorbing]
    still_closed = closed.filter(pl.col("practice_code") != merged[0])["practice_code"]
    assert p.filter(pl.col("practice_code").is_in(still_closed.implode())).height > 0


# --- continuity patterns, through the engine --------------------------------------------------

def test_mean_practice_upc_is_in_the_published_range(practices):
    assert 0.5 <= practices["upc_mean"].mean() <= 0.65
    assert practices["upc_mean"].min() > 0.3 and practices["upc_mean"].max() < 0.95


def test_larger_practices_have_lower_continuity(practices):
    small = practices.filter(pl.col("nominal") < 5000)["upc_mean"].mean()
    large = practices.filter(pl.col("nominal") >= 10000)["upc_mean"].mean()
    assert -0.30 < large - small < -0.10  # Hull 2022: -0.18; Barker 2017: 0.70 vs 0.59
    rho = spearmanr(practices["nominal"], practices["upc_mean"]).statistic
    assert rho < -0.5


def test_personal_list_practices_have_slicc_of_50_to_80_percent(practices):
    personal = practices.filter(pl.col("personal_lists"))["slicc"]
    others = practices.filter(~pl.col("personal_lists"))["slicc"]
    assert personal.len() >= 4
    assert personal.min() >= 0.45 and personal.max() <= 0.85 and personal.mean() >= 0.55
    assert 0.2 < others.mean() < 0.45 and others.mean() < personal.min()


def test_older_patients_have_higher_continuity(icb, indices):
    patients = (indices["patients"].drop_nulls("upc")
                .join(icb["patients"].select("patient_id", "age_band"), on="patient_id"))
    old = patients.filter(pl.col("age_band").is_in(OLD))["upc"].mean()
    young = patients.filter(~pl.col("age_band").is_in(OLD))["upc"].mean()
    assert 0.04 < old - young < 0.15  # Hull 2022: +0.082 for >= 65


def test_continuity_declines_slowly_over_time(indices):
    monthly = (indices["slicc_monthly"].group_by("month")
               .agg(pl.col("slicc_numerator").sum(), pl.col("slicc_denominator").sum())
               .sort("month"))
    slicc = (monthly["slicc_numerator"] / monthly["slicc_denominator"]).to_numpy()
    per_year = np.polyfit(np.arange(len(slicc)) / 12, slicc, 1)[0]
    assert -0.04 < per_year < -0.005  # Tammes 2021: about 2 points a year


def test_deprivation_gradient_is_weak(indices, practices):
    by_band = indices["deprivation"].filter(pl.col("band_source") == "patient").sort(
        pl.col("imd_quintile").cast(pl.Int32))
    upc = by_band["upc_mean"].to_list()
    assert len(upc) == 5
    gradient = upc[4] - upc[0]  # least minus most deprived
    size_effect = (practices.filter(pl.col("nominal") < 5000)["upc_mean"].mean()
                   - practices.filter(pl.col("nominal") >= 10000)["upc_mean"].mean())
    assert 0 < gradient < 0.06 and gradient < size_effect / 3
