"""GPAD practice-level files made from a synthetic extract, for the demo and the shipped sample.

Why: the National context page reads NHS England's "Appointments in General Practice"
practice-level files (metrics.gpad). The demo database and sample_data/ are synthetic, so their
national context must come from the same synthetic appointments, or the page shows practices
that the rest of the dashboard does not know. `gpad_crosstab` counts an extract's appointments
into the publication's exact layout (headers, dates like 01DEC2025, HCP_TYPE, APPT_MODE,
APPT_STATUS and booking-lead labels as published, double spaces included), one frame per month
and, for one month if asked, one per region as the publication has been split since.

How the canonical values become published ones (docs/extract-schema.md s.6 and s.7, read backwards):
- HCP_TYPE: gp, gp_registrar, locum_gp -> `GP`; unknown -> `Unknown`; every other role,
  admin included -> `Other Practice staff` (GPAD's own grouping of non-GP practice staff).
- APPT_STATUS: attended -> `Attended`; did_not_attend -> `DNA`; booked (not yet reconciled)
  and unknown -> `Unknown`; cancelled appointments are not in the publication, so not counted.
- APPT_MODE: the five canonical modes, one to one.
- The extract has no slot type, booking date or clinical system: NATIONAL_CATEGORY is
  `Unmapped` (the publication's value for that), SUPPLIER is EMIS or TPP by a stable hash of
  the practice code, and the booking lead is drawn by a stable hash of the appointment id with
  roughly the national shares (`LEADS`). Nothing in the dashboard reads these three.

Pure and deterministic: the same extract gives byte-identical files (`write_crosstab`).
`python -m metrics.sample.gpad` regenerates sample_data/gpad/ from sample_data's extract.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from metrics.gpad.files import COLUMNS, MONTH_NAMES
from metrics.schema import GP_ROLES

HEADER = list(COLUMNS.values())  # the publication's column order (metrics.gpad reads by name)
HCP_TYPE = {**{r: "GP" for r in GP_ROLES}, "unknown": "Unknown"}  # any other role: other staff
OTHER_STAFF = "Other Practice staff"
APPT_STATUS = {"attended": "Attended", "did_not_attend": "DNA", "booked": "Unknown",
               "unknown": "Unknown"}  # cancelled: not published
APPT_MODE = {"face_to_face": "Face-to-Face", "telephone": "Telephone",
             "video_online": "Video Conference/Online", "home_visit": "Home Visit",
             "unknown": "Unknown"}
NATIONAL_CATEGORY = "Unmapped"
# booking lead label (as published) -> percent of appointments, roughly England's 2025 mix
LEADS: dict[str, int] = {"Same Day": 44, "1 Day": 8, "2 to 7 Days": 21, "8  to 14 Days": 12,
                         "15  to 21 Days": 7, "22  to 28 Days": 4, "More than 28 Days": 3,
                         "Unknown / Data Quality": 1}
EMIS_PERCENT = 60  # practices with hash % 100 below this use EMIS, the rest TPP
# ICB code -> (ICB name, sub-ICB name stem, region code, region name); synthetic ICBs only
ICBS: dict[str, tuple[str, str, str, str]] = {
    "QSY": ("NHS SYNTHETIC VALE INTEGRATED CARE BOARD", "NHS SYNTHETIC VALE ICB", "Y63",
            "NORTH EAST AND YORKSHIRE"),
    "QZZ": ("NHS SYNTHETIC CITY INTEGRATED CARE BOARD", "NHS SYNTHETIC CITY ICB", "Y56",
            "LONDON"),
}
SAMPLE_MONTHS = 2  # sample_data/gpad: the extract's last two months, the last split by region
DEMO_MONTHS = 3  # the dashboard's default database: its sample's last three months


def stable_hash(values: Sequence[str] | pl.Series) -> np.ndarray:
    """h = h * 31 + byte over each value's UTF-8 bytes, modulo 2**32 (Java's String.hashCode
    on ASCII, unsigned): stable across runs and versions, and workable by hand for a test."""
    raw = np.array([str(v).encode() for v in values], dtype=bytes)
    h = np.zeros(len(raw), np.uint64)
    if not len(raw):
        return h
    codes = raw.view(np.uint8).reshape(len(raw), -1)  # right-padded with zero bytes
    for column in codes.T:
        h = np.where(column > 0, (h * 31 + column) % 2**32, h)
    return h


def booking_lead(appointment_ids: Sequence[str] | pl.Series) -> list[str]:
    """The made-up booking lead of each appointment: bucket hash % 100 into LEADS' shares."""
    edges = np.cumsum(list(LEADS.values()))
    picks = np.searchsorted(edges, stable_hash(appointment_ids) % 100, side="right")
    labels = list(LEADS)
    return [labels[i] for i in picks]


