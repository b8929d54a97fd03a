"""Writing a sample as an extract folder (CSV or Parquet), whole or block by block."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from metrics.sample.config import SAMPLE_DATA_CONFIG, SAMPLE_DATA_DIR, Progress, SampleConfig
from metrics.sample.plan import _plan
from metrics.sample.synth import _iter_blocks, _practices_frame, generate
from metrics.schema import TABLES

FORMATS = ("csv", "parquet")
CSV_TIME = "%H:%M:%S"  # 14:30:00, as the schema shows (not polars' default nanoseconds)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.write_csv(path, time_format=CSV_TIME)
    else:
        frame.write_parquet(path)


def write_extract(tables: dict[str, pl.DataFrame], out_dir: Path, fmt: str = "csv"
                  ) -> dict[str, Path]:
    """Write appointments, patients and practices as <name>.csv or <name>.parquet."""
    _check_format(fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        paths[name] = out_dir / f"{name}.{fmt}"
        _write(tables[name], paths[name], fmt)
    return paths


class _ChunkWriter:
    """Appends frames of one schema to a single CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._file = None
        self._parquet = None

    def write(self, frame: pl.DataFrame) -> None:
        if self.fmt == "csv":
            first = self._file is None
            if first:
                self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
            frame.write_csv(self._file, include_header=first, time_format=CSV_TIME)
        else:
            import pyarrow.parquet as pq

            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()


def generate_to_dir(out_dir: Path, config: SampleConfig = SampleConfig(), fmt: str = "csv",
                    progress: Progress | None = None) -> dict[str, Path]:
    """Generate and write block by block, so memory stays bounded at any scale (same rows as
    `generate` then `write_extract`)."""
    _check_format(fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _plan(config)
    paths = {name: out_dir / f"{name}.{fmt}" for name in TABLES}
    writers = {name: _ChunkWriter(paths[name], fmt) for name in ("appointments", "patients")}
    try:
        for patients, appointments in _iter_blocks(plan, progress):
            writers["patients"].write(patients)
            writers["appointments"].write(appointments)
    finally:
        for w in writers.values():
            w.close()
    _write(_practices_frame(plan), paths["practices"], fmt)
    return paths


def write_sample_data(out_dir: Path = SAMPLE_DATA_DIR) -> dict[str, Path]:
    """Regenerate the shipped sample_data/ CSV files from SAMPLE_DATA_CONFIG, and the GPAD
    files of sample_data/gpad/ from the same extract (metrics.sample.gpad)."""
    from metrics.sample.gpad import sample_crosstab, write_crosstab

    tables = generate(SAMPLE_DATA_CONFIG)
    paths = write_extract(tables, out_dir, "csv")
    write_crosstab(sample_crosstab(tables), Path(out_dir) / "gpad")
    return paths
