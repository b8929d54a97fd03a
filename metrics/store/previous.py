"""The database before the last load, kept beside it so the load can be undone.

Every load builds the new store beside the live one and swaps it in with os.replace
(metrics.store.building). `swap_in` (metrics.store.swap) first hard-links the live file to
`<name>.previous` (a copy where links are not possible), so the replaced database survives the
swap at no cost. `undo` swaps the two back the same way: at every moment the live path holds a
whole database, and a reader (the dashboard reopens the file whenever its inode or mtime
changes) sees either the old or the new one, never neither. The kept file holds patient-level
rows like the store itself.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from metrics.store import StoreError, connect_read_only, read_meta
from metrics.store.swap import _link_or_copy, previous_path, side_file, swap_in

__all__ = ["has_previous", "previous_path", "swap_in", "undo_last_load"]


def has_previous(db_path: Path) -> bool:
    return previous_path(db_path).is_file()


def undo_last_load(db_path: Path) -> str:
    """Swap the database with the one the last load replaced; one line saying what now holds.
    StoreError when nothing was kept."""
    db_path = Path(db_path)
    previous = previous_path(db_path)
    if not previous.is_file():
        raise StoreError(f"nothing to undo: there is no earlier database kept at {previous}")
    try:
        with contextlib.closing(connect_read_only(previous)) as con:
            built = read_meta(con).get("built_at", "unknown").replace("T", " ")[:16]
    except StoreError as exc:
        raise StoreError(f"cannot undo: {previous} is not a usable database ({exc})") from None
    if db_path.is_file():
        side = side_file(db_path, "undone")
        _link_or_copy(db_path, side)
        os.replace(previous, db_path)
        os.replace(side, previous)
    else:
        os.replace(previous, db_path)
    return (f"undone: {db_path} is again the database built {built}; the load undone is kept "
            f"at {previous} (undo again to bring it back)")
