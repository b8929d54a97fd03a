"""Each table built from its mapped rows: normalised, checked, unknown values counted and
duplicates merged (the rules are in metrics/ingest/core.py's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from metrics import dates
from metrics.ingest.checks import (
    ICB_HINT,
    MAX_AGE,
    MAX_LIST_SIZE,
    ODS_ICB,
    ODS_PCN,
    ODS_SUB_ICB,
    PCN_HINT,
    SUB_ICB_HINT,
    Check,
    _apply_checks,
    _code_check,
    _date_checks,
    _number_checks,
    _over_check,
    _practice_checks,
    _required,
    _whole_number,
    age_band,
    tidy_code,
    tidy_id,
    tidy_text,
    tidy_unique_id,
)
from metrics.ingest.columns import map_vocabulary
from metrics.ingest.report import Progress, practice_key
from metrics.mapping import (
    TableMapping,
)
from metrics.pipeline.manifest import query_text


@dataclass
class Built:
    """One table after normalising, checking and merging duplicates."""

    frame: pl.DataFrame  # canonical columns + internal columns (__file, __line, x:...)
    rejects: pl.DataFrame
    merged: int
    unknowns: dict[tuple[str, str, str], int] = field(default_factory=dict)


def _unknown_counts(raw: pl.Series, table: str, name: str, unmatched: list[str], *,
                    skip_blank: bool = False) -> dict[tuple[str, str, str], int]:
    """Rows per raw value that mapped to nothing (blank optional values are not unknown)."""
    wanted = [u for u in unmatched if u.strip()] if skip_blank else unmatched
    if not wanted:
        return {}
    text = raw.fill_null("")
    counts = text.filter(text.is_in(wanted)).value_counts(sort=True, name="n")
    return {(table, name, value if value.strip() else "(blank)"): n
            for value, n in counts.iter_rows()}


def _with_vocab(frame: pl.DataFrame, table: str, names: list[str], tm: TableMapping,
                fallbacks: dict[str, str | None]) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Map vocabulary columns in place, keeping the raw text as `__raw:<name>`."""
    unmatched: dict[str, list[str]] = {}
    for name in names:
        mapped, unmatched[name] = map_vocabulary(frame[name], table, name, tm, fallbacks[name])
        frame = frame.with_columns(frame[name].alias(f"__raw:{name}"), mapped)
    return frame, unmatched


def _count_unknowns(frame: pl.DataFrame, table: str, unmatched: dict[str, list[str]],
                    present: set[str], *, skip_blank: bool) -> dict[tuple[str, str, str], int]:
    out: dict[tuple[str, str, str], int] = {}
    for name, values in unmatched.items():
        if name in present:
            out |= _unknown_counts(frame[f"__raw:{name}"], table, name, values,
                                   skip_blank=skip_blank)
    return out


def _dedupe(frame: pl.DataFrame, key: list[str], keep: str) -> pl.DataFrame:
    """Rows unique on `key`; skips the exact pass when a hash shows every key is distinct."""
    hashed = frame.select(pl.struct(key).hash(seed=7).n_unique()).item()
    if hashed == frame.height:
        return frame
    return frame.unique(subset=key, keep=keep, maintain_order=True)  # type: ignore[arg-type]


