"""Read computed results: what pages and exports call (no page runs SQL of its own).

A `ResultSource` is a DuckDB connection holding the pipeline's result tables: the store's
precomputed `result_*` tables for its default parameters, or, for other parameters, an in-memory
connection that attaches the store read-only and runs the pipeline there. Every value reaches SQL
as a bound parameter; levels and table names come from whitelists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from metrics import engine
from metrics.params import Params

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
        return ResultSource(con, stored, "result_")
    con.close()
    mem = duckdb.connect()
    mem.execute("ATTACH ? AS store (READ_ONLY)", [str(db_path)])
    for table in ("appointments", "patients", "practices"):
        mem.execute(f"CREATE VIEW {table} AS SELECT * FROM store.{table}")
    engine.run_pipeline(engine.DuckDBBackend(mem, temporary=False), params, progress)
    return ResultSource(mem, params, "")


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return level


def groups(source: ResultSource, level: str, group_codes: Sequence[str] | None = None
           ) -> pl.DataFrame:
    """group_indices rows of one level (optionally some groups), ordered by code."""
    sql = f"SELECT * FROM {source.table('group_indices')} WHERE level = ?"
    args: list[object] = [check_level(level)]
    if group_codes is not None:
        sql += " AND list_contains(?, group_code)"
        args.append(list(group_codes))
    return source.query(sql + " ORDER BY group_code, subgroup", args)


def monthly(source: ResultSource, level: str, group_codes: Sequence[str] | None = None
            ) -> pl.DataFrame:
    """SLICC/OPR numerators and denominators per group and month (full grid)."""
    sql = (f"SELECT * FROM {source.table('group_named_gp_monthly')} WHERE level = ?")
    args: list[object] = [check_level(level)]
    if group_codes is not None:
        sql += " AND list_contains(?, group_code)"
        args.append(list(group_codes))
    return source.query(sql + " ORDER BY group_code, subgroup, month_start", args)


def appointment_mix(source: ResultSource, practice_codes: Sequence[str] | None = None
                    ) -> pl.DataFrame:
    sql = f"SELECT * FROM {source.table('appointment_mix')}"
    args: list[object] = []
    if practice_codes is not None:
        sql += " WHERE list_contains(?, practice_code)"
        args.append(list(practice_codes))
    return source.query(sql, args)


def practices(source: ResultSource) -> pl.DataFrame:
    """The practice directory (codes, names, PCN, ICB, list size, deprivation)."""
    return source.query("SELECT * FROM practices ORDER BY practice_code")


# Columns of a group summary that may be shared (after disclosure control).
SUMMARY_COLUMNS = (
    "eligible_patients", "contacts",
    "upc_mean", "upc_sd", "coc_mean", "coc_sd", "secon_mean", "secon_sd", "mmci_mean",
    "mmci_sd", "hhi_mean", "hhi_sd", "kpc_mean", "kpc_sd",
    "upc_pooled", "upc_pooled_numerator", "upc_pooled_denominator",
    "slicc", "slicc_numerator", "slicc_denominator", "named_gp_coverage",
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
    return frame.select(*keys, *SUMMARY_COLUMNS)


def slicc_monthly(source: ResultSource, level: str, group_codes: Sequence[str] | None = None
                  ) -> pl.DataFrame:
    """Monthly SLICC (blank where no GP contacts of named-GP patients) with its counts."""
    frame = monthly(source, level, group_codes)
    return frame.select(
        pl.col("group_code").alias(LEVEL_LABELS.get(level, "group_code")),
        *([pl.col("subgroup").alias("usual_gp_id")] if level == "gp_list" else []),
        pl.col("month_start").alias("month"),
        pl.when(pl.col("slicc_denominator") > 0)
        .then(pl.col("slicc_numerator") / pl.col("slicc_denominator")).alias("slicc"),
        "slicc_numerator", "slicc_denominator", "gp_contacts",
    )
