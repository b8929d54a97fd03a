"""A rebuild swaps the database while dashboard sessions read it: no session sees an error, and
after the swap every session reads the new data.

Two levels: result sources opened and held the way the dashboard caches them (threads, fast),
and a real `streamlit run` server with several browser sessions reloading while the database
is rebuilt over and over (tests/e2e fixtures; skipped without chromium).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from metrics import results
from metrics.disclosure import NHS_RULE
from tests.access_support import OWN, build_db

OWN_PATIENTS = 9  # Riverside's eligible patients in the base database (tests/access_support.py)


def own_patients(source: results.ResultSource) -> int:
    return results.summary(source, "practice", [OWN])["eligible_patients"][0]


def test_a_source_opened_after_a_swap_reads_the_new_file_while_an_old_one_is_open(
        tmp_path: Path) -> None:
    """The dashboard keeps result sources open (st.cache_resource). DuckDB caches one database
    instance per path: a connection opened by path while another is still open would reuse the
    old, replaced file and show the old data for ever."""
    db = build_db(tmp_path / "c.duckdb")
    held = results.open_results(db)
    build_db(db, extra_own_patients=5)
    fresh = results.open_results(db)
    assert own_patients(fresh) == OWN_PATIENTS + 5
    assert results.store_counts(fresh)["patients"] == 9 + 5 + 3 + 2
    assert own_patients(held) == OWN_PATIENTS  # an open source keeps its snapshot
    held.con.close()
    fresh.con.close()


def test_sources_for_other_parameters_also_read_the_new_file(tmp_path: Path) -> None:
    db = build_db(tmp_path / "c.duckdb")
    held = results.open_results(db)
    build_db(db, extra_own_patients=2)
    other = results.open_results(db, held.params.with_(min_contacts=3))
    assert other.prefix == ""  # computed afresh, not the stored results
    assert own_patients(other) == OWN_PATIENTS + 2  # every patient has 4 contacts
    held.con.close()
    other.con.close()


def test_readers_on_threads_never_fail_during_repeated_swaps(tmp_path: Path) -> None:
    """Four reader threads, each holding its source across reads like a cached session and
    reopening when the file changes, while the database is rebuilt six times; afterwards every
    session converges on the last build without being restarted."""
    db = build_db(tmp_path / "c.duckdb")
    errors: list[BaseException] = []
    last = [0, 0, 0, 0]
    stop = threading.Event()

    def session(i: int) -> None:
        source, inode = None, None
        while not stop.is_set():
            try:
                now = db.stat().st_ino
                if now != inode:  # the dashboard's version key: a new file means a new source
                    source, inode = results.open_results(db), now
                last[i] = own_patients(source)
                results.overview_tables(source, results.Selection(), NHS_RULE)
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=session, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        for extra in (1, 2, 3, 4, 5, 6):
            build_db(db, extra_own_patients=extra)
        deadline = time.monotonic() + 30
        while last != [OWN_PATIENTS + 6] * 4 and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert last == [OWN_PATIENTS + 6] * 4