def _derive_ids(frame: pl.DataFrame) -> pl.Series:
    """Stable ids for thin exports: md5 of the visit's key + its occurrence within its file."""
    key = pl.concat_str(
        [pl.col("practice_code"), pl.col("patient_id"), pl.col("clinician_id").fill_null(""),
         pl.col("appointment_date").dt.strftime("%Y-%m-%d"),
         pl.col("appointment_time").dt.strftime("%H:%M:%S").fill_null("")],
        separator="\x1f")
    keyed = frame.select(key.alias("k"), pl.col("__file_no"))
    keyed = keyed.with_columns(
        (pl.int_range(pl.len()).over(["k", "__file_no"]) + 1).alias("occ"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"))
    con = duckdb.connect()
    try:
        con.register("keyed", keyed.select("i", "k"))
        digest = con.sql(query_text("ingest_derived_ids")).pl()
    finally:
        con.close()
    return (digest["h"] + "-" + keyed["occ"].cast(pl.Utf8)).alias("appointment_id")


def _build_appointments(frame: pl.DataFrame, present: set[str], tm: TableMapping,
                        today: date, progress: Progress | None) -> Built:
    c = pl.col
    if progress:
        progress("checking appointments", 0.3)
    frame = frame.with_columns(
        dates.parse_dates(frame["appointment_date"]).alias("__date"),
        dates.parse_times(frame["appointment_time"]).alias("__time"),
        tidy_unique_id(frame["appointment_id"]).alias("__id"),
        tidy_id(frame["patient_id"]).alias("__patient"),
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["clinician_id"]).alias("__clinician"),
        tidy_text(frame["usual_gp_id"]).alias("__usual_gp"),
    )
    if "age_years" in present:
        frame = frame.with_columns(_whole_number(c("age_years")).alias("__age"))
    checks = [_over_check(),
              Check("appointment_id", "missing appointment_id",
                    ~c("__derive") & c("__id").is_null(), c("appointment_id")),
              _required("patient_id", c("patient_id"), c("__patient")),
              *_practice_checks(c("practice_code"), c("__practice")),
              *_date_checks("appointment_date", c("appointment_date"), c("__date"), today)]
    if "age_years" in present:
        checks += _number_checks("age_years", c("age_years"), 0, MAX_AGE, "age in years")
    kept, rejects = _apply_checks(frame, "appointments", checks)
    del frame
    if progress:
        progress("normalising appointments", 0.6)
    vocab = ["clinician_role", "status", "mode"] + (["sex"] if "sex" in present else [])
    kept, unmatched = _with_vocab(kept, "appointments", vocab, tm, dict.fromkeys(vocab,
                                                                                "unknown"))
    kept = kept.with_columns(
        c("appointment_time").alias("__raw:appointment_time"),
        c("__patient").alias("patient_id"), c("__practice").alias("practice_code"),
        c("__date").alias("appointment_date"), c("__time").alias("appointment_time"),
        c("__clinician").alias("clinician_id"), c("__id").alias("appointment_id"),
    )
    if kept["__derive"].any():
        kept = kept.with_columns(
            pl.when(c("__derive")).then(_derive_ids(kept)).otherwise(c("appointment_id"))
            .alias("appointment_id"))
    if progress:
        progress("merging duplicate appointments", 0.8)
    before = kept.height
    kept = _dedupe(kept, ["practice_code", "appointment_id"], "last")
    merged = before - kept.height
    unknowns = _count_unknowns(kept, "appointments", unmatched, present, skip_blank=False)
    bad_time = kept["__raw:appointment_time"].is_not_null() & kept["appointment_time"].is_null()
    if bad_time.any():
        raw_time = kept["__raw:appointment_time"]
        unknowns |= _unknown_counts(raw_time, "appointments", "appointment_time",
                                    raw_time.filter(bad_time).unique().to_list(),
                                    skip_blank=True)
    return Built(kept, rejects, merged, unknowns)


def _build_patients(frame: pl.DataFrame, present: set[str], tm: TableMapping, *,
                    national_ids: bool = False) -> Built:
    c = pl.col
    frame = frame.with_columns(
        tidy_id(frame["patient_id"]).alias("__patient"),
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["usual_gp_id"]).alias("__usual_gp"),
        _whole_number(c("imd_decile")).alias("__imd"),
        _whole_number(c("age_years")).alias("__age"),
    )
    checks = [_over_check(), _required("patient_id", c("patient_id"), c("__patient")),
              *_practice_checks(c("practice_code"), c("__practice")),
              *_number_checks("imd_decile", c("imd_decile"), 1, 10, "IMD deciles run 1 to 10")]
    if "age_years" in present:
        checks += _number_checks("age_years", c("age_years"), 0, MAX_AGE, "age in years")
    kept, rejects = _apply_checks(frame, "patients", checks)
    if not national_ids:  # local ids: the same id at another practice is another patient
        kept = kept.with_columns(practice_key(c("__practice"), c("__patient")).alias("__patient"))
    # one practice per patient: the first row decides; rows elsewhere are rejected
    kept = kept.with_columns(
        c("__practice").first().over("__patient").alias("__first_practice"),
        c("__line").first().over("__patient").alias("__first_line"),
        c("__file").first().over("__patient").alias("__first_file"))
    conflict = c("__practice") != c("__first_practice")
    clash = kept.filter(conflict).select(
        pl.lit("patients").alias("table"), c("__file").alias("file"),
        c("__line").alias("line"), pl.lit("practice_code").alias("column"),
        pl.format("patient listed at another practice ({}) on line {} of {}",
                  c("__first_practice"), c("__first_line"), c("__first_file")).alias("reason"),
        c("practice_code").alias("raw_value"))
    kept = kept.filter(~conflict)
    before = kept.height
    kept = _dedupe(kept, ["__patient"], "first")
    merged = before - kept.height
    kept, unmatched = _with_vocab(kept, "patients", ["age_band", "sex"], tm,
                                  {"age_band": None, "sex": "unknown"})
    kept = kept.with_columns(
        c("__patient").alias("patient_id"), c("__practice").alias("practice_code"),
        c("__usual_gp").alias("usual_gp_id"), c("__imd").cast(pl.Int32).alias("imd_decile"),
        pl.coalesce(c("age_band"), age_band(c("__age"))).alias("age_band"),
        pl.when(c("__raw:sex").is_null()).then(None).otherwise(c("sex")).alias("sex"))
    unknowns = _count_unknowns(kept, "patients", unmatched, present, skip_blank=True)
    return Built(kept, pl.concat([rejects, clash]), merged, unknowns)


