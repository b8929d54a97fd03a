"""Hostile filter values: every value a URL can carry reaches SQL only as a bound parameter or
is ignored, and identifiers come from whitelists.

Three angles: the dashboard with injection strings in every URL-bound filter (AppTest), the
metrics.read functions the pages call, and a source scan that no SQL text in the code is
built from a value (f-strings only splice reviewed identifiers; never inside quotes; no SQL in
pages at all).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import read
from metrics.access import local_viewer
from metrics.disclosure import NHS_RULE
from tests.access_support import FAR, OWN, build_db, digest

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = (
    "'; DROP TABLE result_group_indices; --",
    "' OR '1'='1' UNION SELECT patient_id FROM patients --<script>alert(1)</script>",
    "Ünïcødé ✓ 𝔘 \u202e 你好 \x00\x1b[31m" + "x" * 20_000,  # unicode, controls, very long
    "-1e309",
    ["' OR '1'='1", "<script>alert(1)</script>"],  # a repeated parameter
)


# ---- the dashboard: every URL-bound filter ---------------------------------------------------


def bound_keys() -> dict[str, str]:
    """Every widget bound to the URL (key -> the page that draws it; '' for the sidebar) and
    every raw `st.query_params.get("...")` read, found in the source so new filters are
    covered without editing this test; and every key the read layer's URL codec reads
    (metrics/read/registry.py: `query.get("...")`, `_choice/_flag/_month(query, "...")`), which
    the pages and the Export page decode their options with."""
    keys: dict[str, str] = {}
    for path in (ROOT / "dashboard.py", *sorted((ROOT / "views").glob("*.py"))):
        page = "" if path.name == "dashboard.py" else path.stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            bind, key = kw.get("bind"), kw.get("key")
            if (isinstance(bind, ast.Constant) and bind.value == "query-params"
                    and isinstance(key, ast.Constant)):
                keys.setdefault(key.value, page)
            if (ast.unparse(node.func) == "st.query_params.get" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                keys.setdefault(node.args[0].value, page)
    codec = ROOT / "metrics" / "read" / "registry.py"
    for node in ast.walk(ast.parse(codec.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name == "query.get" and node.args and isinstance(node.args[0], ast.Constant):
            keys.setdefault(node.args[0].value, "registry")
        if (name in ("_choice", "_flag", "_month") and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)):
            keys.setdefault(node.args[1].value, "registry")
    return keys


KEYS = bound_keys()
SIDEBAR_FILTERS = ("end", "months", "index", "staff", "modes", "min", "practice", "pcn")


def test_the_scan_finds_the_sidebar_filters_and_page_choices() -> None:
    assert set(SIDEBAR_FILTERS) <= set(KEYS)
    assert {"funnel_unit", "scope", "scope_code", "series", "gp_list"} <= set(KEYS)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("injection") / "continuity.duckdb")


@pytest.fixture(autouse=True)
def environment(database: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CONTINUITY_DB", str(database))
    monkeypatch.delenv("CONTINUITY_ACCESS_POLICY", raising=False)
    yield


PAGES = ("overview", "practice", "networks", "deprivation", "export", "data")


def visit(at: AppTest, page: str) -> None:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, (page, [e.value for e in at.exception])


@pytest.mark.parametrize("key", sorted(KEYS))
def test_injection_strings_in_one_url_filter_are_ignored_or_refused(key: str,
                                                                    database: Path) -> None:
    """Each filter alone, each payload in a new session (a link opened afresh: the URL seeds
    the widgets), with a practice chosen so its page is built: the page that reads the filter,
    then Export, which rebuilds every page's tables from the URL. No exception escapes and
    the database is unchanged."""
    before = digest(database)
    page = KEYS[key] if KEYS[key] in PAGES else "practice"
    for payload in PAYLOADS:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.query_params.update({"practice": OWN, key: payload})
        at.run()
        assert not at.exception, (key, str(payload)[:60], [e.value for e in at.exception])
        visit(at, page)
        if KEYS[key] not in ("", "common"):
            visit(at, "export")
    assert digest(database) == before


@pytest.mark.parametrize("payload", PAYLOADS[:2], ids=["drop", "or-union-script"])
def test_every_page_survives_every_filter_poisoned_at_once(payload: object,
                                                           database: Path) -> None:
    before = digest(database)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update({key: payload for key in KEYS})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for page in PAGES:
        visit(at, page)
    assert digest(database) == before


def test_a_hostile_practice_or_pcn_never_becomes_the_selection(database: Path) -> None:
    for payload in PAYLOADS:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.query_params.update({"practice": payload, "pcn": payload})
        at.run()
        chosen = {s.label: s.value for s in at.sidebar.selectbox}
        assert chosen["Practice"] is None and chosen["PCN"] is None


@pytest.mark.parametrize("series", ["gp_list", "A named-GP list"])
@pytest.mark.parametrize("gp_list", ["FM", "ZZZ"], ids=["another-practices-list", "unknown"])
def test_export_ignores_a_named_gp_list_the_practice_does_not_hold(series: str,
                                                                   gp_list: str) -> None:
    """A link naming Far Away's list (FM) or no list at all, with Riverside chosen: the Export
    page says the list is ignored and exports Riverside's own series; no error reaches the
    browser (it showed a traceback with server paths)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update({"practice": OWN, "series": series, "gp_list": gp_list})
    at.run()
    visit(at, "export")
    assert not at.exception and not at.error
    assert ("The named-GP list in the address is not one of this practice's lists, so it is "
            "ignored: the practice's own monthly series is exported instead.") in [
                i.value for i in at.info]
    tables = at.selectbox(key="export_table").options
    assert f"My practice: {OWN}: monthly SLICC: XmR chart" in tables
    assert not any(gp_list in t or FAR in t for t in tables if t.startswith("My practice"))


