"""A rebuild swaps the database while dashboard sessions read it: no session sees an error, and
after the swap every session reads the new data.

Two levels: result sources opened and held the way the dashboard caches them (threads, fast),
and a real `streamlit run` server with several browser sessions reloading while the database
is rebuilt over and over (tests/e2e fixtures; skipped without chromium).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from metrics import read
from metrics.access import POLICY_ENV
from metrics.disclosure import NHS_RULE
from tests import servers
from tests.access_support import OWN, build_db

ROOT = Path(__file__).resolve().parents[2]
OWN_PATIENTS = 9  # Riverside's eligible patients in the base database (tests/access_support.py)


def own_patients(source: read.ResultSource) -> int:
    return read.summary(source, "practice", [OWN])["eligible_patients"][0]


def test_a_source_opened_after_a_swap_reads_the_new_file_while_an_old_one_is_open(
        tmp_path: Path) -> None:
    """The dashboard keeps result sources open (st.cache_resource). DuckDB caches one database
    instance per path: a connection opened by path while another is still open would reuse the
    old, replaced file and show the old data for ever."""
    db = build_db(tmp_path / "c.duckdb")
    held = read.open_results(db)
    build_db(db, extra_own_patients=5)
    fresh = read.open_results(db)
    assert own_patients(fresh) == OWN_PATIENTS + 5
    assert read.store_counts(fresh)["patients"] == 9 + 5 + 3 + 2
    assert own_patients(held) == OWN_PATIENTS  # an open source keeps its snapshot
    held.con.close()
    fresh.con.close()


def test_sources_for_other_parameters_also_read_the_new_file(tmp_path: Path) -> None:
    db = build_db(tmp_path / "c.duckdb")
    held = read.open_results(db)
    build_db(db, extra_own_patients=2)
    other = read.open_results(db, held.params.with_(min_contacts=3))
    assert other.prefix == ""  # computed afresh, not the stored results
    assert own_patients(other) == OWN_PATIENTS + 2  # every patient has 4 contacts
    held.con.close()
    other.con.close()


@pytest.mark.slow
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
                    source, inode = read.open_results(db), now
                last[i] = own_patients(source)
                read.overview_tables(source, read.Selection(), NHS_RULE)
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


SCREEN_SCRIPT = """
import threading
import polars as pl
from metrics.disclosure import NHS_RULE, mask_column
from metrics.read import Table
from views.format import display_frame
columns = {"slicc": 0.5, "slicc_numerator": 12, "eligible_patients": 10, "upc_mean": 0.61}
frame = pl.DataFrame({**{c: [v, None] * 100 for c, v in columns.items()},
                      **{mask_column(c): [False, True] * 100 for c in columns}})
frame = Table("t", "t", frame, "x", NHS_RULE)
def session():
    for _ in range(300):
        display_frame(frame).to_pandas()  # what st.dataframe does with a polars frame
threads = [threading.Thread(target=session) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(display_frame(frame).row(0), display_frame(frame).row(1))
"""


def test_several_sessions_can_draw_tables_at_once() -> None:
    """Four sessions formatting tables for the screen while others hand frames to pandas.
    A Python UDF (map_elements) there deadlocked polars' thread pool against to_pandas and
    hung the whole server; a hang fails here by timeout (in a subprocess, so it is killed)."""
    done = subprocess.run([sys.executable, "-c", SCREEN_SCRIPT], cwd=ROOT, timeout=120,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "('50.0%', '12', '10', '0.610') ('*', '*', '*', '*')"


# ---- a real server, several browser sessions, repeated rebuilds ------------------------------

BROWSER_TIMEOUT = 60_000


@contextmanager
def dashboard_server(db: Path, log: Path) -> Iterator[str]:
    """The real dashboard in local mode (no access policy from the environment) on `db`."""
    env = {k: v for k, v in os.environ.items() if k != POLICY_ENV}
    with servers.dashboard_server(db, log, env) as url:
        yield url


def settle(page: Page) -> None:
    """The session's run has finished, and it shows no exception and no error panel."""
    try:
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=BROWSER_TIMEOUT)
    except PlaywrightTimeout:
        states = page.eval_on_selector_all("[data-test-script-state]", "els => els.map("
                                           "e => e.getAttribute('data-test-script-state'))")
        raise AssertionError(f"the session did not finish its run (script state {states}, "
                             f"url {page.url}): {page.inner_text('body')[:2000]}") from None
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=BROWSER_TIMEOUT)
    for kind in ("stException", "stAlertContentError"):
        assert page.locator(f'[data-testid="{kind}"]').count() == 0, page.inner_text("body")


def patients_shown(page: Page) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text="Patients")
    return metric.get_by_test_id("stMetricValue").inner_text()


@pytest.mark.e2e
def test_open_browser_sessions_read_through_repeated_rebuilds(browser: Browser,
                                                              tmp_path: Path) -> None:
    """Three sessions (separate browser contexts) keep switching pages while the database is
    rebuilt eight times; none shows an error, and afterwards each, without reloading, shows
    the last build's patient count on the Data page (14 + 8 extra Riverside patients)."""
    db = build_db(tmp_path / "c.duckdb")
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        pages = [browser.new_context().new_page() for _ in range(3)]
        for page in pages:
            page.goto(f"{url}/data")
            settle(page)
            assert patients_shown(page) == "14"
        failures: list[BaseException] = []
        done = threading.Event()

        def rebuild_repeatedly() -> None:
            try:
                for extra in range(1, 9):
                    build_db(db, extra_own_patients=extra)
                    time.sleep(0.3)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                failures.append(exc)
            finally:
                done.set()

        rebuilder = threading.Thread(target=rebuild_repeatedly)
        rebuilder.start()
        rounds = 0
        try:
            while not done.is_set() or rounds < 2:
                target = ("Overview", "Data")[rounds % 2]
                for page in pages:  # every session reruns at once, then each is checked
                    page.get_by_test_id("stSidebarNavLink").filter(has_text=target).click()
                for page in pages:
                    settle(page)
                rounds += 1
        finally:
            rebuilder.join()
        assert failures == []
        assert rounds >= 2
        for page in pages:
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Overview").click()
            settle(page)
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
            settle(page)
            assert patients_shown(page) == str(14 + 8)