def _build_practices(frame: pl.DataFrame, present: set[str], tm: TableMapping) -> Built:
    c = pl.col
    frame = frame.with_columns(
        tidy_code(frame["practice_code"]).alias("__practice"),
        tidy_text(frame["practice_name"]).alias("__name"),
        tidy_code(frame["pcn_code"]).alias("__pcn"),
        tidy_text(frame["pcn_name"]).alias("__pcn_name"),
        tidy_code(frame["sub_icb_code"]).alias("__sub_icb"),
        tidy_code(frame["icb_code"]).alias("__icb"),
        _whole_number(c("list_size")).alias("__list"),
        _whole_number(c("imd_decile")).alias("__imd"),
    )
    checks = [_over_check(), *_practice_checks(c("practice_code"), c("__practice")),
              _required("practice_name", c("practice_name"), c("__name")),
              _required("pcn_code", c("pcn_code"), c("__pcn")),
              _code_check("pcn_code", c("pcn_code"), c("__pcn"), ODS_PCN, PCN_HINT),
              _code_check("sub_icb_code", c("sub_icb_code"), c("__sub_icb"), ODS_SUB_ICB,
                          SUB_ICB_HINT),
              _code_check("icb_code", c("icb_code"), c("__icb"), ODS_ICB, ICB_HINT),
              _required("pcn_name", c("pcn_name"), c("__pcn_name")),
              *_number_checks("list_size", c("list_size"), 0, MAX_LIST_SIZE,
                              "registered patients"),
              *_number_checks("imd_decile", c("imd_decile"), 1, 10, "IMD deciles run 1 to 10")]
    kept, rejects = _apply_checks(frame, "practices", checks)
    before = kept.height
    kept = _dedupe(kept, ["__practice"], "first")
    merged = before - kept.height
    kept, unmatched = _with_vocab(kept, "practices", ["personal_lists"], tm,
                                  {"personal_lists": None})
    kept = kept.with_columns(
        c("__practice").alias("practice_code"), c("__name").alias("practice_name"),
        c("__pcn").alias("pcn_code"), c("__pcn_name").alias("pcn_name"),
        c("__sub_icb").alias("sub_icb_code"), c("__icb").alias("icb_code"),
        c("__list").cast(pl.Int32).alias("list_size"),
        c("__imd").cast(pl.Int32).alias("imd_decile"),
        pl.when(c("personal_lists").is_null()).then(None)
        .otherwise(c("personal_lists") == "true").alias("personal_lists"))
    unknowns = _count_unknowns(kept, "practices", unmatched, present, skip_blank=True)
    return Built(kept, rejects, merged, unknowns)


def _build_usual_gp(frame: pl.DataFrame) -> Built:
    c = pl.col
    frame = frame.with_columns(tidy_id(frame["patient_id"]).alias("__patient"),
                               tidy_text(frame["usual_gp_id"]).alias("__usual_gp"))
    kept, rejects = _apply_checks(frame, "usual_gp", [
        _over_check(), _required("patient_id", c("patient_id"), c("__patient"))])
    kept = kept.with_columns(
        c("__usual_gp").first().over("__patient").alias("__first_gp"),
        c("__line").first().over("__patient").alias("__first_line"))
    conflict = c("__usual_gp").ne_missing(c("__first_gp"))
    clash = kept.filter(conflict).select(
        pl.lit("usual_gp").alias("table"), c("__file").alias("file"), c("__line").alias("line"),
        pl.lit("usual_gp_id").alias("column"),
        pl.format("patient has another usual GP on line {}", c("__first_line")).alias("reason"),
        c("usual_gp_id").alias("raw_value"))
    kept = kept.filter(~conflict)
    before = kept.height
    kept = _dedupe(kept, ["__patient"], "first")
    return Built(kept, pl.concat([rejects, clash]), before - kept.height)