def test_export_keeps_a_list_the_practice_holds_without_a_message() -> None:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update({"practice": OWN, "series": "gp_list", "gp_list": "GA"})
    at.run()
    visit(at, "export")
    assert not any("named-GP list in the address" in i.value for i in at.info)
    at.checkbox(key="include_gp_lists").check().run()
    assert f"My practice: {OWN}: monthly SLICC of GA's list: XmR chart" in at.selectbox(
        key="export_table").options


# ---- the results functions the pages call ----------------------------------------------------


@pytest.fixture(scope="module")
def source(database: Path) -> Iterator[read.ResultSource]:
    src = read.open_results(database)
    yield src
    src.con.close()


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if isinstance(p, str)])
def test_results_bind_hostile_codes_and_refuse_hostile_identifiers(
        payload: str, source: read.ResultSource, database: Path) -> None:
    before = digest(database)
    # values: bound parameters, so they simply match nothing
    assert read.groups(source, "practice", [payload]).height == 0
    assert read.monthly(source, "gp_list", [payload], subgroup=payload).height == 0
    assert read.appointment_mix(source, [payload]).height == 0
    assert read.summary(source, "pcn", [payload]).height == 0
    assert read.practice_tables(source, read.Selection(practice=payload),
                                   local_viewer()) == {}
    networks = read.network_tables(source, read.Selection(practice=payload,
                                                                pcn=payload), NHS_RULE)
    assert networks["funnel"].frame.height == 3  # every practice, nothing more or less
    # identifiers: whitelisted, so a hostile one is refused before any SQL is built
    with pytest.raises(ValueError, match="unknown level"):
        read.groups(source, payload)
    with pytest.raises(ValueError, match="unknown result table"):
        source.table(payload)
    with pytest.raises(ValueError, match="unknown index"):
        read.overview_tables(source, read.Selection(index=payload), NHS_RULE)
    with pytest.raises(ValueError):
        read.window_params(payload, 12, staff_group="gp", modes=["telephone"],
                              min_contacts=2)
    assert digest(database) == before
    assert read.store_counts(source) == {"appointments": 9 * 4 + 3 * 3 + 2 * 3 + 1,
                                            "patients": 14, "practices": 3}


# ---- the source: SQL text is never built from values -----------------------------------------

SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|CREATE\s|DELETE\s+FROM|UPDATE\s+\w+\s+SET|DROP\s|"
                 r"ATTACH\s|COPY\s|PRAGMA\s|WHERE\s|FROM\s)")
# Every expression spliced into SQL text, per module, and why it can only be an identifier.
# A new one must be reviewed: bind values with ? (or register a frame), whitelist identifiers,
# then list it here with where it comes from.
REVIEWED: dict[str, set[str]] = {
    # step and parameter-frame names from PIPELINE / parameter_frames; TEMP TABLE or TABLE;
    # __frame_<name>; the text of a step's query file; a spans table named in PER_MONTH_STEPS;
    # an attached store's prefix ('store.' or '', constants of metrics.pipeline.refresh)
    "metrics/pipeline/engine.py": {"self.kind", "name", "view", "sql", "spans", "store"},
    # GPAD store tables: module constants; the current database's own name, quoted
    "metrics/gpad/load.py": {"TABLE", "SOURCES_TABLE", "quoted"},
    # pipeline step names and store tables (module tuples); query file text; the attached
    # store's prefix ('store.' or '', constants)
    "metrics/pipeline/refresh.py": {"name", "store_table", "sql", "kind", "step", "store", "table"},
    # result tables via ResultSource.table (whitelist); the three canonical table names
    "metrics/read/source.py": {"source.table('group_indices')", "source.table('appointment_mix')",
                           "source.table('group_named_gp_monthly')", "table", "name"},
    # metrics.schema tables and columns
    "metrics/schema.py": {"table", "cols"},
    # schema tables and keys (metrics.schema, ingest.KEYS); expressions built from them; the
    # store's own table names, quoted
    "metrics/store/database.py": {"table", "view", "name", "extra", "cols", "on", "kept", "group",
                         "value", "t", "', '.join(key)", "sets", "quoted"},
}


