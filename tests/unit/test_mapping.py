"""Mapping presets and user mapping files: how a source's columns and values become canonical."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.ingest import map_vocabulary
from metrics.mapping import (
    PRESET_DIR,
    MappingError,
    available_presets,
    column_key,
    load_mapping,
    value_key,
)
from metrics.pipeline.build import mapping_toml


def mapped(values: list[str | None], preset: str = "canonical", field: str = "status",
           mapping_file: Path | None = None) -> tuple[list[str | None], list[str]]:
    tm = load_mapping(preset, mapping_file).table("appointments")
    out, unmatched = map_vocabulary(pl.Series(field, values, dtype=pl.Utf8), "appointments",
                                    field, tm, "unknown")
    return out.to_list(), sorted(unmatched)


def test_the_four_presets_ship() -> None:
    assert available_presets() == ["canonical", "emis", "gpad", "systmone"]


@pytest.mark.parametrize(("name", "key"), [
    ("Appointment Date", "appointment_date"),
    ("  APPOINTMENT   DATE ", "appointment_date"),
    ("appointment-date", "appointment_date"),
    ("\ufeffPatient ID", "patient_id"),  # a BOM stuck to the first header
    ("User Details' Full Name", "user_details_full_name"),
    ("User Details\u2019 Full Name", "user_details_full_name"),
    ("Age in years", "age_in_years"),
])
def test_column_names_match_ignoring_case_spacing_and_punctuation(name: str, key: str) -> None:
    assert column_key(name) == key


def test_values_match_ignoring_case_spaces_underscores_and_hyphens() -> None:
    assert value_key("  Face-to-Face ") == value_key("FACE TO FACE") == value_key("face_to_face")


@pytest.mark.parametrize(("raw", "code"), [
    ("attended", "attended"), ("ATTENDED", "attended"), (" Did_Not_Attend ", "did_not_attend"),
    ("DNA", "did_not_attend"), ("canceled", "cancelled"), ("Booked", "booked"),
])
def test_canonical_status_vocabulary_and_synonyms(raw: str, code: str) -> None:
    assert mapped([raw])[0] == [code]


def test_unmatched_and_blank_values_become_unknown_and_are_listed() -> None:
    codes, unmatched = mapped(["attended", "Frobnicated", None, "Frobnicated"])
    assert codes == ["attended", "unknown", "unknown", "unknown"]
    assert unmatched == ["", "Frobnicated"]  # "" stands for blank


@pytest.mark.parametrize(("raw", "code"), [
    ("Arrived", "attended"), ("Left", "attended"), ("Sent In", "attended"),
    ("Visited and seen", "attended"), ("Telephone consultation completed", "attended"),
    ("DNA", "did_not_attend"), ("Walked Out", "did_not_attend"),
    ("Telephoned but no answer", "did_not_attend"), ("Visited and not seen", "did_not_attend"),
    ("Cancelled", "cancelled"), ("Booked", "booked"),
])
def test_emis_slot_statuses_follow_the_schema_doc(raw: str, code: str) -> None:
    assert mapped([raw], "emis")[0] == [code]


@pytest.mark.parametrize(("raw", "code"), [
    ("GP Face to Face", "face_to_face"), ("Telephone Triage", "telephone"),
    ("Video Consultation", "video_online"), ("Home Visit", "home_visit"),
    ("Routine", "unknown"),
])
def test_emis_slot_types_map_to_modes_by_fragment(raw: str, code: str) -> None:
    assert mapped([raw], "emis", "mode")[0] == [code]


@pytest.mark.parametrize(("raw", "code"), [
    ("1", "attended"), ("3", "attended"), ("4", "attended"), ("8", "attended"),
    ("2", "did_not_attend"), ("14", "did_not_attend"), ("16", "did_not_attend"),
    ("10", "cancelled"), ("11", "cancelled"), ("12", "cancelled"), ("15", "cancelled"),
    ("Patient Walked Out", "did_not_attend"),
])
def test_systmone_status_codes_follow_the_schema_doc(raw: str, code: str) -> None:
    assert mapped([raw], "systmone")[0] == [code]


@pytest.mark.parametrize(("raw", "field", "code"), [
    ("Attended", "status", "attended"), ("DNA", "status", "did_not_attend"),
    ("Unknown", "status", "unknown"),
    ("Face-to-Face", "mode", "face_to_face"), ("Telephone", "mode", "telephone"),
    ("Home Visit", "mode", "home_visit"), ("Video Conference/Online", "mode", "video_online"),
    ("GP", "clinician_role", "gp"), ("Other Practice staff", "clinician_role", "other_clinical"),
])
def test_gpad_vocabularies(raw: str, field: str, code: str) -> None:
    assert mapped([raw], "gpad", field)[0] == [code]


@pytest.mark.parametrize("code", ["R0260", "R0270", "R0262", "R6200", "R6300"])
def test_nhs_gp_job_role_codes_are_gp(code: str) -> None:
    assert mapped([code], field="clinician_role")[0] == ["gp"]


def test_thin_export_presets_default_what_the_export_lacks() -> None:
    for preset in ("systmone", "emis"):
        tm = load_mapping(preset).table("appointments")
        assert tm.defaults == {"status": "attended", "clinician_role": "gp", "mode": "unknown"}
        assert tm.options["derive_appointment_id"] is True


def test_user_mapping_renames_columns_and_maps_values(tmp_path: Path) -> None:
    user = tmp_path / "ours.toml"
    user.write_text('name = "ours"\n'
                    '[appointments.columns]\nclinician_id = "Session Holder\'s Name"\n'
                    '[appointments.values.mode]\n"Duty Doctor Call Back" = "telephone"\n'
                    '[appointments.contains.mode]\n"callback" = "telephone"\n')
    mapping = load_mapping("emis", user)
    tm = mapping.table("appointments")
    assert mapping.name == "emis + ours"
    assert tm.aliases("clinician_id")[0] == "session_holders_name"  # the user's name first
    assert "user_details_full_name" in tm.aliases("clinician_id")  # the preset's still tried
    codes, _ = mapped(["Duty Doctor Call Back", "GP callback slot", "Arrived"], "emis",
                      "mode", user)
    assert codes == ["telephone", "telephone", "unknown"]


def test_the_example_mapping_file_layers_on_every_preset() -> None:
    for preset in available_presets():
        mapping = load_mapping(preset, PRESET_DIR / "example_mapping.toml")
        tm = mapping.table("appointments")
        assert mapping.name == f"{preset} + our_practice"
        assert list(tm.aliases("clinician_id")[:2]) == ["session_holders_name", "clinician"]
        codes, _ = mapped(["Duty Doctor Call Back", "GP callback slot"], preset, "mode",
                          PRESET_DIR / "example_mapping.toml")
        assert codes == ["telephone", "telephone"], preset


@pytest.mark.parametrize(("toml", "says"), [
    ("[appointments.values.status]\n\"Seen\" = \"present\"\n", "'present' is not one of"),
    ("[appointments.columns]\nfavourite_colour = \"Colour\"\n", "is not a field of"),
    ("[appointmentz]\n", "unknown section"),
    ("[appointments.defaults]\npatient_id = \"P1\"\n", "cannot have a default"),
    ("[appointments.options]\ndrop_tables = true\n", "is not an option"),
    ("extends = \"nosuch\"\n", "unknown preset 'nosuch'"),
    ("this is = not toml = at all\n", "is not valid TOML"),
])
def test_a_bad_mapping_file_is_one_clear_line(tmp_path: Path, toml: str, says: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(toml)
    with pytest.raises(MappingError, match=says) as caught:
        load_mapping("canonical", user)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["nosuch", "../canonical", "canonical; DROP TABLE x", ""])
def test_only_packaged_presets_can_be_named(name: str) -> None:
    with pytest.raises(MappingError, match="unknown preset"):
        load_mapping(name)


def test_a_missing_mapping_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping file"):
        load_mapping("canonical", tmp_path / "absent.toml")


def test_a_mapping_file_may_extend_another_preset(tmp_path: Path) -> None:
    user = tmp_path / "ours.toml"
    user.write_text('extends = "emis"\n[appointments.values.status]\n"Seen" = "attended"\n')
    mapping = load_mapping("canonical", user)
    assert mapping.layers == ("canonical", "emis", "ours")
    assert mapped(["Sent In", "Seen"], "canonical", mapping_file=user)[0] == [
        "attended", "attended"]


# ---- the mapping file the Data page writes --------------------------------------------------


def written_and_read(header: str) -> str:
    """The header as the Data page's mapping file holds it, read back by tomllib."""
    text = mapping_toml({"appointments": {"clinician_id": header}})
    return tomllib.loads(text)["appointments"]["columns"]["clinician_id"]


