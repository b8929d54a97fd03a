"""What a thin export lacks, built from what it has: patients from the appointments, the
usual-GP file applied, the practice given by the user.
"""

from __future__ import annotations

import re

import polars as pl

from metrics.ingest.checks import ODS_PCN, ODS_PRACTICE, PCN_HINT, PRACTICE_HINT, age_band
from metrics.ingest.report import REJECT_SCHEMA, IngestError, IngestReport, PracticeInfo


def _visit_order(appts: pl.DataFrame) -> pl.Expr:
    """Each visit's rank in contact order (docs/methods.md s.1: date, time with a missing time
    last, appointment_id, practice code), so "where last seen" is the practice that
    queries/pipeline/patients/patient_practice.sql gives a patient missing from the patients
    extract."""
    c = pl.col
    return pl.arg_sort_by(
        c("appointment_date"), c("appointment_time").is_null(), c("appointment_time"),
        c("appointment_id"), c("practice_code")).arg_sort().cast(pl.Int64)


def _patients_from_appointments(appts: pl.DataFrame) -> pl.DataFrame:
    """One patient per appointment patient: where last seen; latest age, sex and usual GP."""
    c = pl.col
    sex = (pl.when(c("__raw:sex").is_not_null()).then(c("sex")) if "__raw:sex" in appts.columns
           else pl.lit(None, dtype=pl.Utf8))
    age = c("__age") if "__age" in appts.columns else pl.lit(None, dtype=pl.Int64)
    visits = appts.select(
        c("patient_id"), c("practice_code"), _visit_order(appts).alias("k"),
        c("__usual_gp").alias("usual_gp_id"), age.alias("age"), sex.alias("sex"))
    def latest(name: str) -> pl.Expr:
        return c(name).sort_by("k").drop_nulls().last().alias(name)

    latest_known = (visits.group_by("patient_id")
                    .agg(c("practice_code").sort_by("k").last(), latest("usual_gp_id"),
                         latest("age"), latest("sex"))
                    .with_columns(pl.lit(None, dtype=pl.Int32).alias("imd_decile"))
                    .sort("patient_id"))
    return latest_known.select(
        c("patient_id"), c("practice_code"), c("usual_gp_id"),
        c("imd_decile").cast(pl.Int32), age_band(c("age")).alias("age_band"), c("sex"))


def _fill_patients(patients: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Fill blank usual GP, age band and sex from what the appointments say."""
    fill = known.select("patient_id", pl.col("age_band").alias("__ab"),
                        pl.col("usual_gp_id").alias("__ug"), pl.col("sex").alias("__sx"))
    joined = patients.join(fill, on="patient_id", how="left", maintain_order="left")
    return joined.with_columns(
        pl.coalesce("usual_gp_id", "__ug").alias("usual_gp_id"),
        pl.coalesce("age_band", "__ab").alias("age_band"),
        pl.coalesce("sex", "__sx").alias("sex")).drop("__ab", "__ug", "__sx")


def _apply_usual_gp(patients: pl.DataFrame, usual: pl.DataFrame, practice: str | None,
                    report: IngestReport) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Set each listed patient's usual GP; add unknown patients when the practice is known."""
    c = pl.col
    gp = usual.select(c("__patient").alias("patient_id"), c("__usual_gp").alias("__gp"),
                      c("__file"), c("__line"), c("usual_gp_id").alias("__raw"))
    known = gp.join(patients.select("patient_id"), on="patient_id", how="semi")
    unknown = gp.join(patients.select("patient_id"), on="patient_id", how="anti")
    patients = patients.join(known.select("patient_id", "__gp"), on="patient_id", how="left",
                             maintain_order="left")
    patients = patients.with_columns(pl.coalesce(c("__gp"), c("usual_gp_id"))
                                     .alias("usual_gp_id")).drop("__gp")
    rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    if unknown.height and practice is not None:
        added = unknown.select(
            c("patient_id"), pl.lit(practice).alias("practice_code"),
            c("__gp").alias("usual_gp_id"), pl.lit(None, dtype=pl.Int32).alias("imd_decile"),
            pl.lit(None, dtype=pl.Utf8).alias("age_band"), pl.lit(None, dtype=pl.Utf8)
            .alias("sex"))
        patients = pl.concat([patients, added.cast(patients.schema)])
        report.notes.append(f"usual_gp: {added.height:,} patients with no appointment added to "
                            f"{practice} from the usual-GP file")
    elif unknown.height:
        rejects = unknown.select(
            pl.lit("usual_gp").alias("table"), c("__file").alias("file"),
            c("__line").alias("line"), pl.lit("patient_id").alias("column"),
            pl.lit("patient not in the patients or appointments files").alias("reason"),
            c("patient_id").alias("raw_value"))
    return patients, rejects


def _practice_row(info: PracticeInfo) -> pl.DataFrame:
    return pl.DataFrame([{"practice_code": info.practice_code, "practice_name": info.practice_name,
                          "pcn_code": info.pcn_code, "pcn_name": info.pcn_name}]).cast(
        {"pcn_code": pl.Utf8, "pcn_name": pl.Utf8}).with_columns(
        pl.lit(None, dtype=pl.Utf8).alias("sub_icb_code"),
        pl.lit(None, dtype=pl.Utf8).alias("icb_code"),
        pl.lit(None, dtype=pl.Int32).alias("list_size"),
        pl.lit(None, dtype=pl.Int32).alias("imd_decile"),
        pl.lit(None, dtype=pl.Boolean).alias("personal_lists"))


def _checked_practice(practice: PracticeInfo | None) -> PracticeInfo | None:
    if practice is None:
        return None
    code = practice.practice_code.strip().upper()
    if not re.match(ODS_PRACTICE, code):
        raise IngestError(f"practice code {practice.practice_code!r} is not valid: "
                          f"{PRACTICE_HINT}")
    name = " ".join(practice.practice_name.split())
    if not name:
        raise IngestError("the practice name is blank: give the practice's name")
    pcn = practice.pcn_code.strip().upper() if practice.pcn_code else None
    if pcn is not None and not re.match(ODS_PCN, pcn):
        raise IngestError(f"PCN code {practice.pcn_code!r} is not valid: {PCN_HINT}")
    pcn_name = " ".join(practice.pcn_name.split()) if practice.pcn_name else None
    return PracticeInfo(code, name, pcn, pcn_name)
