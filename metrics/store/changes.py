"""What a load would change of what the database already holds, beyond adding its own rows.

A load must never silently take data away from a practice or re-parent it: a full replace drops
every practice the new files lack, and rows with a key the store already holds replace the
stored ones (metrics.store), so a practices file that also lists another practice can move it
to another PCN, and a patients file can move patients to another practice. `load_changes` lists
each such change in one line; metrics.pipeline.build.rebuild refuses a load with any unless
confirmed. New practices, new patients and appointments are the load's own and are not listed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from metrics.ingest import IngestResult
from metrics.store import StoreError, connect_read_only, read_meta

# (column, what a reader calls it): the organisations a practice belongs to
PARENTS = (("pcn_code", "PCN"), ("sub_icb_code", "sub-ICB"), ("icb_code", "ICB"))

REMOVED_SQL = """
SELECT o.practice_code, o.practice_name,
       (SELECT count(*) FROM patients p WHERE p.practice_code = o.practice_code),
       (SELECT count(*) FROM appointments a WHERE a.practice_code = o.practice_code)
FROM practices o
WHERE o.practice_code NOT IN (SELECT practice_code FROM new_practices)
ORDER BY o.practice_code"""

# append mode keeps a stored value where the new file leaves it blank (store._fill_blanks)
MOVED_SQL = """
SELECT o.practice_code, o.practice_name, o.{col}, {new}
FROM practices o JOIN new_practices n USING (practice_code)
WHERE {new} IS DISTINCT FROM o.{col}
ORDER BY o.practice_code"""

REASSIGNED_SQL = """
SELECT o.practice_code, n.practice_code, count(*)
FROM patients o JOIN new_patients n USING (patient_id)
WHERE n.practice_code <> o.practice_code
GROUP BY ALL ORDER BY ALL"""


class LoadNeedsConfirmation(StoreError):
    """A load that would change other practices' data; `changes` says what, one per line."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("this load would change what the database holds: "
                         + "; ".join(changes))
        self.changes = changes


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _changes(con: duckdb.DuckDBPyConnection, result: IngestResult, append: bool) -> list[str]:
    lines: list[str] = []
    if not append:
        for code, name, patients, appointments in con.execute(REMOVED_SQL).fetchall():
            lines.append(f"practice {code} ({name}) would be removed, with its "
                         f"{_plural(patients, 'patient')} and "
                         f"{_plural(appointments, 'appointment')}")
    for col, label in PARENTS:
        new = f"coalesce(n.{col}, o.{col})" if append else f"n.{col}"
        for code, name, old, value in con.execute(MOVED_SQL.format(col=col, new=new)).fetchall():
            lines.append(f"practice {code} ({name}) would move from {label} {old or '(none)'} "
                         f"to {label} {value or '(none)'}")
    # appended appointments without a patients file never move a stored patient (metrics.store)
    if not append or result.report.counts["patients"].files:
        for old, new, n in con.execute(REASSIGNED_SQL).fetchall():
            lines.append(f"{_plural(n, 'patient')} of practice {old} would be reassigned to "
                         f"practice {new}")
    return lines


def _check_id_kind(con: duckdb.DuckDBPyConnection, result: IngestResult) -> None:
    """An append keeps the store's kind of patient id: national ids added to practice-local
    ones (or the reverse) would make one person two patients."""
    held = read_meta(con).get("patient_ids")  # stores from before this setting have none
    kind = "national" if result.national_ids else "practice"
    if held is not None and held != kind:
        words = {"national": "national patient ids",
                 "practice": "patient ids local to each practice"}
        raise StoreError(f"the database holds {words[held]} and this load has "
                         f"{words[kind]}: load it with the same setting "
                         "(--national-patient-ids, a box on the Data page) or replace the "
                         "database; nothing was changed")


def load_changes(result: IngestResult, db_path: Path, *, append: bool) -> list[str]:
    """One line per change the load would make to the practices and patients `db_path` holds
    (none when there is no readable store yet: writing reports that). StoreError when an
    append's patient ids are of another kind than the store's."""
    db_path = Path(db_path)
    if not db_path.is_file() or not db_path.stat().st_size:
        return []
    try:
        con = connect_read_only(db_path)
    except StoreError:
        return []
    with contextlib.closing(con):
        held = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() "
                                          "WHERE NOT internal").fetchall()}
        if not {"practices", "patients", "appointments"} <= held:
            return []
        if append and "store_meta" in held:
            _check_id_kind(con, result)
        con.register("new_practices", result.tables["practices"])
        con.register("new_patients", result.tables["patients"])
        return _changes(con, result, append)
