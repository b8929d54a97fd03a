"""Upload limits for the Data page: each file, and all files of one load together.

Why an app-level total as well as `server.maxUploadSize` (.streamlit/config.toml) and the
uploader's own `max_upload_size`: Streamlit checks each file on its own, so four uploaders with
several appointment files each could still fill a shared server's memory and disk in one load.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol

from metrics.build import MAX_UPLOAD_MB

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
