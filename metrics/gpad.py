"""National context: NHS England "Appointments in General Practice" (GPAD) practice-level files.

Why: a thin practice export (SystmOne or EMIS, GP appointments only) cannot say how much of the
practice's work goes to other staff, how it is delivered or how many appointments are missed.
The monthly publication can, for the practice, its PCN, its sub-ICB and England.

Files: `Practice_Level_Crosstab_<Mon>_<YY>.csv`, and since the publication was split by region,
`Practice_Level_Crosstab_<Region>_<Mon>_<YY>.csv` (several files make one month). One row per
practice x month x HCP_TYPE x APPT_MODE x NATIONAL_CATEGORY x TIME_BETWEEN_BOOK_AND_APPT x
APPT_STATUS with COUNT_OF_APPOINTMENTS; dates like 01DEC2025; booking-lead labels with a double
space (`8  to 14 Days`). Values map onto the canonical vocabularies of docs/extract-schema.md s.7.

No double counting: a file given twice (same bytes) is read once; a practice-month found in two
files (a whole-England file and its region split, or two copies under other names) is kept
once when both hold the same rows and refused when they differ; loading into a store replaces
the practice-months it brings and keeps every other. The store is written as metrics.store does
it: a new file beside the old one, swapped in with os.replace.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from metrics.disclosure import DisclosureRule
from metrics.engine import query_text

if TYPE_CHECKING:  # metrics.read imports the engine and stats: loaded only when used
    from metrics.read.table import Table

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data" / "gpad"
FILE_PATTERN = "Practice_Level_Crosstab_*.csv"

# canonical column -> the publication's header (matched case- and spacing-insensitively)
COLUMNS: dict[str, str] = {
    "month": "APPOINTMENT_MONTH_START_DATE",
    "practice_code": "GP_CODE",
    "practice_name": "GP_NAME",
    "supplier": "SUPPLIER",
    "pcn_code": "PCN_CODE",
    "pcn_name": "PCN_NAME",
    "sub_icb_code": "SUB_ICB_LOCATION_CODE",
    "sub_icb_name": "SUB_ICB_LOCATION_NAME",
    "icb_code": "ICB_CODE",
    "icb_name": "ICB_NAME",
    "region_code": "REGION_CODE",
    "region_name": "REGION_NAME",
    "hcp_type": "HCP_TYPE",
    "mode": "APPT_MODE",
    "national_category": "NATIONAL_CATEGORY",
    "booking_lead": "TIME_BETWEEN_BOOK_AND_APPT",
    "appointments": "COUNT_OF_APPOINTMENTS",
    "status": "APPT_STATUS",
}
REQUIRED = ("month", "practice_code", "hcp_type", "mode", "status", "appointments")
TEXT_COLUMNS = tuple(c for c in COLUMNS if c not in ("month", "appointments"))

# publication value (lower case, single spaces) -> canonical value (docs/extract-schema.md s.7)
HCP_TYPES = {"gp": "gp", "other practice staff": "other_practice_staff", "unknown": "unknown"}
MODES = {"face-to-face": "face_to_face", "telephone": "telephone", "home visit": "home_visit",
         "video conference/online": "video_online", "video/online": "video_online",
         "unknown": "unknown"}
STATUSES = {"attended": "attended", "dna": "did_not_attend", "unknown": "unknown"}
VOCABULARIES = {"hcp_type": HCP_TYPES, "mode": MODES, "status": STATUSES}

SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date, **{c: pl.Utf8 for c in TEXT_COLUMNS}, "appointments": pl.Int64,
    "source_file": pl.Utf8,
}
TABLE = "gpad_appointments"
SOURCES_TABLE = "gpad_sources"
TABLE_SQL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (month DATE, "
             + ", ".join(f"{c} VARCHAR" for c in TEXT_COLUMNS)
             + ", appointments BIGINT, source_file VARCHAR)")
SOURCES_SQL = (f"CREATE TABLE IF NOT EXISTS {SOURCES_TABLE} (file VARCHAR, sha256 VARCHAR, "
               "months VARCHAR, practices BIGINT, rows BIGINT, appointments BIGINT, "
               "loaded_at VARCHAR)")
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAME_MONTH = re.compile(r"_(" + "|".join(MONTH_NAMES) + r")_(\d\d)\.csv$", re.IGNORECASE)
LEVEL_LABELS = {"practice": "Practice", "pcn": "PCN", "sub_icb": "Sub-ICB",
                "england": "England"}


@dataclass(frozen=True)
class PublishedFigures(DisclosureRule):
    """No control (name "none"): NHS England publishes these counts at practice level."""

    def describe(self) -> str:
        return "none needed: NHS England's published figures, shown as published"


PUBLISHED = PublishedFigures("none", suppress_below=1, round_to=1, min_individuals_for_mean=0)


class GpadError(ValueError):
    """A GPAD file cannot be imported as given (one plain-English line)."""


@dataclass
class GpadResult:
    """The rows of one import (canonical columns), one line per source file, and notes."""

    frame: pl.DataFrame
    sources: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{r['file']}: {r['rows']:,} rows, {r['appointments']:,} appointments, "
               f"{r['practices']:,} practices, month {r['months']}"
               for r in self.sources.iter_rows(named=True)]
        return out + self.notes


def _key(text: str) -> str:
    return " ".join(text.split()).lower()


def parse_month(text: str) -> date:
    """`01DEC2025` (the publication's form) or `2025-12-01`: the first day of a month."""
    value = text.strip()
    match = re.fullmatch(r"(\d{2})([A-Za-z]{3})(\d{4})", value)
    try:
        if match:
            day = date(int(match[3]), MONTH_NAMES.index(match[2].upper()) + 1, int(match[1]))
        else:
            day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 01DEC2025") from None
    if day.day != 1:
        raise ValueError(f"{text!r} is not the first day of a month")
    return day


def month_in_name(path: Path) -> date | None:
    """The month a file's name gives (`..._Dec_25.csv` -> 2025-12-01), if any."""
    match = _NAME_MONTH.search(path.name)
    if not match:
        return None
    return date(2000 + int(match[2]), MONTH_NAMES.index(match[1].upper()) + 1, 1)


def read_file(path: Path, notes: list[str] | None = None) -> pl.DataFrame:
    """One practice-level file as canonical rows (every row kept, or a GpadError); a value
    outside the published vocabulary becomes `unknown` and is named in `notes`."""
    path = Path(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GpadError(f"{path.name} cannot be read as CSV ({first})") from None
    headers = {_key(h).replace(" ", "_").upper(): h for h in raw.columns}
    missing = [COLUMNS[c] for c in REQUIRED if COLUMNS[c] not in headers]
    if missing:
        raise GpadError(f"{path.name} is not a GPAD practice-level file: no column "
                        f"{', '.join(missing)}")
    frame = raw.select(
        (pl.col(headers[h]) if h in headers else pl.lit(None, pl.Utf8)).alias(c)
        for c, h in COLUMNS.items())
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in COLUMNS)
    frame = frame.with_columns(pl.col("booking_lead").str.replace_all(r"\s+", " "))
    line = pl.int_range(2, frame.height + 2).alias("line")  # header is line 1
    frame = frame.with_columns(line)
    _check(frame, path)
    for column, vocabulary in VOCABULARIES.items():
        raw_key = pl.col(column).fill_null("").str.replace_all(r"\s+", " ").str.to_lowercase()
        odd = (frame.filter(~raw_key.is_in(list(vocabulary)))
               .group_by(column).agg(pl.col("appointments").cast(pl.Int64).sum()).sort(column))
        for value, count in odd.iter_rows():
            if notes is not None:
                notes.append(f"{path.name}: {COLUMNS[column]} {value!r} is not in the published "
                             f"vocabulary: {count:,} appointments counted as unknown")
    months = {v: parse_month(v) for v in frame["month"].unique().to_list()}
    frame = frame.with_columns(
        pl.col("month").replace_strict(months, return_dtype=pl.Date),
        pl.col("appointments").cast(pl.Int64),
        *[pl.col(c).str.replace_all(r"\s+", " ").str.to_lowercase()
          .replace_strict(v, default="unknown").alias(c) for c, v in VOCABULARIES.items()],
        pl.lit(path.name).alias("source_file"),
    )
    return frame.select(list(SCHEMA))


def _check(frame: pl.DataFrame, path: Path) -> None:
    """Every row needs a month, a practice code and a whole count of appointments."""
    for column in ("month", "practice_code"):
        blank = frame.filter(pl.col(column).fill_null("") == "")
        if blank.height:
            raise GpadError(f"{path.name} line {blank['line'][0]}: {COLUMNS[column]} is blank")
    bad = frame.filter(~pl.col("appointments").fill_null("").str.contains(r"^\d+$"))
    if bad.height:
        raise GpadError(f"{path.name} line {bad['line'][0]}: COUNT_OF_APPOINTMENTS "
                        f"{bad['appointments'][0]!r} is not a whole number")
    for value in frame["month"].unique().to_list():
        try:
            parse_month(value)
        except ValueError as exc:
            row = frame.filter(pl.col("month") == value)["line"][0]
            raise GpadError(f"{path.name} line {row}: APPOINTMENT_MONTH_START_DATE {exc}"
                            ) from None


def _same_rows(earlier: pl.DataFrame, again: pl.DataFrame, overlap: pl.DataFrame) -> None:
    """Practice-months found again must hold the same rows as where first found (else the
    GpadError names the first that differs)."""
    key = ["month", "practice_code"]
    columns = [c for c in SCHEMA if c != "source_file"]
    a = earlier.join(overlap.select(key), on=key, how="semi").select(columns)
    b = again.join(overlap.select(key), on=key, how="semi").select(columns)
    differs = pl.concat([
        a.join(b, on=columns, how="anti", nulls_equal=True),
        b.join(a, on=columns, how="anti", nulls_equal=True),
        a.group_by(key).len().join(b.group_by(key).len(), on=[*key, "len"], how="anti"),
    ], how="diagonal").select(key).sort(key)
    if differs.height:
        month, practice = differs.row(0)
        first = overlap.filter((pl.col("month") == month)
                               & (pl.col("practice_code") == practice))["first_file"][0]
        raise GpadError(f"practice {practice} in {month:%b %Y} is in {first} and in "
                        f"{again['source_file'][0]} with different counts: give one release "
                        "of each month")


def read_gpad(paths: list[Path]) -> GpadResult:
    """Read and check practice-level files; one row per published row, none counted twice."""
    if not paths:
        raise GpadError("give at least one Practice_Level_Crosstab CSV file")
    seen: dict[str, str] = {}
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    sources = []
    for path in sorted((Path(p) for p in paths), key=lambda p: p.name):
        if not path.is_file():
            raise GpadError(f"no file at {path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            notes.append(f"{path.name} is the same file as {seen[digest]}: read once")
            continue
        seen[digest] = path.name
        frame = read_file(path, notes)
        named = month_in_name(path)
        months = sorted(set(frame["month"].to_list()))
        if named is not None and months and months != [named]:
            notes.append(f"{path.name}: its name says {named:%b %Y} but its rows are for "
                         + ", ".join(f"{m:%b %Y}" for m in months))
        frames.append(frame)
        sources.append({"file": path.name, "sha256": digest,
                        "months": ", ".join(f"{m:%Y-%m}" for m in months),
                        "practices": frame["practice_code"].n_unique(), "rows": frame.height,
                        "appointments": int(frame["appointments"].sum())})
    frame = _without_repeats(frames, notes)
    return GpadResult(frame.sort("month", "practice_code"), pl.DataFrame(sources), notes)


def _without_repeats(frames: list[pl.DataFrame], notes: list[str]) -> pl.DataFrame:
    """Concatenate files, keeping each practice-month from the first file that holds it (region
    files never overlap, so only practice-months found twice are compared)."""
    if not frames:
        return pl.DataFrame(schema=SCHEMA)
    key = ["month", "practice_code"]
    kept: list[pl.DataFrame] = []
    owners = pl.DataFrame(schema={"month": pl.Date, "practice_code": pl.Utf8,
                                  "first_file": pl.Utf8})
    repeats = 0
    for frame in frames:
        keys = frame.select(key).unique()
        overlap = keys.join(owners, on=key, how="inner").sort(key)
        if overlap.height:
            _same_rows(pl.concat(kept), frame, overlap)
            repeats += overlap.height
            frame = frame.join(overlap.select(key), on=key, how="anti")
        kept.append(frame)
        owners = pl.concat([owners, keys.join(overlap.select(key), on=key, how="anti")
                            .with_columns(first_file=pl.lit(frame["source_file"][0]
                                                            if frame.height else ""))])
    if repeats:
        notes.append(f"{repeats:,} practice-months were in more than one file with the same "
                     "rows: counted once")
    return pl.concat(kept)


# ---- the store ------------------------------------------------------------------------------


def load_gpad(result: GpadResult, db_path: Path) -> Path:
    """Add an import to the store at `db_path` (which must exist): its practice-months replace
    the store's, every other row stays. Written beside the store and swapped in atomically."""
    from metrics.store import StoreError, building, is_duckdb_file

    db_path = Path(db_path)
    if not db_path.is_file() or not is_duckdb_file(db_path):
        raise StoreError(f"no database at {db_path}: build one first with `python -m metrics "
                         "ingest` (or open the dashboard once)")
    with building(db_path) as con:
        # the new file starts as a copy of the store; the import's practice-months replace it
        here = con.execute("SELECT current_database()").fetchone()[0]
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(db_path)])
        quoted = '"' + here.replace('"', '""') + '"'
        con.execute(f"COPY FROM DATABASE previous TO {quoted}")
        con.execute("DETACH previous")
        write_tables(con, result)
    return db_path


