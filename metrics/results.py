"""Read computed results: what pages and exports call (no page runs SQL of its own).

A `ResultSource` is a DuckDB connection holding the pipeline's result tables: the store's
precomputed `result_*` tables for its default parameters, or, for other parameters, an in-memory
connection that attaches the store read-only and runs the pipeline there. Every value reaches SQL
as a bound parameter; levels and table names come from whitelists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from metrics import engine
from metrics.access import Viewer
from metrics.disclosure import NO_CONTROL, DisclosureRule
from metrics.params import Params
from metrics.schema import AGE_BANDS

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


# Levels whose rows are groups of practices: their figures carry how many practices they rest
# on (`practices`), which disclosure control needs (metrics.disclosure).
MULTI_PRACTICE_LEVELS = ("pcn", "sub_icb", "icb", "all", "practice_imd_quintile",
                         "patient_imd_quintile", "age_band")


def group_practices(source: ResultSource) -> pl.DataFrame:
    """(level, group_code, practices) for every group of practices
    (queries/reads/group_practices.sql)."""
    if source.group_practice_rows is None:
        sql = engine.query_text("group_practices").format(table=source.table("group_indices"))
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


def disclose_level(source: ResultSource, frame: pl.DataFrame, level: str,
                   rule: DisclosureRule, also: Sequence[str] = ()) -> pl.DataFrame:
    """A level's rows (keyed by their first column) under `rule`, each group among the
    members of its total; `also` adds partition columns (a month: each month's total)."""
    frame, partition = with_partition(source, frame, level, frame.columns[0])
    return disclose(frame, rule, [*partition, *also])


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


# ---- what the dashboard's pages show ---------------------------------------------------------
# Every page asks for `Table`s built here: the same frame is drawn, listed and exported, so a
# download is exactly what is on screen. Builders apply the viewer's disclosure rule themselves:
# a practice's own rows may be exact, every other row goes through the shared rule.

QUINTILE_LABELS = {"1": "Q1 most deprived", "2": "Q2", "3": "Q3", "4": "Q4",
                   "5": "Q5 least deprived", "unknown": "Not known"}
CONTACTS_BANDS = ("1", "2-3", "4-6", "7-11", "12+")
FREQUENT_ATTENDERS = "12+"
ROLE_GROUPS = {  # clinician_role -> who patients saw (triage away from GPs drives continuity)
    "gp": "GP", "gp_registrar": "GP registrar", "locum_gp": "Locum GP", "nurse": "Nurse",
    "pharmacist": "Pharmacist", "physiotherapist": "Other clinical (ARRS) roles",
    "paramedic": "Other clinical (ARRS) roles",
    "physician_associate": "Other clinical (ARRS) roles",
    "social_prescriber": "Other clinical (ARRS) roles",
    "other_clinical": "Other clinical (ARRS) roles", "admin": "Admin or unknown",
    "unknown": "Admin or unknown",
}
ROLE_GROUP_ORDER = ("GP", "GP registrar", "Locum GP", "Nurse", "Pharmacist",
                    "Other clinical (ARRS) roles", "Admin or unknown")
MODE_LABELS = {"face_to_face": "Face to face", "telephone": "Telephone",
               "video_online": "Video or online", "home_visit": "Home visit",
               "unknown": "Unknown mode"}
BREAKDOWN_NAMES = {"age_band": "age band", "contacts_band": "contacts in the window",
                   "patient_imd_quintile": "patient deprivation quintile"}
PRACTICE_GROUPS = {  # page breakdown -> (level, column label)
    "age_band": ("practice_age_band", "age_band"),
    "contacts_band": ("practice_contacts_band", "contacts_band"),
    "patient_imd_quintile": ("practice_patient_imd_quintile", "patient_imd_quintile"),
}


@dataclass(frozen=True)
class Selection:
    """The global filters that are not `Params`: which index, practice and PCN."""

    index: str = "slicc"
    practice: str | None = None
    pcn: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        from metrics.methods import index

        d = index(self.index)
        return [("index", f"{d.name} ({d.full_name}; {d.summary})"),
                ("practice", self.practice or "none selected"),
                ("PCN", self.pcn or "none selected")]


@dataclass(frozen=True, eq=False)
class Table:
    """One table as shown (after disclosure control), with what an export must say about it."""

    key: str  # stable id, used as the file name
    title: str
    frame: pl.DataFrame
    scope: str
    rule: DisclosureRule  # the rule for shared rows
    own_rows: str | None = None  # rows shown exactly (a practice's own view), described
    internal: bool = False  # per-GP figures: the practice's own view only
    # The statistics drawn from `frame` (an SpcResult or FunnelResult), so the chart and the
    # exported table come from one computation.
    result: object | None = None

    @property
    def empty(self) -> bool:
        return self.frame.height == 0

    def numeric(self) -> pl.DataFrame:
        """The frame for charts: suppressed '*' cells become blank, numbers become numbers."""
        return to_numeric(self.frame)


def to_numeric(df: pl.DataFrame) -> pl.DataFrame:
    """Text columns made by disclosure control back to numbers ('*' -> null)."""
    out = []
    for name, dtype in df.schema.items():
        if dtype == pl.Utf8 and _is_figure(name):
            out.append(pl.col(name).cast(pl.Float64, strict=False))
    return df.with_columns(out) if out else df


def _is_figure(name: str) -> bool:
    from metrics.disclosure import COUNT_COLUMNS, RATIOS

    return (name in COUNT_COLUMNS or name in RATIOS or name.endswith(
        ("_numerator", "_denominator", "_mean", "_sd", "_lci", "_uci", "_coverage"))
        or name in ("value", "numerator", "denominator", "share", "list_size"))


def index_columns(key: str) -> list[str]:
    """The columns that carry one index with its n and interval."""
    from metrics.methods import index

    d = index(key)
    if d.kind == "ratio":
        cols = [d.key, f"{d.key}_numerator", f"{d.key}_denominator"]
        if d.key == "slicc":  # coverage with its denominator, so it is computed as disclosed
            cols += ["named_gp_coverage", "gp_contacts"]
    else:
        cols = [d.value_col, f"{d.key}_sd", "eligible_patients", "contacts"]
    return [*cols, f"{d.key}_lci", f"{d.key}_uci"]


def with_interval(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """Wilson limits for ratios, t limits for means of patient values (metrics.stats)."""
    from metrics.methods import index
    from metrics.stats import with_mean_ci, with_wilson

    d = index(key)
    if d.kind == "ratio":
        return with_wilson(df, f"{d.key}_numerator", f"{d.key}_denominator", d.key)
    return with_mean_ci(df, d.value_col, f"{d.key}_sd", "eligible_patients", d.key)


PARENT = "__parent"


def disclose(df: pl.DataFrame, rule: DisclosureRule,
             partition: Sequence[str] | None = None) -> pl.DataFrame:
    """`disclosure.apply`: counts controlled, everything derived from the disclosed counts;
    `partition` names the columns whose rows are the members of one total."""
    from metrics import disclosure

    return disclosure.apply(df, rule, partition).drop(PARENT, strict=False)


def with_partition(source: ResultSource, rows: pl.DataFrame, level: str,
                   key_col: str = "group_code") -> tuple[pl.DataFrame, list[str]]:
    """Rows with the columns that say which total each is a member of (for complementary
    suppression): a practice's PCN, a PCN's or sub-ICB's ICB, a practice for the groups inside
    it; every other level's groups (ICBs, bands) are members of the whole."""
    if level in ("gp_list", "practice_age_band", "practice_patient_imd_quintile",
                 "practice_contacts_band"):
        return rows, [key_col]
    column = {"practice": "practice_code", "pcn": "pcn_code", "sub_icb": "sub_icb_code"}.get(level)
    if column is None:
        return rows, []
    parent = "pcn_code" if level == "practice" else "icb_code"
    parents = (directory(source)
               .select(pl.col(column).fill_null("unknown").alias(key_col),
                       pl.col(parent).fill_null("unknown").alias(PARENT))
               .unique(key_col, keep="first"))
    return rows.join(parents, on=key_col, how="left", maintain_order="left"), [PARENT]


def stack(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate exact and controlled rows: a column that is text anywhere is text."""
    frames = [f for f in frames if f.height or f.width]
    if not frames:
        return pl.DataFrame()
    text = {c for f in frames for c, t in f.schema.items() if t == pl.Utf8}
    cast = [f.with_columns(pl.col(c).cast(pl.Utf8) for c in f.columns if c in text)
            for f in frames]
    return pl.concat(cast, how="diagonal_relaxed")


def index_table(source: ResultSource, level: str, key: str, rule: DisclosureRule,
                codes: Sequence[str] | None = None) -> pl.DataFrame:
    """One level's groups with one index, its n and interval, under `rule`."""
    rows, partition = with_partition(source, groups(source, level, codes), level)
    return index_rows(rows, key, rule, partition)


def index_rows(rows: pl.DataFrame, key: str, rule: DisclosureRule,
               partition: Sequence[str] | None = None) -> pl.DataFrame:
    """group_indices rows cut to one index, its n, its interval and the practices a group
    rests on, under `rule`."""
    extra = [c for c in ("practices", PARENT) if c in rows.columns]
    frame = with_interval(rows, key).select("group_code", "subgroup", *index_columns(key),
                                            *extra)
    return disclose(frame, rule, partition)


def directory(source: ResultSource) -> pl.DataFrame:
    """Practice directory with its deprivation quintile (for labels and selections)."""
    return practices(source).with_columns(
        practice_imd_quintile=pl.when(pl.col("imd_decile").is_not_null())
        .then((pl.col("imd_decile") / 2).ceil().cast(pl.Int32).cast(pl.Utf8)))


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


def _index_name(key: str) -> str:
    from metrics.methods import index

    return index(key).name


def _label_quintile(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(QUINTILE_LABELS, default=pl.col(col)).alias("label")


# ---- overview -------------------------------------------------------------------------------


def overview_summary(source: ResultSource, rule: DisclosureRule) -> Table:
    """Headline figures for the whole dataset: SLICC, mean UPC and COC with n and intervals."""
    frame = groups(source, "all")
    for key in ("slicc", "upc", "coc"):
        frame = with_interval(frame, key)
    cols = [*index_columns("slicc"), *index_columns("upc"), *index_columns("coc")]
    frame = disclose(frame.select(*dict.fromkeys(cols), "practices"), rule)
    return Table("overview_summary", "Whole dataset: headline figures", frame,
                 "all practices in the data", rule)


def comparison(source: ResultSource, level: str, key: str, rule: DisclosureRule,
               codes: Sequence[str] | None = None, *, table_key: str | None = None,
               title: str | None = None) -> Table:
    """Groups of one level side by side, each with its n and interval (never ranked)."""
    frame = index_table(source, level, key, rule, codes)
    names = {"pcn": pcn_names(source).rename({"pcn_code": "group_code", "pcn_name": "name"}),
             "practice": practices(source).select(
                 pl.col("practice_code").alias("group_code"),
                 pl.col("practice_name").alias("name"), "pcn_code", "list_size")}
    if level in names:
        frame = frame.join(names[level], on="group_code", how="left", maintain_order="left")
        frame = frame.with_columns(label=pl.concat_str(
            pl.col("group_code"), pl.lit(" "), pl.col("name").fill_null(""))
            .str.strip_chars())
    elif level.endswith("imd_quintile"):
        frame = frame.with_columns(_label_quintile("group_code"))
    elif level == "all":
        frame = frame.with_columns(label=pl.lit("All practices"))
    else:
        frame = frame.with_columns(label=pl.col("group_code"))
    frame = frame.drop("subgroup").rename({"group_code": LEVEL_LABELS.get(level, level)})
    first = ["label", LEVEL_LABELS.get(level, level)]
    frame = frame.select(*first, *[c for c in frame.columns if c not in first])
    return Table(table_key or f"{level}_{key}", title or f"{level}: {key}", frame,
                 f"{level} level", rule)


def monthly_slicc(source: ResultSource, level: str, rule: DisclosureRule,
                  codes: Sequence[str] | None = None, *, table_key: str | None = None,
                  title: str | None = None, subgroup: str | None = None) -> Table:
    """Monthly SLICC per group with Wilson limits; a month without contacts stays blank."""
    from metrics.stats import with_wilson

    frame = with_wilson(slicc_monthly(source, level, codes, subgroup), "slicc_numerator",
                        "slicc_denominator", "slicc")
    key_col = frame.columns[0]
    if level.endswith("imd_quintile"):
        frame = frame.with_columns(_label_quintile(key_col))
    elif level == "all":
        frame = frame.with_columns(label=pl.lit("All practices"))
    elif level == "gp_list":
        frame = frame.with_columns(label=pl.col("usual_gp_id"))
    else:
        frame = frame.with_columns(label=pl.col(key_col))
    # each month's groups are the members of that month's total
    frame = disclose_level(source, frame, level, rule, also=["month"])
    frame = frame.select("label", pl.exclude("label"))
    return Table(table_key or f"{level}_slicc_monthly", title or f"{level}: monthly SLICC",
                 frame, f"{level} x month", rule)


def overview_tables(source: ResultSource, sel: Selection, rule: DisclosureRule
                    ) -> dict[str, Table]:
    from metrics.methods import index

    d = index(sel.index)
    return {
        "summary": overview_summary(source, rule),
        "all": comparison(source, "all", sel.index, rule, table_key=f"all_{sel.index}",
                          title=f"All practices: {d.name}"),
        "pcns": comparison(source, "pcn", sel.index, rule, table_key=f"pcns_{sel.index}",
                           title=f"All PCNs: {d.name} with 95% intervals"),
        "trend": monthly_slicc(source, "all", rule, table_key="all_slicc_monthly",
                               title="Whole dataset: monthly SLICC"),
        # PCNs differ in size: the page leads with their funnel, not a ranking
        "pcn_funnel": funnel_table(funnel_units(source, sel.index, rule, unit="pcn"),
                                   sel.index, label_col="pcn_code"),
    }


# ---- my practice ----------------------------------------------------------------------------


def practice_profile(source: ResultSource, practice: str) -> dict[str, object] | None:
    rows = directory(source).filter(pl.col("practice_code") == practice)
    return rows.row(0, named=True) if rows.height else None


def practice_peers(source: ResultSource, practice: str, key: str, viewer: Viewer) -> Table:
    """The practice against its PCN, its ICB and all practices in the data."""
    profile = practice_profile(source, practice) or {}
    own = viewer.rule_for(practice)
    shared = viewer.shared_rule
    units = [("practice", practice, f"Practice {practice}", own)]
    for level, code, label in (("pcn", profile.get("pcn_code"), "PCN"),
                               ("icb", profile.get("icb_code"), "ICB"),
                               ("all", "all", None)):
        if code is not None:
            name = "All practices" if label is None else f"{label} {code}"
            units.append((level, code, name, shared))
    # one query for the four rows (the page asks for them once per index it shows)
    rows = group_rows(source, [(level, code) for level, code, _, _ in units])
    parts = [index_rows(rows.filter((pl.col("level") == level) & (pl.col("group_code") == code)),
                        key, rule).with_columns(unit=pl.lit(name), level=pl.lit(level))
             for level, code, name, rule in units]
    frame = stack(parts)
    frame = frame.select("unit", "level", *[c for c in frame.columns
                                            if c not in ("unit", "level", "subgroup")])
    return Table(f"practice_{practice}_peers_{key}",
                 f"{practice} against its PCN, ICB and all practices: {_index_name(key)}",
                 frame, f"practice {practice} with its PCN, ICB and all practices", shared,
                 own_rows=_own_text(practice, own))


def _own_text(practice: str, rule: DisclosureRule) -> str | None:
    if rule.name != "none":
        return None
    return f"rows of practice {practice}: exact numbers (the practice's own view)"


def practice_monthly(source: ResultSource, practice: str, viewer: Viewer) -> Table:
    rule = viewer.rule_for(practice)
    table = monthly_slicc(source, "practice", rule, [practice],
                          table_key=f"practice_{practice}_slicc_monthly",
                          title=f"{practice}: monthly SLICC")
    return Table(table.key, table.title, table.frame, f"practice {practice} x month",
                 viewer.shared_rule, own_rows=_own_text(practice, rule))


DECILE_PEERS = ("all", "icb")


def practice_deciles(source: ResultSource, practice: str, viewer: Viewer,
                     peers: str = "all") -> Table:
    """Monthly SLICC deciles of all practices, or of the practice's ICB (from controlled
    values), with the practice's own value and percentile (OpenPrescribing style)."""
    from metrics.stats import decile_bands, percentile_ranks

    if peers not in DECILE_PEERS:
        raise ValueError(f"unknown decile peers {peers!r}")
    shared = to_numeric(monthly_slicc(source, "practice", viewer.shared_rule).frame)
    icb = (practice_profile(source, practice) or {}).get("icb_code")
    where = "all practices"
    if peers == "icb" and icb is not None:
        members = directory(source).filter(pl.col("icb_code") == icb)["practice_code"]
        shared = shared.filter(pl.col("practice_code").is_in(members.to_list()))
        where = f"the practices of ICB {icb}"
    # deciles (and a rank) over fewer practices than a group figure needs are not shown
    few = pl.col("units") < viewer.shared_rule.min_practices
    bands = decile_bands(shared, "month", "slicc", unit_col="practice_code")
    bands = bands.with_columns(pl.when(few).then(None).otherwise(pl.col(c)).alias(c)
                               for c in bands.columns if c not in ("month", "units"))
    ranked = percentile_ranks(shared, "month", "practice_code", "slicc")
    pct = (ranked.filter(pl.col("practice_code") == practice)
           .join(bands.select("month", "units"), on="month", how="left")
           .select("month", pl.when(few).then(None).otherwise(pl.col("percentile"))
                   .alias("percentile")))
    own = practice_monthly(source, practice, viewer).frame.select(
        "month", pl.col("slicc").alias("practice_slicc"),
        pl.col("slicc_numerator").alias("practice_slicc_numerator"),
        pl.col("slicc_denominator").alias("practice_slicc_denominator"))
    frame = (bands.rename({"units": "practices"})
             .join(own, on="month", how="left").join(pct, on="month", how="left")
             .sort("month"))
    return Table(f"practice_{practice}_slicc_deciles{'_icb' if where != 'all practices' else ''}",
                 f"{practice}: monthly SLICC over the deciles of {where}", frame,
                 f"{where} x month (deciles) and the selected practice",
                 viewer.shared_rule, own_rows=_own_text(practice, viewer.rule_for(practice)))


# ---- statistical process control and rolling UPC -----------------------------------------

SPC_SERIES = ("practice", "gp_list", "pcn")
SPC_TARGETS = ("none", "good", "excellent")
ROLLING_MONTHS = 12  # rolling UPC: each point covers the 12 months ending with it


@dataclass(frozen=True)
class PracticeOptions:
    """The My practice page's own choices (bound to the URL, so the Export page sees them)."""

    series: str = "practice"  # whose monthly series the SPC charts show: SPC_SERIES
    gp_list: str | None = None  # the named GP, when series == "gp_list"
    target: str = "none"  # SLICC target: SPC_TARGETS (stats.SLICC_TARGETS)
    rebase: date | None = None  # first month of a new SPC segment
    peers: str = "all"  # decile chart over all practices or the practice's ICB


def spc_table(series: Table, value_col: str, *, target: float | None = None,
              rebase_at: Sequence[date] = (), leave_out: str | None = None) -> Table:
    """The series as shown with its XmR centre, limits, special-cause type and reason.

    `leave_out` names a boolean column of months kept on the chart but out of the limits and
    rules (a rolling window short of history reads high)."""
    from metrics.stats import xmr

    numeric = series.numeric().select("month", value_col, *([leave_out] if leave_out else []))
    if leave_out:
        numeric = numeric.select(
            "month", pl.when(pl.col(leave_out).fill_null(False)).then(None)
            .otherwise(pl.col(value_col)).alias(value_col))
    result = xmr(numeric, "month", value_col, target=target, rebase_at=rebase_at)
    stats = result.points.select(
        "month", pl.col("centre").alias(f"{value_col}_centre"),
        pl.col("lower").alias(f"{value_col}_lower_limit"),
        pl.col("upper").alias(f"{value_col}_upper_limit"),
        pl.col("special").alias("special_cause"), pl.col("type").alias("variation"),
        pl.col("reason"))
    frame = series.frame.join(stats, on="month", how="left", maintain_order="left")
    what = f"; target {target:.0%}" if target is not None else ""
    rebased = ("; rebased at " + ", ".join(f"{d:%b %Y}" for d in rebase_at)) if rebase_at else ""
    key = (f"{series.key}_spc" + (f"_target{target * 100:.0f}" if target is not None else "")
           + "".join(f"_rebased{d:%Y-%m}" for d in rebase_at))
    return Table(key, f"{series.title}: XmR chart{what}{rebased}", frame,
                 series.scope, series.rule, own_rows=series.own_rows, internal=series.internal,
                 result=result)


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


def rolling_upc_table(source: ResultSource, level: str, code: str, rule: DisclosureRule, *,
                      subgroup: str | None = None, key: str, title: str, scope: str,
                      own_rows: str | None = None, internal: bool = False) -> Table | None:
    """One group's rolling 12-month mean UPC by month with t intervals, under `rule`."""
    from metrics.stats import with_mean_ci

    frame = rolling_upc(source, level, [code], subgroup)
    if frame is None:
        return None
    frame = with_mean_ci(frame, "upc_mean", "upc_sd", "eligible_patients", "upc")
    short = ([(pl.col("history_months") < ROLLING_MONTHS).alias("short_history")]
             if "history_months" in frame.columns else [])
    # a named-GP list carries its clinician column, as monthly SLICC does, so that every file
    # leaving the dashboard finds the clinician to pseudonymise (label, header and file name)
    staff = ([pl.col("subgroup").alias("usual_gp_id")] if level == "gp_list" else [])
    frame = frame.select(
        pl.lit(subgroup or code).alias("label"), *staff, pl.col("month_start").alias("month"),
        "upc_mean", "upc_sd", "eligible_patients", "upc_lci", "upc_uci",
        *[c for c in ("upc_pooled", "upc_pooled_numerator", "upc_pooled_denominator")
          if c in frame.columns], *short,
        *(["practices"] if level in MULTI_PRACTICE_LEVELS else []))
    return Table(key, title, disclose(frame, rule), scope, rule, own_rows=own_rows,
                 internal=internal)


def practice_series(source: ResultSource, practice: str, viewer: Viewer,
                    options: PracticeOptions) -> tuple[Table, Table | None]:
    """Monthly SLICC and rolling UPC of the chosen unit: the practice, one of its named-GP
    lists (own view only) or its PCN."""
    profile = practice_profile(source, practice) or {}
    series = options.series
    if series == "gp_list" and not (options.gp_list and viewer.shows_gp_lists(practice)):
        series = "practice"
    if series == "pcn" and profile.get("pcn_code") is None:
        series = "practice"
    own = viewer.rule_for(practice)
    if series == "gp_list":
        gp = options.gp_list
        slicc = monthly_slicc(source, "gp_list", NO_CONTROL, [practice], subgroup=gp,
                              table_key=f"practice_{practice}_list_{gp}_slicc_monthly",
                              title=f"{practice}: monthly SLICC of {gp}'s list")
        slicc = Table(slicc.key, slicc.title, slicc.frame,
                      f"practice {practice}, named-GP list {gp} (internal use only) x month",
                      NO_CONTROL, own_rows=f"practice {practice}: exact numbers (the "
                      "practice's own view)", internal=True)
        upc = rolling_upc_table(
            source, "gp_list", practice, NO_CONTROL, subgroup=gp,
            key=f"practice_{practice}_list_{gp}_rolling_upc",
            title=f"{practice}: rolling 12-month UPC of {gp}'s list",
            scope=f"practice {practice}, named-GP list {gp} (internal use only) x month",
            own_rows=slicc.own_rows, internal=True)
        return slicc, upc
    if series == "pcn":
        pcn = str(profile["pcn_code"])
        slicc = monthly_slicc(source, "pcn", viewer.shared_rule, [pcn],
                              table_key=f"pcn_{pcn}_slicc_monthly",
                              title=f"PCN {pcn}: monthly SLICC")
        upc = rolling_upc_table(source, "pcn", pcn, viewer.shared_rule,
                                key=f"pcn_{pcn}_rolling_upc",
                                title=f"PCN {pcn}: rolling 12-month UPC",
                                scope=f"PCN {pcn} x month")
        return slicc, upc
    upc = rolling_upc_table(source, "practice", practice, own,
                            key=f"practice_{practice}_rolling_upc",
                            title=f"{practice}: rolling 12-month UPC",
                            scope=f"practice {practice} x month", own_rows=_own_text(practice, own))
    return practice_monthly(source, practice, viewer), upc


def practice_spc(source: ResultSource, practice: str, viewer: Viewer,
                 options: PracticeOptions) -> dict[str, Table]:
    """XmR tables of monthly SLICC (with the chosen target) and of rolling UPC."""
    from metrics.stats import SLICC_TARGETS

    if options.target not in SPC_TARGETS:
        raise ValueError(f"unknown SLICC target {options.target!r}")
    target = SLICC_TARGETS.get(options.target)
    rebase = (options.rebase,) if options.rebase is not None else ()
    slicc, upc = practice_series(source, practice, viewer, options)
    out = {"spc": spc_table(slicc, "slicc", target=target, rebase_at=rebase)}
    if upc is not None:  # months short of 12 months' history are drawn but not judged
        out["rolling_upc_spc"] = spc_table(
            upc, "upc_mean", rebase_at=rebase,
            leave_out="short_history" if "short_history" in upc.frame.columns else None)
    return out


def gp_list_ids(source: ResultSource, practice: str) -> list[str]:
    """The named GPs holding a list at the practice (for choosing one list's series)."""
    return groups(source, "gp_list", [practice])["subgroup"].to_list()


def gp_lists(source: ResultSource, practice: str, viewer: Viewer) -> Table | None:
    """Per named-GP list figures: only in the practice's own view (None otherwise)."""
    if not viewer.shows_gp_lists(practice):
        return None
    frame = groups(source, "gp_list", [practice])
    for key in ("slicc", "opr", "upc"):
        frame = with_interval(frame, key)
    frame = frame.select(
        pl.col("subgroup").alias("named_gp"), "list_patients",
        *index_columns("slicc"), *index_columns("opr"),
        "upc_mean", "upc_sd", "eligible_patients", "upc_lci", "upc_uci")
    return Table(f"practice_{practice}_gp_lists", f"{practice}: named-GP lists", frame,
                 f"practice {practice}, per named-GP list (internal use only)", NO_CONTROL,
                 own_rows=f"practice {practice}: exact numbers (the practice's own view)",
                 internal=True)


def practice_groups(source: ResultSource, practice: str, breakdown: str, key: str,
                    viewer: Viewer) -> Table:
    """The practice's patients by age band, contacts band or patient deprivation band."""
    level, column = PRACTICE_GROUPS[breakdown]
    rule = viewer.rule_for(practice)
    frame = index_table(source, level, key, rule, [practice])
    order = {"age_band": [*AGE_BANDS, "unknown"], "contacts_band": list(CONTACTS_BANDS),
             "patient_imd_quintile": [*QUINTILE_LABELS]}[breakdown]
    frame = frame.with_columns(
        pl.col("subgroup").replace_strict({v: i for i, v in enumerate(order)},
                                          default=len(order)).alias("__order"))
    frame = frame.sort("__order", "subgroup").drop("__order")
    label = pl.col("subgroup")
    if breakdown == "patient_imd_quintile":
        label = label.replace_strict(QUINTILE_LABELS, default=label)
    elif breakdown == "contacts_band":
        label = pl.when(label == FREQUENT_ATTENDERS).then(
            pl.lit("12+ (frequent attenders)")).otherwise(label)
    frame = frame.select(label.alias("label"), pl.col("subgroup").alias(column),
                         *index_columns(key))
    return Table(f"practice_{practice}_{breakdown}_{key}",
                 f"{practice}: {_index_name(key)} by {BREAKDOWN_NAMES[breakdown]}", frame,
                 f"practice {practice} by {breakdown}", viewer.shared_rule,
                 own_rows=_own_text(practice, rule))


def _mix_counts(source: ResultSource, practices_: Sequence[str] | None, by: str
                ) -> pl.DataFrame:
    mix = appointment_mix(source, practices_)
    category = (pl.col("clinician_role").replace_strict(ROLE_GROUPS, default="Admin or unknown")
                if by == "role" else
                pl.col("mode").replace_strict(MODE_LABELS, default="Unknown mode"))
    return (mix.group_by(category.alias("category"))
            .agg(pl.col("appointments").sum().alias("numerator")))


def practice_mix(source: ResultSource, practice: str, by: str, viewer: Viewer) -> Table:
    """Who patients saw (by role group) or how (by mode): shares of attended appointments
    for the practice, its PCN and all practices, with counts."""
    profile = practice_profile(source, practice) or {}
    members = directory(source)
    pcn = profile.get("pcn_code")
    behind = group_practices(source)
    units = [(f"Practice {practice}", [practice], viewer.rule_for(practice), None)]
    if pcn is not None:
        codes = members.filter(pl.col("pcn_code") == pcn)["practice_code"].to_list()
        units.append((f"PCN {pcn}", codes, viewer.shared_rule, ("pcn", pcn)))
    units.append(("All practices", None, viewer.shared_rule, ("all", "all")))
    order = ROLE_GROUP_ORDER if by == "role" else tuple(MODE_LABELS.values())
    parts = []
    for unit, codes, rule, group in units:
        counts = _mix_counts(source, codes, by)
        grid = pl.DataFrame({"category": list(order)}).join(counts, on="category", how="left")
        frame = grid.with_columns(pl.col("numerator").fill_null(0).cast(pl.Int64))
        frame = frame.with_columns(denominator=pl.col("numerator").sum())
        frame = frame.with_columns(
            share=pl.when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator")))
        frame = frame.select(pl.lit(unit).alias("unit"), "category", "numerator",
                             "denominator", "share")
        if group is not None:
            found = behind.filter((pl.col("level") == group[0])
                                  & (pl.col("group_code") == group[1]))["practices"]
            frame = frame.with_columns(practices=pl.lit(found[0] if found.len() else 0))
        parts.append(disclose(frame, rule, partition=[]))  # the categories make the total
    what = "clinician role group" if by == "role" else "mode"
    return Table(f"practice_{practice}_mix_{by}",
                 f"{practice}: attended appointments by {what}", stack(parts),
                 f"practice {practice}, its PCN and all practices; attended appointments of "
                 f"every role and mode in the window, by {what}", viewer.shared_rule,
                 own_rows=_own_text(practice, viewer.rule_for(practice)))


def practice_gp_share(source: ResultSource, practice: str, viewer: Viewer) -> Table:
    """Monthly share of attended appointments that were with a GP (any GP role)."""
    rule = viewer.rule_for(practice)
    mix = appointment_mix(source, [practice])
    gp = pl.col("clinician_role").is_in(["gp", "gp_registrar", "locum_gp"])
    # the database sums to DECIMAL(38,0), whose quotient keeps no decimals: integers here
    appointments = pl.col("appointments").cast(pl.Int64)
    frame = (mix.group_by(pl.col("month_start").alias("month"))
             .agg(appointments.filter(gp).sum().alias("numerator"),
                  appointments.sum().alias("denominator"))
             .sort("month"))
    frame = frame.with_columns(
        share=pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator")))
    return Table(f"practice_{practice}_gp_share_monthly",
                 f"{practice}: share of attended appointments with a GP, by month",
                 disclose(frame, rule), f"practice {practice} x month", viewer.shared_rule,
                 own_rows=_own_text(practice, rule))


def practice_tables(source: ResultSource, sel: Selection, viewer: Viewer,
                    options: PracticeOptions = PracticeOptions()) -> dict[str, Table]:
    """Everything the My practice page shows (empty when no practice is selected)."""
    practice = sel.practice
    if practice is None or practice_profile(source, practice) is None:
        return {}
    out = {
        "peers": practice_peers(source, practice, sel.index, viewer),
        "monthly": practice_monthly(source, practice, viewer),
        **practice_spc(source, practice, viewer, options),
        "deciles": practice_deciles(source, practice, viewer, options.peers),
        "window": practice_peers(source, practice, "upc", viewer),
        "window_coc": practice_peers(source, practice, "coc", viewer),
        "window_slicc": practice_peers(source, practice, "slicc", viewer),
    }
    lists = gp_lists(source, practice, viewer)
    if lists is not None:
        out["gp_lists"] = lists
    for breakdown in PRACTICE_GROUPS:
        out[breakdown] = practice_groups(source, practice, breakdown, sel.index, viewer)
    out["mix_role"] = practice_mix(source, practice, "role", viewer)
    out["mix_mode"] = practice_mix(source, practice, "mode", viewer)
    out["gp_share"] = practice_gp_share(source, practice, viewer)
    return out


# ---- networks and deprivation ---------------------------------------------------------------

FUNNEL_SCOPES = ("all", "icb", "pcn")


def funnel_units(source: ResultSource, key: str, rule: DisclosureRule, *, unit: str = "practice",
                 scope: str = "all", code: str | None = None) -> Table:
    """Practices (or PCNs) for a funnel plot and the list-size scatter: controlled values,
    their n and intervals, list size and PCN. Scope: everything, one ICB or one PCN."""
    if unit not in ("practice", "pcn") or scope not in FUNNEL_SCOPES:
        raise ValueError(f"unknown funnel unit {unit!r} or scope {scope!r}")
    members = directory(source)
    if scope != "all" and code is not None:
        members = members.filter(pl.col(f"{scope}_code") == code)
    if unit == "practice":
        codes = members["practice_code"].to_list()
    else:
        codes = members["pcn_code"].drop_nulls().unique().sort().to_list()
    table = comparison(source, unit, key, rule, codes)
    if unit == "pcn":
        sizes = (members.group_by("pcn_code").agg(pl.col("list_size").sum())
                 .rename({"pcn_code": "pcn_code_"}))
        frame = table.frame.join(sizes, left_on="pcn_code", right_on="pcn_code_", how="left")
    else:
        frame = table.frame.join(members.select("practice_code", "personal_lists",
                                                "practice_imd_quintile"),
                                 on="practice_code", how="left", maintain_order="left")
    plural = "PCNs" if unit == "pcn" else "Practices"
    where = ("in the data" if scope == "all" or code is None
             else f"in {scope.upper()} {code}")
    return Table(f"{unit}s_in_{scope}{'_' + code if code and scope != 'all' else ''}_{key}",
                 f"{plural} {where}", frame,
                 f"{unit} level, {plural.lower()} {where}", rule)


@dataclass(frozen=True)
class NetworkOptions:
    """The Networks page's funnel choices (bound to the URL, so the Export page sees them)."""

    unit: str = "practice"  # funnel units: "practice" or "pcn"
    scope: str = "all"  # FUNNEL_SCOPES: everything, one ICB or one PCN
    code: str | None = None  # the ICB or PCN of the scope (default: the selection's)
    overdispersion: bool = True  # widen the limits by the random-effects tau^2


FUNNEL_LIMITS = ("lower95", "upper95", "lower998", "upper998")


def funnel_table(units: Table, key: str, *, overdispersion: bool = True,
                 label_col: str = "practice_code") -> Table:
    """The units as shown with their funnel z-score, limits at their own n and flags
    (Spiegelhalter 2005; target = the overall value of the units shown)."""
    from metrics.methods import index
    from metrics.stats import funnel_means, funnel_proportions

    d = index(key)
    frame = units.numeric()
    n_col = d.denominator_col
    usable = frame.filter(pl.col(d.value_col).is_not_null() & (pl.col(n_col) > 0))
    title = units.title
    what = title[:1].lower() + title[1:] if title[1:2].islower() else title  # keep "PCNs"
    if usable.height < 2:
        return Table(f"{units.key}_funnel", f"{d.name} funnel plot: {what}", units.frame,
                     units.scope,
                     units.rule, own_rows=units.own_rows)
    if d.kind == "ratio":
        result = funnel_proportions(usable, f"{d.key}_numerator", n_col,
                                    overdispersion=overdispersion)
    else:
        result = funnel_means(usable, d.value_col, f"{d.key}_sd", n_col, bounds=(0.0, 1.0),
                              overdispersion=overdispersion)
    stats = result.units.select(
        label_col, pl.lit(result.target).alias(f"{d.key}_target"),
        pl.col("z_adj").alias("z_score"),
        *[pl.col(c).alias(f"{d.key}_{c}") for c in FUNNEL_LIMITS],
        pl.col("flag95").alias("outside_95"), pl.col("flag998").alias("outside_99_8"))
    shown = units.frame.join(stats, on=label_col, how="left", maintain_order="left")
    limits = "limits widened for over-dispersion" if overdispersion else "unadjusted limits"
    return Table(f"{units.key}_funnel", f"{d.name} funnel plot: {what} ({limits})", shown,
                 units.scope, units.rule, own_rows=units.own_rows, result=result)


def scope_code(source: ResultSource, sel: Selection, scope: str,
               code: str | None = None) -> str | None:
    """The ICB or PCN a funnel is drawn within: the one asked for, else the selection's
    (the sidebar PCN, or the practice's), else the first in the data."""
    if scope == "all":
        return None
    column = f"{scope}_code"
    known = directory(source)[column].drop_nulls().unique().sort().to_list()
    if code in known:
        return code
    if scope == "pcn" and sel.pcn in known:
        return sel.pcn
    if sel.practice is not None:
        own = (practice_profile(source, sel.practice) or {}).get(column)
        if own is not None:
            return str(own)
    return known[0] if known else None


def network_tables(source: ResultSource, sel: Selection, rule: DisclosureRule,
                   options: NetworkOptions = NetworkOptions()) -> dict[str, Table]:
    """The Networks page: the funnel first, then PCNs side by side, the practices of one PCN
    and every practice (for continuity against list size)."""
    if options.unit not in ("practice", "pcn") or options.scope not in FUNNEL_SCOPES:
        raise ValueError(f"unknown funnel unit {options.unit!r} or scope {options.scope!r}")
    pcn = scope_code(source, sel, "pcn") if (sel.pcn or sel.practice) else None
    code = scope_code(source, sel, options.scope, options.code)
    units = funnel_units(source, sel.index, rule, unit=options.unit, scope=options.scope,
                         code=code)
    label_col = "practice_code" if options.unit == "practice" else "pcn_code"
    out = {
        "funnel": funnel_table(units, sel.index, overdispersion=options.overdispersion,
                               label_col=label_col),
        "pcns": comparison(source, "pcn", sel.index, rule, table_key=f"pcns_{sel.index}",
                           title="All PCNs side by side"),
        "practices": funnel_units(source, sel.index, rule),
    }
    if pcn is not None:
        out["pcn_practices"] = funnel_units(source, sel.index, rule, scope="pcn", code=pcn)
        monthly = monthly_slicc(source, "pcn", rule, [pcn], table_key=f"pcn_{pcn}_slicc_monthly",
                                title=f"PCN {pcn}: monthly SLICC")
        out["pcn_spc"] = spc_table(monthly, "slicc")
    return out


def deprivation_tables(source: ResultSource, sel: Selection, rule: DisclosureRule
                       ) -> dict[str, Table]:
    """Continuity by the practice's and by the patient's deprivation quintile (Q1 first),
    with the number of practices in each practice band."""
    band = comparison(source, "practice_imd_quintile", sel.index, rule,
                      table_key=f"practice_imd_quintile_{sel.index}",
                      title="By practice deprivation quintile")
    frame = band.frame.sort("practice_imd_quintile")
    frame = frame.select("label", "practice_imd_quintile", "practices",
                         pl.exclude("label", "practice_imd_quintile", "practices"))
    patient = comparison(source, "patient_imd_quintile", sel.index, rule,
                         table_key=f"patient_imd_quintile_{sel.index}",
                         title="By patient deprivation quintile")
    return {
        "practice_band": Table(band.key, band.title, frame, band.scope, band.rule),
        "patient_band": Table(patient.key, patient.title,
                              patient.frame.sort("patient_imd_quintile"), patient.scope,
                              patient.rule),
        "practice_band_monthly": monthly_slicc(
            source, "practice_imd_quintile", rule,
            table_key="practice_imd_quintile_slicc_monthly",
            title="Monthly SLICC by practice deprivation quintile"),
    }


# ---- export ---------------------------------------------------------------------------------


def export_about(table: Table, params: Params, sel: Selection) -> list[tuple[str, str]]:
    """The header block of an exported table: scope, filters, definitions, disclosure rule."""
    from metrics.export import about_lines

    lines = about_lines(params, table.rule, table.scope)
    lines.insert(1, ("table", table.title))
    lines[2:2] = [(f"filter: {k}", v) for k, v in sel.describe()]
    if table.own_rows:
        lines.append(("exact rows", table.own_rows))
    if table.internal:
        lines.append(("named staff", "per-GP figures: for the practice's internal use only"))
    return lines


def export_csv(table: Table, params: Params, sel: Selection) -> bytes:
    """CSV of a table exactly as shown, with its '# key: value' header block."""
    from metrics.export import csv_bytes

    return csv_bytes(*_leaving(table, params, sel))


def export_xlsx(table: Table, params: Params, sel: Selection) -> bytes:
    from metrics.export import xlsx_bytes

    return xlsx_bytes(*_leaving(table, params, sel))


def _leaving(table: Table, params: Params, sel: Selection
             ) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """What leaves the dashboard: clinician names become stable pseudonyms (metrics.pseudonym);
    the screen (the practice's own view) keeps them."""
    from metrics import pseudonym

    about = export_about(table, params, sel)
    codes = _staff_codes(table)
    if not codes:
        return table.frame, about
    return (pseudonym.pseudonymise(table.frame, pseudonym.installation_salt(), codes),
            [(k, pseudonym.scrub(v, codes)) for k, v in about]
            + [("pseudonyms", pseudonym.NOTE)])


def _staff_codes(table: Table) -> dict[str, str]:
    """Name -> pseudonym for the clinicians a table names (none: nothing to replace)."""
    from metrics import pseudonym

    if not pseudonym.has_clinicians(table.frame):
        return {}
    return pseudonym.codes_for(table.frame, pseudonym.installation_salt())


def export_name(table: Table, suffix: str) -> str:
    """A download's file name: the table key, with any clinician name pseudonymised and any
    code from the data made safe as a name (metrics.export.safe_file_name)."""
    from metrics import pseudonym
    from metrics.export import safe_file_name

    return safe_file_name(pseudonym.scrub(f"{table.key}.{suffix}", _staff_codes(table)))


def shareable(tables: Sequence[Table], include_internal: bool = False) -> list[Table]:
    """Tables that may be exported: per-GP tables only when deliberately switched on."""
    return [t for t in tables if include_internal or not t.internal]


# ---- display ----------------------------------------------------------------------------------

PERCENT_STEMS = ("slicc", "opr", "upc_pooled")


def column_kind(name: str) -> str | None:
    """How a result column is read: 'percent', 'mean', 'count', 'percentile' or None (text)."""
    if name == "percentile":
        return "percentile"
    if name in (*PERCENT_STEMS, "share", "named_gp_coverage", "practice_slicc") or (
            name[:1] == "p" and name[1:].isdigit()):
        return "percent"
    for suffix in ("_lci", "_uci", "_target", "_centre", "_lower_limit", "_upper_limit",
                   *(f"_{c}" for c in FUNNEL_LIMITS)):
        if name.endswith(suffix):
            return "percent" if name[:-len(suffix)] in PERCENT_STEMS else "mean"
    if name == "z_score":
        return "z"
    if name.endswith(("_mean", "_sd")):
        return "mean"
    if _is_figure(name) or name in ("practices", "units", "list_patients"):
        return "count"
    return None


def _format(value: str | None, kind: str) -> str | None:
    if value is None or value == "*":
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return {"percent": f"{number:.1%}", "mean": f"{number:.3f}", "count": f"{number:,.0f}",
            "percentile": f"{number:.0f}", "z": f"{number:.2f}"}[kind]


def display_frame(df: pl.DataFrame) -> pl.DataFrame:
    """A table for the screen: controlled text columns become numbers again where nothing in
    them is suppressed (so they sort and format as numbers); where a '*' stands, the numbers
    beside it are formatted as text (51.7%, 0.612, 1,235)."""
    out = []
    for name, dtype in df.schema.items():
        kind = column_kind(name)
        if dtype != pl.Utf8 or kind is None:
            continue
        if not (df[name] == "*").any():
            out.append(pl.col(name).cast(pl.Float64, strict=False))
        else:  # in Python, not map_elements: a Python UDF on polars' thread pool deadlocks
            # against another session's to_pandas (st.dataframe) and hangs the whole server
            out.append(pl.Series(name, [_format(v, kind) for v in df[name].to_list()],
                                 dtype=pl.Utf8))
    return df.with_columns(out) if out else df


# ---- filters -> parameters --------------------------------------------------------------------

WINDOW_LENGTHS = (1, 3, 6, 12, 24, 36)


def window_params(end_month: str, months: int, *, staff_group: str, modes: Sequence[str],
                  min_contacts: int, collapse_same_day: bool = True) -> Params:
    """Params for a window of `months` calendar months ending with `end_month` ('2026-10')."""
    from datetime import date

    from dateutil.relativedelta import relativedelta

    year, month = (int(part) for part in end_month.split("-"))
    first_of_end = date(year, month, 1)
    end = first_of_end + relativedelta(months=1) - relativedelta(days=1)
    start = first_of_end - relativedelta(months=months - 1)
    return Params(window_start=start, window_end=end, min_contacts=int(min_contacts),
                  staff_group=staff_group, modes=tuple(modes),
                  collapse_same_day=collapse_same_day)


def months_between(params: Params) -> int:
    return len(engine.months_in(params))


# ---- the store itself (Data page) ---------------------------------------------------------------


def store_report(source: ResultSource) -> pl.DataFrame:
    """The last ingest's counts (table, measure, value); empty if the store has none."""
    try:
        return source.query('SELECT "table", measure, value FROM ingest_report '
                            'ORDER BY "table", measure')
    except duckdb.Error:
        return pl.DataFrame(schema={"table": pl.Utf8, "measure": pl.Utf8, "value": pl.Int64})


def store_rejects(source: ResultSource, limit: int = 1000) -> pl.DataFrame:
    """The last ingest's rejected rows (at most `limit`), with file, line, column and reason."""
    try:
        return source.query('SELECT * FROM ingest_rejects ORDER BY file, line LIMIT ?', [limit])
    except duckdb.Error:
        return pl.DataFrame()


def store_counts(source: ResultSource) -> dict[str, int]:
    """Rows in each canonical table."""
    sql = ("SELECT (SELECT count(*) FROM appointments) AS appointments, "
           "(SELECT count(*) FROM patients) AS patients, "
           "(SELECT count(*) FROM practices) AS practices")
    return source.query(sql).row(0, named=True)


def export_zip(tables: Sequence[Table], params: Params, sel: Selection) -> bytes:
    """Every table as a CSV (each with its header block) in one ZIP archive."""
    import io
    import zipfile

    buffer = io.BytesIO()
    taken: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            name = export_name(table, "csv")
            stem, n = name.removesuffix(".csv"), 1
            while name in taken:  # two keys made alike by safe names: unzipping overwrites
                n += 1
                name = f"{stem}-{n}.csv"
            taken.add(name)
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, export_csv(table, params, sel))
    return buffer.getvalue()