def sql_strings() -> Iterator[tuple[str, int, ast.AST]]:
    """(module, line, node) for every f-string, %-format, .format() or + that builds text
    looking like SQL in the Python code of metrics/, views/ and dashboard.py."""
    files = [*sorted((ROOT / "metrics").rglob("*.py")), *sorted((ROOT / "views").glob("*.py")),
             ROOT / "dashboard.py"]
    for path in files:
        module = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = literal_text(node)
            if text is not None and SQL.search(text):
                yield module, node.lineno, node


def literal_text(node: ast.AST) -> str | None:
    """The literal parts of a string-building expression (None for anything else)."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        parts = [n for n in (node.left, node.right) if isinstance(n, ast.Constant)
                 and isinstance(n.value, str)]
        return "".join(p.value for p in parts) or None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)):
        return node.func.value.value
    return None


def query_file_text(node: ast.AST) -> bool:
    """A string constant, or the text of a queries/*.sql file named by a constant."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("query_text")
            and all(isinstance(a, ast.Constant) for a in node.args))


def test_pages_hold_no_sql() -> None:
    """SQL lives in queries/*.sql and metrics/; pages only call metrics.read."""
    found = []
    for path in (ROOT / "dashboard.py", *sorted((ROOT / "views").glob("*.py"))):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and re.search(r"\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bCREATE TABLE\b",
                                  node.value)):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def problems_in(module: str, line: int, node: ast.AST) -> list[str]:
    """Why this SQL-building expression could carry a value, if it could."""
    where = f"{module}:{line}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and all(
            map(query_file_text, (node.left, node.right))):
        return []  # SQL text + the text of a queries/*.sql file
    if not isinstance(node, ast.JoinedStr):
        return [f"{where}: SQL built with %, + or .format(); use an f-string of whitelisted "
                "identifiers and bind values with ?"]
    problems, before = [], ""
    for part in node.values:
        if isinstance(part, ast.Constant):
            before += part.value
            continue
        expr = ast.unparse(part.value)
        if before.count("'") % 2 == 1:
            problems.append(f"{where}: {{{expr}}} is spliced inside a quoted SQL string: bind "
                            "it as a parameter")
        elif expr not in REVIEWED.get(module, set()):
            problems.append(f"{where}: {{{expr}}} spliced into SQL is not a reviewed "
                            "identifier (see REVIEWED in this test)")
    return problems


def test_sql_text_is_built_only_by_splicing_reviewed_identifiers() -> None:
    assert [p for m, line, node in sql_strings() for p in problems_in(m, line, node)] == []


def expression(code: str) -> ast.AST:
    return ast.parse(code).body[0].value  # type: ignore[attr-defined]


def test_the_scan_reports_values_spliced_into_sql() -> None:
    """The checker itself, on code it must refuse and code it must accept."""
    quoted = expression("f\"SELECT * FROM practices WHERE practice_code = '{table}'\"")
    assert problems_in("metrics/store/database.py", 1, quoted) == [
        "metrics/store/database.py:1: {table} is spliced inside a quoted SQL string: bind it as a "
        "parameter"]
    unreviewed = expression("f'SELECT * FROM practices WHERE practice_code = {code}'")
    assert "{code} spliced into SQL is not a reviewed identifier" in problems_in(
        "metrics/read/source.py", 2, unreviewed)[0]
    for code in ("'SELECT * FROM t WHERE c = ' + value", "'DELETE FROM t WHERE c = %s' % v",
                 "'SELECT * FROM t WHERE c = {}'.format(v)"):
        assert "SQL built with %, + or .format()" in problems_in("metrics/x.py", 3,
                                                                  expression(code))[0]
    assert problems_in("metrics/pipeline/refresh.py", 4, expression(
        "'SELECT count(*) FROM (' + engine.query_text('refresh_moved_patients')")) == []
    assert problems_in("metrics/read/source.py", 5, expression(
        "f\"SELECT * FROM {source.table('group_indices')} WHERE level = ?\"")) == []
