"""Data: what the database holds, and replacing it from an uploaded extract (column mapping,
validation report, rejected rows, what the load would change of other practices and its
confirmation, then an atomic rebuild), and undoing the last load."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import streamlit as st

from metrics import uploads
from metrics.ingest import (
    LOCAL_ID_PRESETS,
    ExtractFiles,
    IngestError,
    PracticeInfo,
    available_presets,
    read_raw,
)
from metrics.mapping import FIELDS, MappingError, required_fields
from metrics.pipeline import build
from metrics.store.changes import load_changes
from views import common

RESULT_KEY = "data_ingest_result"
FLASH_KEY = "data_flash"
AUTO = "(as the preset finds it)"
CONFIRM_LABEL = "I have checked these changes: apply them"
UPLOAD_TYPES = ["csv", "txt", "tsv", "parquet", "xlsx"]


@st.cache_data(max_entries=4, show_spinner=False)
def current(db: str, version: tuple[int, int]) -> tuple[dict, dict, pl.DataFrame, pl.DataFrame]:
    from metrics.read import data

    src = common.source(db, version, None)
    return (data.store_meta(src), data.store_counts(src), data.store_report(src),
            data.store_rejects(src))


def show_current(db: Path) -> None:
    st.subheader("The database now")
    version = common.db_version(db)
    if version is None:
        st.warning(f"There is no database at `{db}` yet: upload an extract below.")
        return
    try:
        meta, counts, report, rejects = current(str(db), version)
    except common.data_errors() as exc:  # the upload below must still work
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        st.error(f"The database at {db} cannot be read: {first}. Load an extract below to "
                 "replace it.", icon=":material/error:")
        return
    built = (meta.get("built_at") or "unknown").replace("T", " ")[:16]
    viewer = st.session_state.get(common.VIEWER_KEY)
    if viewer is None or not viewer.sees_everything:
        # exact store-wide totals less one's own practice would give the others' small counts
        st.caption(f"Built {built}. The database's totals and ingest report are shown only to "
                   "users who see every practice in full.")
        return
    cols = st.columns(3)
    for col, name in zip(cols, ("appointments", "patients", "practices"), strict=True):
        col.metric(name.capitalize(), f"{counts[name]:,}")
    st.caption(f"`{db}` · built {built} · source: {meta.get('preset', 'unknown')}"
               + (f" · {meta['notes']}" if meta.get("notes") else ""))
    if report.height:
        with st.expander("Last ingest report"):
            st.dataframe(report, hide_index=True)
    if rejects.height and viewer is not None and viewer.can_upload:  # raw values may name patients
        with st.expander(f"Rejected rows of the last ingest (first {rejects.height:,})"):
            st.dataframe(rejects, hide_index=True)


def save_uploads(files: list, folder: Path, prefix: str) -> tuple[Path, ...]:
    paths = []
    for i, upload in enumerate(files):
        path = folder / f"{prefix}{i}_{build.safe_file_name(upload.name)}"
        path.write_bytes(upload.getvalue())
        paths.append(path)
    return tuple(paths)


def mapping_step(preset: str, path: Path) -> dict[str, str]:
    """Show which column feeds each appointment field; return the user's overrides."""
    try:
        headers = read_raw(path, max_bytes=build.MAX_UPLOAD_MB << 20).headers
    except IngestError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    found = build.preset_matches(preset, "appointments", headers)
    required = set(required_fields("appointments"))
    st.markdown("**Column mapping** (appointments): check the column the preset found for "
                "each field, or choose another.")
    choices: dict[str, str] = {}
    cols = st.columns(3)
    for i, name in enumerate(FIELDS["appointments"]):
        label = f"{name}{' (required)' if name in required else ''}"
        hint = found.get(name)
        choice = cols[i % 3].selectbox(
            label, [AUTO, *headers], key=f"map_{name}",
            help=f"The preset finds: {hint}" if hint else "The preset finds no column; a "
                 "default or a derived value may apply (see the report).")
        if choice != AUTO:
            choices[name] = choice
    return choices


