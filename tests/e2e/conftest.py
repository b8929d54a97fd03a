"""End-to-end fixtures: a small generated database and `streamlit run dashboard.py` on a free
port (tests/servers.py); Debian's chromium comes from the root conftest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.sample import SampleConfig
from tests.servers import dashboard_server

# 8 practices in 2 PCNs at a fiftieth of real list sizes: built and computed in about a second.
E2E_SAMPLE = SampleConfig(practices=8, pcns=2, scale=0.02)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_extract(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The e2e sample as canonical CSV files (what a user would upload)."""
    from metrics.sample import generate, write_extract

    return write_extract(generate(E2E_SAMPLE), tmp_path_factory.mktemp("extract"), "csv")


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.pipeline.build import ensure_default_store

    path = tmp_path_factory.mktemp("db") / "continuity.duckdb"
    ensure_default_store(path, config=E2E_SAMPLE)
    return path


@pytest.fixture(scope="session")
def app_url(e2e_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard.py` on 127.0.0.1 with the test database; stopped afterwards."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with dashboard_server(e2e_db, log) as url:
        yield url
