"""Correctness checks the benchmark runs on its own output, so a fast wrong answer cannot pass.

- `check_slice`: the patient-level indices and monthly SLICC counts the compute step produced
  for a few hundred patients drawn before the run, against the pure-Python reference
  (metrics/reference.py) on those patients' own rows. A patient's indices depend only on their
  own appointments and registration, so a slice is a fair test of the full-scale run.
- `compare_stores`: the incrementally refreshed store against a full rebuild, table by table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from metrics import reference
from metrics.params import Params

INDEX_COLUMNS = ("contacts", "clinicians", "usual_clinician_id", "upc", "coc", "secon", "mmci",
                 "hhi", "kpc")
FLOAT_TOLERANCE = 1e-12  # relative: sums of doubles taken in another order


def draw_slice(patients_path: Path, out: Path, size: int, seed: int = 6) -> int:
    """Write `size` patient ids drawn at random (fixed seed) to `out`; returns how many."""
    ids = pl.read_parquet(patients_path, columns=["patient_id"])
    ids = ids.sample(n=min(size, ids.height), seed=seed).sort("patient_id")
    out.parent.mkdir(parents=True, exist_ok=True)
    ids.write_parquet(out)
    return ids.height


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= FLOAT_TOLERANCE * max(1.0, abs(b))  # type: ignore[operator]
    return a == b


def check_slice(paths: dict[str, Path], slice_path: Path, engine_dir: Path, params: Params
                ) -> tuple[list[str], int]:
    """Mismatches between the engine's slice rows and the reference; and patients compared."""
    ids = pl.read_parquet(slice_path)["patient_id"]
    tables = {
        "appointments": pl.scan_parquet(paths["appointments"])
        .filter(pl.col("patient_id").is_in(ids.implode())).collect(),
        "patients": pl.read_parquet(paths["patients"]).filter(pl.col("patient_id").is_in(
            ids.implode())),
        "practices": pl.read_parquet(paths["practices"]),
    }
    problems: list[str] = []
    expected = reference.patient_indices(tables, params)
    ours = {r["patient_id"]: r for r in
            pl.read_parquet(engine_dir / "patient_indices.parquet").iter_rows(named=True)}
    if set(ours) != set(expected):
        problems.append(f"patients differ: {len(set(ours) ^ set(expected))} in one set only")
    for pid in sorted(set(ours) & set(expected)):
        for column in INDEX_COLUMNS:
            if not _close(ours[pid][column], expected[pid][column]):
                problems.append(f"{pid} {column}: engine {ours[pid][column]}, reference "
                                f"{expected[pid][column]}")

    ratios = reference.named_gp_ratios(tables, params)
    months = (pl.read_parquet(engine_dir / "named_gp.parquet")
              .group_by("practice_code", "month_start")
              .agg(pl.col("slicc_numerator").sum(), pl.col("slicc_denominator").sum()))
    engine_months = {f"month:{r['practice_code']}:{r['month_start']:%Y-%m}":
                     (r["slicc_numerator"], r["slicc_denominator"])
                     for r in months.iter_rows(named=True) if r["slicc_denominator"]}
    reference_months = {k: (v.get("slicc_numerator", 0), v["slicc_denominator"])
                        for k, v in ratios.items()
                        if k.startswith("month:") and v.get("slicc_denominator")}
    differing = set(engine_months.items()) ^ set(reference_months.items())
    if differing:
        problems.append(f"monthly SLICC counts differ in {len(differing)} practice-months")
    return problems, len(expected)


def read_sorted(path: Path, table: str) -> pl.DataFrame:
    """A stored table, its rows in a fixed order (for comparing two stores)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.sql(f"SELECT * FROM {table}").pl()
    finally:
        con.close()
    return frame.sort(frame.columns, nulls_last=True)


def compare_stores(ours: Path, other: Path) -> list[str]:
    """Tables (metrics.pipeline.refresh.table_names) that differ between two stores, with why."""
    from metrics.pipeline.refresh import table_names

    problems = []
    for table in table_names():
        a, b = read_sorted(ours, table), read_sorted(other, table)
        if a.columns != b.columns or a.height != b.height:
            problems.append(f"{table}: shape {a.shape} vs {b.shape}")
            continue
        for column in a.columns:
            x, y = a[column], b[column]
            if x.dtype.is_float():
                same = ((x - y).abs() <= FLOAT_TOLERANCE * y.abs().clip(1.0)).fill_null(False) \
                    | (x.is_null() & y.is_null())
                if not same.all():
                    problems.append(f"{table}.{column}: {int((~same).sum())} values differ")
            elif not x.equals(y):
                problems.append(f"{table}.{column}: values differ")
    return problems
