"""SQL reads of the computed results: the only place the pages' figures come from the database.

A `ResultSource` is a DuckDB connection holding the pipeline's result tables: the store's
precomputed `result_*` tables for its default parameters, or, for other parameters, an in-memory
connection that attaches the store read-only and runs the pipeline there. Every value reaches SQL
as a bound parameter; levels and table names come from whitelists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from metrics.params import Params
from metrics.pipeline import engine
from metrics.read.labels import imd_quintile
from metrics.schema import IMD_QUINTILE_OF_DECILE

LEVELS = (
    "practice", "pcn", "sub_icb", "icb", "all", "practice_imd_quintile", "patient_imd_quintile",
    "age_band", "gp_list", "practice_age_band", "practice_patient_imd_quintile",
    "practice_contacts_band",
)


# Levels whose figures concern named staff or groups inside one practice.
PRACTICE_INTERNAL_LEVELS = ("gp_list",)


@dataclass
class ResultSource:
    con: duckdb.DuckDBPyConnection
    params: Params
    prefix: str  # "result_" for stored tables, "" for a fresh run's tables
    # A read-only store connection cannot see its own TEMP tables through a cursor: a single-
    # threaded caller (the CLI) running the pipeline on it sets cursor=False.
    cursor: bool = True
    # The practice directory, read once per source (every practice-page table asks for it).
    practice_rows: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    group_practice_rows: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    # The store file (for the reads a fresh run's in-memory tables do not hold: GPAD).
    path: Path | None = None

    def table(self, name: str) -> str:
        if name not in (*engine.RESULT_TABLES, "practices"):
            raise ValueError(f"unknown result table {name!r}")
        return name if name == "practices" else f"{self.prefix}{name}"

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        target = self.con.cursor() if self.cursor else self.con  # a cursor per query
        return target.sql(sql, params=list(params)).pl()


def open_results(db_path: Path, params: Params | None = None,
                 progress: engine.Progress | None = None) -> ResultSource:
    """Results for `params` (None: the store's defaults) from the database at `db_path`."""
    from metrics.store import connect_read_only

    con = connect_read_only(db_path)
    stored = engine.stored_params(con)
    if params is None or params == stored:
        return ResultSource(con, stored, "result_", path=Path(db_path))
    con.close()
    mem = duckdb.connect()
    mem.execute("ATTACH ? AS store (READ_ONLY)", [str(db_path)])
    for table in ("appointments", "patients", "practices"):
        mem.execute(f"CREATE VIEW {table} AS SELECT * FROM store.{table}")
    engine.run_pipeline(engine.DuckDBBackend(mem, temporary=False), params, progress)
    return ResultSource(mem, params, "", path=Path(db_path))


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return level


# Levels whose rows are groups of practices: their figures carry how many practices they rest
# on (`practices`), which disclosure control needs (metrics.disclosure).
MULTI_PRACTICE_LEVELS = ("pcn", "sub_icb", "icb", "all", "practice_imd_quintile",
                         "patient_imd_quintile", "age_band")


def group_practices(source: ResultSource) -> pl.DataFrame:
    """(level, group_code, practices) for every group of practices
    (queries/reads/group_practices.sql)."""
    if source.group_practice_rows is None:
        pairs = ", ".join(f"({d}, {q})" for d, q in IMD_QUINTILE_OF_DECILE.items())
        sql = engine.query_text("group_practices").format(table=source.table("group_indices"),
                                                          imd_quintiles=pairs)
        source.group_practice_rows = source.query(sql).with_columns(
            pl.col("practices").cast(pl.Int64))
    return source.group_practice_rows


def with_practices(source: ResultSource, rows: pl.DataFrame) -> pl.DataFrame:
    """Rows with a `level` and `group_code`, with `practices` where the level is a group of
    practices (blank for a practice and the groups inside one)."""
    if not rows["level"].is_in(MULTI_PRACTICE_LEVELS).any():
        return rows.with_columns(pl.lit(None, pl.Int64).alias("practices"))
    joined = rows.join(group_practices(source), on=["level", "group_code"], how="left",
                       maintain_order="left")
    return joined.with_columns(
        pl.when(pl.col("level").is_in(MULTI_PRACTICE_LEVELS))
        .then(pl.col("practices").fill_null(0)).alias("practices"))


def groups(source: ResultSource, level: str, group_codes: Sequence[str] | None = None
           ) -> pl.DataFrame:
    """group_indices rows of one level (optionally some groups), ordered by code."""
    sql = f"SELECT * FROM {source.table('group_indices')} WHERE level = ?"
    args: list[object] = [check_level(level)]
    if group_codes is not None:
        sql += " AND list_contains(?, group_code)"
        args.append(list(group_codes))
    return with_practices(source, source.query(sql + " ORDER BY group_code, subgroup", args))


def group_rows(source: ResultSource, keys: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """group_indices rows of some (level, group_code) pairs, in one query."""
    sql = (f"SELECT * FROM {source.table('group_indices')} "
           "WHERE list_contains(?, level) AND list_contains(?, group_code)")
    rows = with_practices(source, source.query(sql, [[check_level(level) for level, _ in keys],
                                                     [code for _, code in keys]]))
    wanted = pl.DataFrame({"level": [k[0] for k in keys], "group_code": [k[1] for k in keys]},
                          schema={"level": pl.Utf8, "group_code": pl.Utf8})
    return rows.join(wanted, on=["level", "group_code"], how="semi")


def monthly(source: ResultSource, level: str, group_codes: Sequence[str] | None = None,
            subgroup: str | None = None) -> pl.DataFrame:
    """SLICC/OPR numerators and denominators per group and month (full grid)."""
    sql = (f"SELECT * FROM {source.table('group_named_gp_monthly')} WHERE level = ?")
    args: list[object] = [check_level(level)]
    if group_codes is not None:
        sql += " AND list_contains(?, group_code)"
        args.append(list(group_codes))
    if subgroup is not None:
        sql += " AND subgroup = ?"
        args.append(subgroup)
    return with_practices(source,
                          source.query(sql + " ORDER BY group_code, subgroup, month_start", args))


def appointment_mix(source: ResultSource, practice_codes: Sequence[str] | None = None
                    ) -> pl.DataFrame:
    """Attended appointments by month, clinician role and mode, summed over the practices
    (all of them when None). Summed in the database: all practices' rows number hundreds of
    thousands at 10 million appointments, their sums about a thousand."""
    sql = (f"SELECT month_start, clinician_role, mode, sum(appointments) AS appointments "
           f"FROM {source.table('appointment_mix')} WHERE status = 'attended'")
    args: list[object] = []
    if practice_codes is not None:
        sql += " AND list_contains(?, practice_code)"
        args.append(list(practice_codes))
    return source.query(sql + " GROUP BY month_start, clinician_role, mode", args)


def practices(source: ResultSource) -> pl.DataFrame:
    """The practice directory (codes, names, PCN, ICB, list size, deprivation)."""
    if source.practice_rows is None:
        source.practice_rows = source.query("SELECT * FROM practices ORDER BY practice_code")
    return source.practice_rows


# Columns of a group summary that may be shared (after disclosure control).
SUMMARY_COLUMNS = (
    "eligible_patients", "contacts",
    "upc_mean", "upc_sd", "coc_mean", "coc_sd", "secon_mean", "secon_sd", "mmci_mean",
    "mmci_sd", "hhi_mean", "hhi_sd", "kpc_mean", "kpc_sd",
    "upc_pooled", "upc_pooled_numerator", "upc_pooled_denominator",
    "slicc", "slicc_numerator", "slicc_denominator", "named_gp_coverage", "gp_contacts",
    "opr", "opr_numerator", "opr_denominator",
)


LEVEL_LABELS = {
    "practice": "practice_code", "pcn": "pcn_code", "sub_icb": "sub_icb_code",
    "icb": "icb_code", "all": "all", "practice_imd_quintile": "practice_imd_quintile",
    "patient_imd_quintile": "patient_imd_quintile", "age_band": "age_band",
    "gp_list": "practice_code",
}


def summary(source: ResultSource, level: str, group_codes: Sequence[str] | None = None
            ) -> pl.DataFrame:
    """A level's figures with a named key column (and subgroup where the level has one)."""
    frame = groups(source, level, group_codes)
    keys = [pl.col("group_code").alias(LEVEL_LABELS.get(level, "group_code"))]
    if level == "gp_list":
        keys.append(pl.col("subgroup").alias("usual_gp_id"))
        keys.append(pl.col("list_patients"))
    elif level.startswith("practice_") and level != "practice_imd_quintile":
        keys.append(pl.col("subgroup").alias(level.removeprefix("practice_")))
    return frame.select(*keys, *SUMMARY_COLUMNS,
                        *(["practices"] if level in MULTI_PRACTICE_LEVELS else []))


def slicc_monthly(source: ResultSource, level: str, group_codes: Sequence[str] | None = None,
                  subgroup: str | None = None) -> pl.DataFrame:
    """Monthly SLICC (blank where no GP contacts of named-GP patients) with its counts."""
    frame = monthly(source, level, group_codes, subgroup)
    return frame.select(
        pl.col("group_code").alias(LEVEL_LABELS.get(level, "group_code")),
        *([pl.col("subgroup").alias("usual_gp_id")] if level == "gp_list" else []),
        pl.col("month_start").alias("month"),
        pl.when(pl.col("slicc_denominator") > 0)
        .then(pl.col("slicc_numerator") / pl.col("slicc_denominator")).alias("slicc"),
        "slicc_numerator", "slicc_denominator", "gp_contacts",
        *(["practices"] if level in MULTI_PRACTICE_LEVELS else []),
    )


def directory(source: ResultSource) -> pl.DataFrame:
    """Practice directory with its deprivation quintile (for labels and selections)."""
    return practices(source).with_columns(
        practice_imd_quintile=imd_quintile(pl.col("imd_decile")))


def pcn_names(source: ResultSource) -> pl.DataFrame:
    return (practices(source).group_by("pcn_code").agg(pl.col("pcn_name").first())
            .sort("pcn_code"))


def available_months(source: ResultSource) -> list:
    """First days of the months from the first appointment's to the last's (the end-month
    choices). min and max come from the store's statistics, where a DISTINCT over every
    appointment took a third of a cold page load at 10 million appointments."""
    sql = "SELECT min(appointment_date) AS first, max(appointment_date) AS last FROM appointments"
    first, last = source.query(sql).row(0)
    if first is None:
        return []
    return engine.months_in(Params(first, last))


def rolling_upc(source: ResultSource, level: str, group_codes: Sequence[str] | None = None,
                subgroup: str | None = None) -> pl.DataFrame | None:
    """Rolling 12-month UPC per group and month; None when the database predates it."""
    try:
        name = source.table("group_rolling_upc")
        sql = f"SELECT * FROM {name} WHERE level = ?"
        args: list[object] = [check_level(level)]
        frame = source.query(sql, args)
    except (ValueError, duckdb.CatalogException):
        return None
    frame = frame.rename({k: v for k, v in (("code", "group_code"), ("month", "month_start"))
                          if k in frame.columns and v not in frame.columns})
    if group_codes is not None:
        frame = frame.filter(pl.col("group_code").is_in(list(group_codes)))
    if subgroup is not None:
        frame = frame.filter(pl.col("subgroup") == subgroup)
    return with_practices(source, frame.sort("group_code", "subgroup", "month_start"))


def gp_list_ids(source: ResultSource, practice: str) -> list[str]:
    """The named GPs holding a list at the practice (for choosing one list's series)."""
    return groups(source, "gp_list", [practice])["subgroup"].to_list()


def practice_profile(source: ResultSource, practice: str) -> dict[str, object] | None:
    rows = directory(source).filter(pl.col("practice_code") == practice)
    return rows.row(0, named=True) if rows.height else None


def months_between(params: Params) -> int:
    return len(engine.months_in(params))
