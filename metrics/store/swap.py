"""Side files beside a database, and swapping one in: what a build (metrics.store), a staged
upload (metrics.pipeline.build) and an undo (metrics.store.previous) write, and how a killed one's
leftovers go. Below the store and its undo, which both use it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

# the side files builds and undos write beside the database (or beside its kept previous file)
SIDE_KINDS = ("building", "staged", "linking", "undone")
SIDE_STALE_SECONDS = 3600  # a build writes its side file all along: an hour untouched is dead


def side_file(path: Path, kind: str) -> Path:
    """`<path>.<kind>-<pid>`: this process's side file of one kind, which
    clean_stale_side_files finds once its process is gone."""
    if kind not in SIDE_KINDS:
        raise ValueError(f"unknown side file kind {kind!r}")
    return path.with_name(f"{path.name}.{kind}-{os.getpid()}")


def _side_in_use(path: Path, pid: int) -> bool:
    """Its builder still runs (same machine), or some process holds DuckDB's lock on it."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        pass
    import fcntl

    main = path.with_suffix("") if path.suffix == ".wal" else path  # DuckDB locks the main file
    try:  # never on our own files (the pid above): closing would drop our own POSIX locks
        with main.open("rb") as fh:
            fcntl.lockf(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def clean_stale_side_files(db_path: Path, *, older_than: float = SIDE_STALE_SECONDS,
                           now: float | None = None) -> list[Path]:
    """Remove the `<db>.<kind>-<pid>` side files (and their .wal) that a killed build, or a
    killed undo (metrics.store.previous), left beside the database: untouched for `older_than`
    seconds and not in use."""
    db_path = Path(db_path)
    now = time.time() if now is None else now
    kinds = "|".join(SIDE_KINDS)
    pattern = re.compile(
        rf"{re.escape(db_path.name)}(?:\.previous)?\.(?:{kinds})-(\d+)(?:\.wal)?")
    removed = []
    for path in sorted(db_path.parent.glob(f"{db_path.name}.*-*")):
        found = pattern.fullmatch(path.name)
        if found is None:
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if (now - path.stat().st_mtime > older_than
                    and not _side_in_use(path, int(found.group(1)))):
                path.unlink()
                removed.append(path)
    return removed


# ---- swapping a new file in, keeping the replaced one -------------------------------------


def previous_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + ".previous")


def _link_or_copy(source: Path, target: Path) -> None:
    """`target` becomes another name for `source` (hard link, else a copy), replacing it."""
    side = side_file(target, "linking")
    with contextlib.suppress(FileNotFoundError):
        side.unlink()
    try:
        os.link(source, side)
    except OSError:  # no hard links on this filesystem
        shutil.copyfile(source, side)
    os.replace(side, target)


def swap_in(new: Path, db_path: Path, *, keep_previous: bool = True) -> None:
    """Replace `db_path` by `new` atomically, keeping the replaced file as previous_path."""
    if keep_previous and db_path.is_file() and db_path.stat().st_size:
        _link_or_copy(db_path, previous_path(db_path))
    os.replace(new, db_path)


