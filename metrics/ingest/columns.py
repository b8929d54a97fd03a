"""A raw file onto a table's fields through the mapping preset, and vocabularies onto the
canonical codes (metrics/mapping.py, metrics/presets/*.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metrics.ingest.files import read_raw
from metrics.ingest.raw import RawFile
from metrics.ingest.report import IngestError, IngestReport, PracticeInfo, Progress
from metrics.mapping import (
    FIELDS,
    Mapping,
    TableMapping,
    column_key,
    required_fields,
)


@dataclass
class MappedFile:
    name: str
    number: int
    frame: pl.DataFrame  # fields (Utf8) + x:<extra> + __file, __file_no, __line, __over
    present: set[str]  # fields found as columns
    extras: list[str]


def _match_columns(raw: RawFile, table: str, tm: TableMapping) -> tuple[dict[str, int],
                                                                        dict[int, str]]:
    keys = [column_key(h) for h in raw.headers]
    used: dict[str, int] = {}
    taken: set[int] = set()
    for name in FIELDS[table]:
        for alias in tm.aliases(name):
            idx = next((i for i, k in enumerate(keys) if k == alias and i not in taken), None)
            if idx is not None:
                used[name] = idx
                taken.add(idx)
                break
    extras: dict[int, str] = {}
    seen = set(FIELDS[table])
    for i, key in enumerate(keys):
        if i in taken:
            continue
        base = key or f"column_{i + 1}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        extras[i] = name
    return used, extras


def _map_file(raw: RawFile, number: int, table: str, tm: TableMapping, mapping: Mapping,
              practice: PracticeInfo | None, report: IngestReport) -> MappedFile:
    used, extras = _match_columns(raw, table, tm)
    optional = set(tm.defaults)
    if table == "appointments" and tm.options.get("derive_appointment_id"):
        optional.add("appointment_id")
    if practice is not None:
        optional.add("practice_code")
    missing = [f for f in required_fields(table) if f not in used and f not in optional]
    if missing:
        shown = ", ".join(repr(h) for h in raw.headers[:25])
        more = f" and {len(raw.headers) - 25} more" if len(raw.headers) > 25 else ""
        hint = ("; give the practice code and name for a thin export"
                if missing == ["practice_code"] else "")
        raise IngestError(
            f"{raw.name}: the {table.replace('_', ' ')} file has no column for "
            f"{', '.join(missing)} (columns found: {shown}{more}); check the preset "
            f"({mapping.name}) or rename columns with a mapping file{hint}")
    frame = raw.frame
    exprs: list[pl.Expr] = [pl.col(f"c{i}").alias(name) for name, i in used.items()]
    exprs += [pl.col(f"c{i}").alias(f"x:{name}") for i, name in extras.items()]
    for name, value in tm.defaults.items():
        if name not in used:
            exprs.append(pl.lit(value, dtype=pl.Utf8).alias(name))
            report.add_default(f"{table}.{name} = {value!r} for every row of {{files}} "
                               f"(no {name} column)", raw.name)
    if "practice_code" in FIELDS[table] and "practice_code" not in used and practice:
        exprs.append(pl.lit(practice.practice_code, dtype=pl.Utf8).alias("practice_code"))
        report.add_default(f"{table}.practice_code = {practice.practice_code!r} for every row "
                           "of {files} (given for the practice)", raw.name)
    if table == "appointments":
        exprs.append(pl.lit("appointment_id" not in used).alias("__derive"))
    if table == "appointments" and "appointment_id" not in used:
        report.add_default("appointments.appointment_id derived for {files} from practice, "
                           "patient, clinician, date and time", raw.name)
    data_cols = [f"c{i}" for i in range(len(raw.headers))]
    blank = pl.all_horizontal(pl.col(c).is_null() for c in data_cols) & pl.col("__over").is_null()
    n_blank = int(frame.select(blank.sum()).item()) if data_cols else 0
    if n_blank:
        frame = frame.filter(~blank)
    report.counts[table].blank_lines += n_blank
    out = frame.select(
        *exprs,
        pl.lit(raw.name, dtype=pl.Utf8).alias("__file"),
        pl.lit(number, dtype=pl.Int32).alias("__file_no"),
        pl.col("__line"), pl.col("__over"))
    present = set(used) | {n for n in tm.defaults if n not in used}
    return MappedFile(raw.name, number, out, present, list(extras.values()))


def _read_table(paths: tuple[Path, ...], table: str, mapping: Mapping,
                practice: PracticeInfo | None, report: IngestReport, max_bytes: int | None,
                progress: Progress | None) -> tuple[pl.DataFrame, set[str], list[str]]:
    """All files of one table, mapped and stacked; the fields found in any of them."""
    tm = mapping.table(table)
    mapped: list[MappedFile] = []
    for i, path in enumerate(paths):
        if progress:
            progress(f"reading {Path(path).name}", i / max(len(paths), 1))
        raw = read_raw(Path(path), max_bytes=max_bytes)
        mapped.append(_map_file(raw, i, table, tm, mapping, practice, report))
    report.counts[table].files += len(paths)
    report.source_files[table] = [str(p) for p in paths]
    present = set.union(*(m.present for m in mapped))  # in at least one file
    extras = list(dict.fromkeys(e for m in mapped for e in m.extras))
    # One chunk per column, copied now while only the raw text is held. The checks add columns
    # of one chunk each, and polars copies a whole frame whose columns are chunked differently
    # (the CSV reader makes hundreds of chunks) at each such step: 4.9 GB -> 3.5 GB at 10M rows.
    frame = pl.concat([m.frame for m in mapped], how="diagonal_relaxed").rechunk()
    for name in FIELDS[table]:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(name))
    return frame, present, extras


def map_vocabulary(values: pl.Series, table: str, name: str, tm: TableMapping,
                   fallback: str | None) -> tuple[pl.Series, list[str]]:
    """Raw values -> canonical codes (unmatched -> fallback), and the distinct raw values that
    matched nothing ("" for blank). Exact value map first, then `contains` fragments in order."""
    exact = tm.value_map(table, name)
    fragments = tm.contains.get(name, ())
    text = values.fill_null("")
    distinct = text.unique()
    frame = pl.DataFrame({"raw": distinct})
    k = pl.col("raw").str.to_lowercase().str.replace_all(r"[\s_\-]+", " ").str.strip_chars()
    exact_code = k.replace_strict(list(exact), list(exact.values()), default=None,
                                  return_dtype=pl.Utf8)
    partial = [pl.when(k.str.contains(f, literal=True)).then(pl.lit(code))
               for f, code in fragments]
    coded = frame.with_columns(pl.coalesce(exact_code, *partial).alias("code"))
    unmatched = coded.filter(pl.col("code").is_null())["raw"].to_list()
    codes = coded["code"].fill_null(fallback) if fallback is not None else coded["code"]
    mapped = text.replace_strict(distinct, codes, default=None, return_dtype=pl.Utf8)
    return mapped.alias(name), unmatched