def month_label(month: date) -> str:
    """`01DEC2025`: the publication's form of a month."""
    return f"01{MONTH_NAMES[month.month - 1]}{month.year}"


def file_name(month: date, region: str | None = None) -> str:
    """`Practice_Level_Crosstab_Dec_25.csv`, or `..._North_East_and_Yorkshire_Dec_25.csv`."""
    mon = f"{MONTH_NAMES[month.month - 1].title()}_{month.year % 100:02d}"
    if region is None:
        return f"Practice_Level_Crosstab_{mon}.csv"
    words = [w.lower() if w.lower() in ("and", "of", "the") else w.title()
             for w in region.split()]
    return f"Practice_Level_Crosstab_{'_'.join(words)}_{mon}.csv"


def last_months(appointments: pl.DataFrame, n: int) -> list[date]:
    """The last `n` calendar months up to the extract's latest appointment (oldest first)."""
    latest = appointments["appointment_date"].max()
    if latest is None or n < 1:
        return []
    index = latest.year * 12 + latest.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - n + 1, index + 1)]


def _places(practices: pl.DataFrame) -> pl.DataFrame:
    """Per practice the publication's name, supplier, PCN, sub-ICB, ICB and region columns."""
    icb = practices["icb_code"].fill_null("").to_list()
    sub = practices["sub_icb_code"].fill_null("").to_list()
    known = [ICBS.get(c, (f"NHS {c} INTEGRATED CARE BOARD" if c else "",
                          f"NHS {c} ICB" if c else "", "", "UNKNOWN")) for c in icb]
    supplier = np.where(stable_hash(practices["practice_code"]) % 100 < EMIS_PERCENT,
                        "EMIS", "TPP")
    return pl.DataFrame({
        "practice_code": practices["practice_code"],
        "GP_NAME": practices["practice_name"].fill_null("").str.to_uppercase(),
        "SUPPLIER": supplier.tolist(),
        "PCN_CODE": practices["pcn_code"].fill_null(""),
        "PCN_NAME": practices["pcn_name"].fill_null("").str.to_uppercase(),
        "SUB_ICB_LOCATION_CODE": sub,
        "SUB_ICB_LOCATION_NAME": [f"{k[1]} - {s}" if s and k[1] else "" for k, s in
                                  zip(known, sub, strict=True)],
        "ICB_CODE": icb,
        "ICB_NAME": [k[0] for k in known],
        "REGION_CODE": [k[2] for k in known],
        "REGION_NAME": [k[3] for k in known],
    }, schema_overrides={"SUB_ICB_LOCATION_CODE": pl.Utf8, "ICB_CODE": pl.Utf8}
    ).unique("practice_code", keep="first", maintain_order=True)