def upload_section(db: Path) -> None:
    st.subheader("Load an extract")
    st.write("Upload an appointments extract (CSV, Parquet or XLSX; several overlapping "
             "files allowed), optionally with patients, practices and usual-GP files. Nothing "
             "changes until you rebuild; a load that would remove practices or change another "
             "practice's PCN, sub-ICB, ICB or patients waits for your confirmation; a failed "
             "rebuild leaves the database as it was, and the last load can be undone.")
    presets = available_presets()
    preset = st.selectbox("Layout of the files (preset)", presets, key="preset",
                          index=presets.index("canonical") if "canonical" in presets else 0)
    local_only = preset in LOCAL_ID_PRESETS
    national = st.checkbox(
        "Patient ids are national (the same id is the same person at every practice)",
        key="national_ids", disabled=local_only,
        help="EMIS Web and SystmOne ids are local to each practice, so each practice's "
             "patients are kept apart; tick this only for a feed whose ids are national, "
             "such as pseudonymised NHS numbers.") and not local_only
    limit = build.MAX_UPLOAD_MB
    appointments = st.file_uploader(f"Appointments (required, up to {limit} MB each)",
                                    type=UPLOAD_TYPES, accept_multiple_files=True,
                                    max_upload_size=limit, key="upload_appointments")
    left, middle, right = st.columns(3)
    patients = left.file_uploader("Patients (optional)", type=UPLOAD_TYPES,
                                  max_upload_size=limit, key="upload_patients")
    practices = middle.file_uploader("Practices (optional)", type=UPLOAD_TYPES,
                                     max_upload_size=limit, key="upload_practices")
    usual_gp = right.file_uploader("Usual GP (optional)", type=UPLOAD_TYPES,
                                   max_upload_size=limit, key="upload_usual_gp")
    with st.expander("Practice details (for a single practice's export with no practice "
                     "code column)"):
        a, b, c, d = st.columns(4)
        code = a.text_input("Practice code", key="practice_code_in", max_chars=10)
        name = b.text_input("Practice name", key="practice_name_in", max_chars=200)
        pcn_code = c.text_input("PCN code", key="pcn_code_in", max_chars=10)
        pcn_name = d.text_input("PCN name", key="pcn_name_in", max_chars=200)
    append = st.checkbox("Add to the data already loaded (otherwise replace it)",
                         key="append")
    if not appointments:
        st.caption("Waiting for an appointments file.")
        return
    too_big = uploads.size_problem([*appointments, patients, practices, usual_gp])
    if too_big:  # Streamlit checks each file; this checks one load as a whole
        st.error(too_big, icon=":material/error:")
        return
    # the uploaded files are patient-level: on disk only while this run reads them (the
    # checked result is kept in memory for the rebuild)
    with uploads.upload_folder() as folder:
        appt_paths = save_uploads(appointments, folder, "appointments")
        choices = mapping_step(preset, appt_paths[0])
        if st.button("Check the extract", type="primary", key="check"):
            mapping_file = None
            if choices:
                mapping_file = folder / "mapping.toml"
                mapping_file.write_text(build.mapping_toml({"appointments": choices}), "utf-8")
            one = [save_uploads([f], folder, t)[0] if f else None
                   for t, f in (("patients", patients), ("practices", practices),
                                ("usual_gp", usual_gp))]
            practice = (PracticeInfo(code, name, pcn_code or None, pcn_name or None)
                        if code.strip() else None)
            with st.spinner("Reading and checking every row..."):
                try:
                    st.session_state[RESULT_KEY] = build_result(appt_paths, one, preset,
                                                                mapping_file, practice, national)
                except (IngestError, MappingError) as exc:
                    st.session_state.pop(RESULT_KEY, None)
                    st.error(str(exc), icon=":material/error:")
                    return
    result = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    report_section(result)
    with common.error_panel("This extract cannot be loaded into the database"):
        changes = load_changes(result, db, append=append)
    confirmed = changes_section(changes)
    if st.button("Rebuild the database", type="primary", key="rebuild",
                 disabled=confirmed is False):
        bar = st.progress(0.0, text="Rebuilding")
        with common.error_panel("The database could not be rebuilt; the previous one is "
                                "unchanged"):
            report = build.rebuild(result, db, append=append,
                                   confirmed=changes if confirmed else False,
                                   progress=lambda label, f: bar.progress(
                                       min(max(f, 0.0), 1.0), text=label))
        st.session_state.pop(RESULT_KEY, None)
        st.cache_data.clear()
        st.session_state[FLASH_KEY] = " ".join(
            ["The database was rebuilt from the uploaded extract.",
             *(line[:1].upper() + line[1:] + "." for line in build.report_lines(report))])
        st.rerun()