@pytest.mark.parametrize("header", [
    "Clinician \U0001F9D1\u200D\u2695\uFE0F",  # an emoji (JSON would write a surrogate pair)
    'Session "Holder" \\ name', "tab\there", "line\nbreak\r", "nul\x00del\x7f", "Müller ’s",
    "\u2028separator", "[appointments.columns]\npatient_id = 'x'",
])
def test_any_header_is_written_as_valid_toml_and_read_back_exactly(header: str,
                                                                   tmp_path: Path) -> None:
    assert written_and_read(header) == header
    file = tmp_path / "mapping.toml"
    file.write_text(mapping_toml({"appointments": {"clinician_id": header}}), "utf-8")
    tm = load_mapping("canonical", file).table("appointments")
    assert tm.aliases("clinician_id")[0] == column_key(header)
    preset = load_mapping("canonical").table("appointments")
    assert tm.columns["patient_id"] == preset.columns["patient_id"]  # no line injected


@given(st.text(min_size=1))  # an empty choice means "not in the file": nothing written
def test_every_text_round_trips_through_the_generated_toml(header: str) -> None:
    assert written_and_read(header) == header


def test_a_deeply_nested_mapping_file_is_refused_in_one_line(tmp_path: Path) -> None:
    file = tmp_path / "deep.toml"
    file.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", "utf-8")
    with pytest.raises(MappingError, match=r"^mapping file deep\.toml nests arrays or tables "
                                           r"too deeply"):
        load_mapping("canonical", file)