def write_tables(con: duckdb.DuckDBPyConnection, result: GpadResult) -> None:
    """On a write connection: replace the import's practice-months, record its sources."""
    con.execute(TABLE_SQL)
    con.execute(SOURCES_SQL)
    con.register("_incoming_gpad", result.frame.select(list(SCHEMA)).to_arrow())
    try:
        con.execute(f"DELETE FROM {TABLE} WHERE (month, practice_code) IN "
                    "(SELECT DISTINCT month, practice_code FROM _incoming_gpad)")
        con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM _incoming_gpad")
    finally:
        con.unregister("_incoming_gpad")
    loaded = datetime.now(UTC).isoformat(timespec="seconds")
    for r in result.sources.iter_rows(named=True):
        con.execute(f"DELETE FROM {SOURCES_TABLE} WHERE sha256 = ?", [r["sha256"]])
        con.execute(f"INSERT INTO {SOURCES_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [r["file"], r["sha256"], r["months"], r["practices"], r["rows"],
                     r["appointments"], loaded])


def sample_files() -> list[Path]:
    """The synthetic sample files shipped in sample_data/gpad/."""
    return sorted(SAMPLE_DIR.glob(FILE_PATTERN))


# ---- reading it back (the National context page) --------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the page shows for one practice: the codes it was placed in, the long frame (one
    row per level x month x measure x category, with counts) and the source files."""

    practice: str
    pcn: str | None
    sub_icb: str | None
    in_gpad: bool  # the practice itself has rows in the loaded files
    frame: pl.DataFrame
    sources: pl.DataFrame

    @property
    def months(self) -> list[date]:
        return sorted(set(self.frame["month"].to_list()))


def has_gpad(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.cursor().execute("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = ?", [TABLE]).fetchone()
    return bool(rows and rows[0])


def context(con: duckdb.DuckDBPyConnection, practice: str, pcn: str | None = None,
            sub_icb: str | None = None) -> Context | None:
    """GPAD for a practice, its PCN, its sub-ICB and England, per month (None: no GPAD loaded).

    The PCN and sub-ICB are the practice's in its latest GPAD month; `pcn` and `sub_icb` (from
    the practices extract) stand in when the practice has no GPAD rows."""
    if not has_gpad(con):
        return None
    found = con.cursor().sql(query_text("gpad_practice_codes"),
                             params={"practice": practice}).pl()
    in_gpad = found.height > 0
    if in_gpad:
        pcn = found["pcn_code"][0] or pcn
        sub_icb = found["sub_icb_code"][0] or sub_icb
    frame = con.cursor().sql(query_text("gpad_context_monthly"),
                             params={"practice": practice, "pcn": pcn, "sub_icb": sub_icb}).pl()
    sources = con.cursor().sql(query_text("gpad_sources")).pl()
    return Context(practice, pcn, sub_icb, in_gpad, frame, sources)


def level_label(level: str, code: str | None) -> str:
    """`Practice A81001`, `PCN U12345`, `Sub-ICB 00L`, `England`."""
    name = LEVEL_LABELS.get(level, level)
    return name if level == "england" or not code else f"{name} {code}"


def unit_labels(ctx: Context) -> dict[str, str]:
    """Level -> the label shown for it, for the levels this context has."""
    codes = {"practice": ctx.practice, "pcn": ctx.pcn, "sub_icb": ctx.sub_icb,
             "england": None}
    present = set(ctx.frame["level"].to_list())
    return {lv: level_label(lv, code) for lv, code in codes.items() if lv in present}


def context_table(ctx: Context) -> Table:
    """The figures behind the page, as a downloadable table: published counts, no control."""
    from metrics.read.table import Table

    labels = unit_labels(ctx)
    frame = ctx.frame.select(
        pl.col("level").replace_strict(labels, default=pl.col("level")).alias("unit"),
        "month", "measure", "category", "appointments", "total", "share", "practices")
    files = ", ".join(ctx.sources["file"].to_list())
    return Table(f"gpad_context_{ctx.practice}", "National context: GPAD published figures",
                 frame, f"NHS England GPAD published figures (files: {files}); shares of all "
                 "appointments of each level and month", PUBLISHED,
                 own_rows="published by NHS England at practice level: shown as published")