def changes_section(changes: list[str]) -> bool | None:
    """What the load would change of what the database holds, with a box to confirm it:
    None when it changes nothing there, else whether the user confirmed. The box belongs to
    this list of changes: other files, or adding instead of replacing, ask afresh."""
    if not changes:
        return None
    st.warning("**This load would change what the database holds for other practices:**\n\n"
               + "\n".join(f"- {line}" for line in changes), icon=":material/warning:")
    digest = hashlib.sha256("\n".join(changes).encode()).hexdigest()[:12]
    return st.checkbox(CONFIRM_LABEL, key=f"confirm_changes_{digest}")


def undo_section(db: Path) -> None:
    """Put back the database the last load replaced (kept beside it; metrics.store.previous)."""
    from metrics.store.previous import has_previous, undo_last_load

    if not has_previous(db):
        return
    if st.button("Undo the last load", key="undo",
                 help="Puts back the database as it was before the last load; pressing it "
                      "again brings the undone load back."):
        with common.error_panel("The last load could not be undone"):
            message = undo_last_load(db)
        st.cache_data.clear()
        st.session_state[FLASH_KEY] = message[:1].upper() + message[1:] + "."
        st.rerun()


def build_result(appointments: tuple[Path, ...], others: list[Path | None], preset: str,
                 mapping_file: Path | None, practice: PracticeInfo | None,
                 national_ids: bool = False):  # noqa: ANN201
    from metrics.ingest import read_extract

    files = ExtractFiles(appointments, *others)
    return read_extract(files, preset=preset, mapping_file=mapping_file, practice=practice,
                        max_bytes=build.MAX_UPLOAD_MB << 20, national_ids=national_ids)


def report_section(result) -> None:  # noqa: ANN001
    st.markdown("**Validation report**")
    st.code("\n".join(result.report.lines()), language=None)
    counts = result.report.as_frame().filter(pl.col("value") > 0)
    st.dataframe(counts, hide_index=True, key="ingest_counts")
    unknowns = result.report.unknowns_frame()
    if unknowns.height:
        st.markdown("**Values the preset did not recognise** (counted as unknown)")
        st.dataframe(unknowns, hide_index=True, key="ingest_unknowns")
    rejects = result.rejects
    if rejects.height:
        st.markdown(f"**Rejected rows**: {rejects.height:,} (file, line, column, reason)")
        st.dataframe(rejects.head(1000), hide_index=True, key="ingest_rejects")
    else:
        st.success("No rows rejected.", icon=":material/check_circle:")


def main() -> None:
    st.title("Data")
    viewer = st.session_state.get(common.VIEWER_KEY)
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if st.session_state.get(common.ERROR_KEY):
        st.error(f"The current database cannot be used: {st.session_state[common.ERROR_KEY]}",
                 icon=":material/error:")
    db = build.db_path()
    show_current(db)
    if viewer is None or not viewer.can_upload:
        st.info("Loading data is for the practice's or ICB's administrator.",
                icon=":material/lock:")
        return
    undo_section(db)
    upload_section(db)


main()