def gpad_crosstab(tables: dict[str, pl.DataFrame], months: Sequence[date] | None = None,
                  split_month: date | None = None) -> dict[str, pl.DataFrame]:
    """The extract's appointments counted into GPAD practice-level files: file name -> frame.

    One frame per month with appointments (`months`: only those; default every month), in the
    publication's columns and order, one row per practice x HCP type x mode x category x
    booking lead x status (as published, no zero rows). `split_month` writes that month as one
    file per region instead. A practice is placed by the practices table (its row for the
    appointment's practice_code; blank places where it has none)."""
    appointments = tables["appointments"].select(
        "appointment_id", "practice_code", "appointment_date", "clinician_role", "status",
        "mode",
        month=pl.col("appointment_date").dt.truncate("1mo"))
    if months is not None:
        appointments = appointments.filter(pl.col("month").is_in(list(months)))
    appointments = appointments.filter(pl.col("status").is_in(list(APPT_STATUS)))
    counted = appointments.with_columns(
        HCP_TYPE=pl.col("clinician_role").replace_strict(HCP_TYPE, default=OTHER_STAFF),
        APPT_MODE=pl.col("mode").replace_strict(APPT_MODE, default="Unknown"),
        APPT_STATUS=pl.col("status").replace_strict(APPT_STATUS),
        TIME_BETWEEN_BOOK_AND_APPT=pl.Series(booking_lead(appointments["appointment_id"]),
                                             dtype=pl.Utf8),
    ).group_by("month", "practice_code", "HCP_TYPE", "APPT_MODE", "TIME_BETWEEN_BOOK_AND_APPT",
               "APPT_STATUS").agg(COUNT_OF_APPOINTMENTS=pl.len().cast(pl.Int64))
    rows = counted.join(_places(tables["practices"]), on="practice_code", how="left").with_columns(
        pl.col(c).fill_null("") for c in ("GP_NAME", "SUPPLIER", "PCN_CODE", "PCN_NAME",
                                          "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME",
                                          "ICB_CODE", "ICB_NAME", "REGION_CODE")
    ).with_columns(
        pl.col("REGION_NAME").fill_null("UNKNOWN"),
        APPOINTMENT_MONTH_START_DATE=pl.col("month").map_elements(month_label,
                                                                  return_dtype=pl.Utf8),
        GP_CODE=pl.col("practice_code"),
        NATIONAL_CATEGORY=pl.lit(NATIONAL_CATEGORY),
    ).sort("month", "GP_CODE", "HCP_TYPE", "APPT_MODE", "NATIONAL_CATEGORY",
           "TIME_BETWEEN_BOOK_AND_APPT", "APPT_STATUS")
    files: dict[str, pl.DataFrame] = {}
    for month in sorted(set(rows["month"].to_list())):
        frame = rows.filter(pl.col("month") == month)
        if month == split_month:
            for region in sorted(set(frame["REGION_NAME"].to_list())):
                files[file_name(month, region)] = frame.filter(
                    pl.col("REGION_NAME") == region).select(HEADER)
        else:
            files[file_name(month)] = frame.select(HEADER)
    return dict(sorted(files.items()))


