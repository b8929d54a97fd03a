"""Snapshot every number the product shows or writes, to check a structural change kept them.

    python tools/snapshot_outputs.py snap DIR      # build a small sample, dump everything to DIR
    python tools/snapshot_outputs.py compare A B   # report the differences between two snapshots

`snap` builds the e2e sample (8 practices, 2 PCNs, scale 0.02, as tests/e2e/conftest.py) in a
temporary folder, renders every dashboard page through streamlit.testing.v1.AppTest for the first
practice (and a few filter variants), and writes, per run, each element's text and values
(`<run>.txt`; dataframes as CSV, charts as their Plotly JSON), plus the bytes of every shareable
file: each table's CSV as the Export page ZIP holds it (`zip/`, from the read layer's
export_zip of every page's tables) and the CLI `python -m metrics export` folder (`cli/`).
`compare` lists files missing on either side and, for text files, the first differing lines.
It reports byte differences in two kinds: real ones, and those that vanish once volatile text
is normalised (the temporary folder's name, build and load timestamps, and floating-point noise
past 12 significant digits: DuckDB's parallel sums of means are not bit-reproducible from one
build to the next, so two snapshots of the same code differ there).
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (run name, page, query parameters); {p} is the first practice, {n} its PCN
RUNS = (
    ("overview", "overview", {"practice": "{p}"}),
    ("overview_upc", "overview", {"practice": "{p}", "index": "UPC"}),
    ("practice", "practice", {"practice": "{p}"}),
    ("practice_upc", "practice", {"practice": "{p}", "index": "UPC"}),
    ("practice_pcn_series", "practice", {"practice": "{p}", "series": "Its PCN",
                                         "target": "50% (good)"}),
    ("networks", "networks", {"practice": "{p}"}),
    ("networks_pcn_scope", "networks", {"practice": "{p}", "funnel_unit": "PCNs",
                                        "scope": "One ICB"}),
    ("networks_upc", "networks", {"practice": "{p}", "index": "UPC"}),
    ("deprivation", "deprivation", {"practice": "{p}"}),
    ("context", "context", {"practice": "{p}"}),
    ("data", "data", {"practice": "{p}"}),
    ("export", "export", {"practice": "{p}"}),
    ("methods", "methods", {}),
)


def decode(value: object) -> object:
    """Plotly's base64 arrays ('bdata') as lists, so float noise can be told from changes."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            import base64

            import numpy as np

            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            return [None if v != v else v for v in array.tolist()]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def element_text(node: object) -> str:  # noqa: C901 - one branch per element type
    kind = type(node).__name__
    if kind == "Dataframe":
        frame = node.value  # type: ignore[attr-defined]
        return f"Dataframe\n{frame.to_csv(index=False)}"
    if kind == "UnknownElement" and getattr(node, "type", "") == "plotly_chart":
        spec = decode(json.loads(node.proto.spec))  # type: ignore[attr-defined]
        return "plotly_chart " + json.dumps(spec, sort_keys=True)
    parts = [kind]
    for attr in ("label", "value", "options", "help", "icon"):
        try:
            value = getattr(node, attr)
        except Exception:  # noqa: BLE001 - some elements lack some attributes
            continue
        if value is not None and not callable(value):
            parts.append(f"{attr}={value!r}")
    proto = getattr(node, "proto", None)
    if len(parts) == 1 and proto is not None:
        parts.append(str(proto).replace("\n", " ")[:4000])
    return " ".join(parts)


def walk(node: object, out: list[str]) -> None:
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for key in sorted(children):
            walk(children[key], out)
        return
    out.append(element_text(node))


def render(db: Path, page: str, query: dict[str, str]) -> str:
    from streamlit.testing.v1 import AppTest

    os.environ["CONTINUITY_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"views/{page}.py")
    at.run()
    lines: list[str] = []
    walk(at.main, lines)
    walk(at.sidebar, lines)
    lines += [f"exception {e.value}" for e in at.exception]
    return "\n".join(lines) + "\n"


def export_zip(db: Path, practice: str) -> bytes:
    """Every page's tables (default page options), as the Export page's ZIP holds them."""
    from metrics.access import local_viewer

    viewer = local_viewer()
    try:
        from metrics.read import registry

        source = registry.open_results(db)
        return registry.export_zip(source, registry.Selection(practice=practice), viewer)
    except ImportError:
        from metrics import results

        src = results.open_results(db)
        sel = results.Selection(practice=practice)
        rule = viewer.shared_rule
        tables = [*results.overview_tables(src, sel, rule).values(),
                  *results.practice_tables(src, sel, viewer).values(),
                  *results.network_tables(src, sel, rule).values(),
                  *results.deprivation_tables(src, sel, rule).values()]
        shown = {t.key: t for t in results.shareable(tables)}  # one per key, as the page
        return results.export_zip(list(shown.values()), src.params, sel)


def snap(out: Path) -> None:
    from metrics.pipeline.build import ensure_default_store
    from metrics.sample import SampleConfig

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "continuity.duckdb"
        ensure_default_store(db, config=SampleConfig(practices=8, pcns=2, scale=0.02))
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        practice, pcn = con.sql("SELECT practice_code, pcn_code FROM practices "
                                "ORDER BY practice_code LIMIT 1").fetchall()[0]
        con.close()
        for name, page, query in RUNS:
            filled = {k: v.format(p=practice, n=pcn) for k, v in query.items()}
            (out / f"{name}.txt").write_text(render(db, page, filled))
            print(f"rendered {name}", flush=True)
        with zipfile.ZipFile(io.BytesIO(export_zip(db, practice))) as archive:
            for info in archive.infolist():
                (out / "zip").mkdir(exist_ok=True)
                (out / "zip" / info.filename).write_bytes(archive.read(info))
        subprocess.run([sys.executable, "-m", "metrics", "--quiet", "export", "--db", str(db),
                        "--out", str(out / "cli")], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    print(f"snapshot in {out}")


FLOAT = re.compile(r"-?\d+\.\d{6,}(?:e-?\d+)?")
VOLATILE = (re.compile(r"/tmp/tmp\w+"), re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?"
                                                   r"(\+00:00)?"))


def normalise(text: str) -> str:
    for pattern in VOLATILE:
        text = pattern.sub("<volatile>", text)
    return FLOAT.sub(lambda m: f"{float(m.group()):.12g}", text)


def compare(a: Path, b: Path) -> int:
    left = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    right = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    problems = 0
    for rel in sorted(left - right):
        print(f"only in {a}: {rel}")
        problems += 1
    for rel in sorted(right - left):
        print(f"only in {b}: {rel}")
        problems += 1
    for rel in sorted(left & right):
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if x == y:
            continue
        if normalise(x.decode(errors="replace")) == normalise(y.decode(errors="replace")):
            print(f"noise only (paths, timestamps, float digits past 12): {rel}")
            continue
        problems += 1
        print(f"differs: {rel}")
        diff = difflib.unified_diff(x.decode(errors="replace").splitlines(),
                                    y.decode(errors="replace").splitlines(), lineterm="", n=0)
        for line in list(diff)[:40]:
            print("    " + line[:400])
    print("identical" if not problems else f"{problems} difference(s)")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "snap":
        snap(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
