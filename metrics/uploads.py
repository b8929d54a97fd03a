"""Upload limits for the Data page (each file, and all files of one load together), and the
temporary folder the uploaded files live in while they are read.

Why an app-level total as well as `server.maxUploadSize` (.streamlit/config.toml) and the
uploader's own `max_upload_size`: Streamlit checks each file on its own, so four uploaders with
several appointment files each could still fill a shared server's memory and disk in one load.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from metrics.pipeline.build import MAX_UPLOAD_MB

MB = 1 << 20
MAX_FILE_BYTES = MAX_UPLOAD_MB * MB
MAX_TOTAL_BYTES = 500 * MB  # everything loaded at once (a national extract goes by the CLI)


class Upload(Protocol):
    """What a Streamlit UploadedFile offers that the limits need."""

    name: str
    size: int


def _mb(n: int) -> str:
    """A size for a message, rounded up (so an oversized file never reads as the limit)."""
    return f"{math.ceil(n * 10 / MB) / 10:,.1f} MB" if n >= MB else f"{n:,} bytes"


def size_problem(files: Iterable[Upload | None]) -> str | None:
    """One line saying which limit the uploaded files break, or None when they fit."""
    files = [f for f in files if f is not None]
    for f in files:
        if f.size > MAX_FILE_BYTES:
            return (f"{f.name} is {_mb(f.size)}, more than the {_mb(MAX_FILE_BYTES)} allowed "
                    "per file: split the extract (several files can be loaded together).")
    total = sum(f.size for f in files)
    if total > MAX_TOTAL_BYTES:
        return (f"The {len(files)} uploaded files add up to {_mb(total)}, more than the "
                f"{_mb(MAX_TOTAL_BYTES)} allowed in one load: load them in parts with 'Add to "
                "the data already loaded', or use `python -m metrics ingest` for a large "
                "extract.")
    return None


# Uploaded extracts are patient-level: they live only while one load reads them. One prefix, so
# that folders a killed server left behind can be found and removed.
FOLDER_PREFIX = "continuity-upload-"
STALE_SECONDS = 3600  # no load reads its files for an hour: older folders are left-overs


def clean_stale(root: Path | None = None, *, older_than: float = STALE_SECONDS,
                now: float | None = None) -> list[Path]:
    """Remove upload folders under `root` (default: the system temp folder) not touched for
    `older_than` seconds; returns those removed."""
    root = Path(root or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for folder in root.glob(f"{FOLDER_PREFIX}*"):
        with contextlib.suppress(OSError):  # another session may remove it first
            if not folder.is_dir():
                continue
            newest = max([folder.stat().st_mtime,
                          *(p.stat().st_mtime for p in folder.iterdir())])
            if now - newest > older_than:
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def upload_folder(root: Path | None = None) -> Iterator[Path]:
    """A private folder (mode 0700) for one load's uploaded files, removed when the load ends,
    whether it succeeded, failed or was stopped; stale folders are cleaned first."""
    clean_stale(root)
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