def write_crosstab(files: dict[str, pl.DataFrame], out_dir: Path) -> list[Path]:
    """Write each frame as a CSV named by its key (the publication's plain CSV, no index)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in files.items():
        path = out_dir / name
        frame.write_csv(path, line_terminator="\n")
        paths.append(path)
    return paths


def write_extract_gpad(extract_dir: Path, months: int, out_dir: Path | None = None
                       ) -> list[Path]:
    """GPAD files of an extract folder's last `months` months, in `out_dir` (default
    <extract_dir>/gpad): what `python -m metrics sample --gpad-months N` writes."""
    tables = read_extract_dir(extract_dir, months)
    files = gpad_crosstab(tables, last_months(tables["appointments"], months))
    return write_crosstab(files, Path(out_dir) if out_dir else Path(extract_dir) / "gpad")


def load_into_store(tables: dict[str, pl.DataFrame], db_path: Path,
                    months: int = DEMO_MONTHS) -> Path:
    """The default database's national context: GPAD of its own sample's last `months` months,
    written as files and imported exactly as published files would be (metrics.gpad)."""
    from metrics.gpad.files import read_gpad
    from metrics.gpad.load import load_gpad

    files = gpad_crosstab(tables, last_months(tables["appointments"], months))
    if not files:  # no appointments to count: the store stays without national context
        return Path(db_path)
    with tempfile.TemporaryDirectory(prefix="gpad-sample-") as tmp:
        return load_gpad(read_gpad(write_crosstab(files, Path(tmp))), db_path)


# ---- sample_data/gpad: the shipped files ------------------------------------------------------

NEIGHBOURS_SEED = 20261125
# the neighbours' two PCNs: (PCN code, PCN name, sub-ICB, ICB) - one more PCN in the sample's
# sub-ICB, one in a London ICB, so that practice, PCN, sub-ICB and "England" all differ
NEIGHBOUR_PCNS = (("U90964", "Southmead PCN", "96X", "QSY"),
                  ("U90970", "City Central PCN", "99A", "QZZ"))


def neighbours(end: date) -> dict[str, pl.DataFrame]:
    """A small synthetic extract placed around the sample: four practices in two PCNs (see
    NEIGHBOUR_PCNS) with a year of appointments up to `end` (events settle before its end)."""
    from metrics.sample.config import SampleConfig
    from metrics.sample.synth import generate

    tables = generate(SampleConfig(seed=NEIGHBOURS_SEED, practices=4, pcns=2, months=12,
                                   end=end, scale=0.05))
    codes = sorted(set(tables["practices"]["pcn_code"].to_list()))
    relabel = {old: NEIGHBOUR_PCNS[i] for i, old in enumerate(codes)}
    practices = tables["practices"].with_columns(
        *[pl.col("pcn_code").replace_strict({k: v[j] for k, v in relabel.items()}).alias(c)
          for j, c in enumerate(("pcn_code", "pcn_name", "sub_icb_code", "icb_code"))])
    return {**tables, "practices": practices}


USED_COLUMNS = {
    "appointments": ("appointment_id", "practice_code", "appointment_date", "clinician_role",
                     "status", "mode"),
    "practices": ("practice_code", "practice_name", "pcn_code", "pcn_name", "sub_icb_code",
                  "icb_code"),
}


def _used(tables: dict[str, pl.DataFrame], name: str) -> pl.DataFrame:
    """Only the columns the crosstab reads, as text (dates kept): read or generated alike."""
    return tables[name].select(pl.col(c) if c == "appointment_date" else pl.col(c).cast(pl.Utf8)
                               for c in USED_COLUMNS[name])


def sample_crosstab(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """sample_data/gpad's files from sample_data's extract: its last two months with the
    neighbours, the first as one England file, the last split by region."""
    months = last_months(tables["appointments"], SAMPLE_MONTHS)
    end = tables["appointments"]["appointment_date"].max()
    around = neighbours(end)
    clash = (set(around["practices"]["practice_code"])
             & set(tables["practices"]["practice_code"]))
    if clash:
        raise ValueError(f"neighbour practice codes clash with the extract: {sorted(clash)}")
    both = {name: pl.concat([_used(tables, name), _used(around, name)])
            for name in USED_COLUMNS}
    return gpad_crosstab(both, months, split_month=months[-1])


def read_extract_dir(folder: Path, months: int | None = None) -> dict[str, pl.DataFrame]:
    """The appointments and practices of a canonical extract folder (appointments.csv or
    .parquet, as `python -m metrics sample` writes them), only the columns used here and,
    with `months`, only the last that many months' appointments (scanned, not all loaded)."""
    folder = Path(folder)
    found = [folder / f"appointments.{fmt}" for fmt in ("csv", "parquet")]
    path = next((p for p in found if p.is_file()), found[0])
    columns = list(USED_COLUMNS["appointments"])
    if path.suffix == ".csv":
        scan = pl.scan_csv(path, infer_schema=False).select(columns).with_columns(
            pl.col("appointment_date").str.to_date("%Y-%m-%d"))
        practices = pl.read_csv(folder / "practices.csv", infer_schema=False)
    else:
        scan = pl.scan_parquet(path).select(columns)
        practices = pl.read_parquet(folder / "practices.parquet")
    if months is not None:
        latest = scan.select(pl.col("appointment_date").max()).collect().item()
        first = last_months(pl.DataFrame({"appointment_date": [latest]}), months)[0]
        scan = scan.filter(pl.col("appointment_date") >= first)
    tables = {"appointments": scan.collect(), "practices": practices}
    return {name: _used(tables, name) for name in USED_COLUMNS}


def write_sample_gpad(extract_dir: Path | None = None, out_dir: Path | None = None
                      ) -> list[Path]:
    """Regenerate sample_data/gpad/ (its CSV files; README.md is kept) from the extract."""
    from metrics.sample.config import SAMPLE_DATA_DIR

    extract_dir = Path(extract_dir or SAMPLE_DATA_DIR)
    out_dir = Path(out_dir or extract_dir / "gpad")
    for old in out_dir.glob("Practice_Level_Crosstab_*.csv"):
        old.unlink()
    return write_crosstab(sample_crosstab(read_extract_dir(extract_dir, SAMPLE_MONTHS)), out_dir)


if __name__ == "__main__":
    for written in write_sample_gpad():
        print(written)
