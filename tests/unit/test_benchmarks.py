"""The benchmark command (benchmarks/run.py) runs end to end and writes a well-formed report.

At a tiny scale (20k appointments, no Spark) only the shape of the report is checked: which
steps ran, that each has a time and a peak memory, that its own correctness checks passed, and
that the machine is described. Timings are never asserted.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from benchmarks import profile, run
from metrics.params import Params
from metrics.pipeline import engine
from metrics.sample import SampleConfig, generate

STEPS_RUN = ("generate", "compute", "floor", "ordered_floor", "check", "to_csv", "ingest",
             "refresh_setup", "refresh", "monthly_append", "full_rebuild", "refresh_check",
             "dashboard", "pandas")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "RESULTS.md"
    code = run.main(["--scales", "20k", "--pandas-scales", "20k", "--ingest-scale", "20k",
                     "--refresh-scale", "20k", "--repeat", "2", "--out", str(out),
                     "--work-dir", str(tmp / "w")])
    assert code == 0
    return out.read_text()


def table_rows(report: str) -> list[list[str]]:
    """The cells of the Results table, header and rule excluded."""
    section = report.split("## Results", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_rows_are_read_with_k_and_m_suffixes() -> None:
    assert run.parse_rows("20k") == 20_000
    assert run.parse_rows("1.5M") == 1_500_000
    assert run.parse_rows("100M") == 100_000_000
    assert run.label(30_000_000) == "30M" and run.label(20_000) == "20k"
    with pytest.raises(run.BenchmarkError, match="not a number"):
        run.parse_rows("ten")


def test_memory_limits_are_read_as_duckdb_writes_them() -> None:
    assert run.limit_mb("4GB") == 4096 and run.limit_mb("4GiB") == 4096
    assert run.limit_mb("512MB") == 512


def test_a_bad_scale_is_one_line_and_exit_2_and_leaves_no_work_folder(
        capsys: pytest.CaptureFixture[str]) -> None:
    before = set(Path("/tmp").glob("continuity-bench-*"))
    assert run.main(["--scales", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'lots' is not a number") and err.count("\n") == 1
    assert set(Path("/tmp").glob("continuity-bench-*")) == before


def test_repeated_runs_report_the_median_run_with_median_steps_and_the_largest_peak() -> None:
    def compute(seconds: float, peak: float, contacts: float) -> run.Measured:
        return run.Measured("compute", "1M", "duckdb", rows=10, seconds=seconds, peak_mb=peak,
                            extra={"steps": {"contacts": contacts, "upc": 0.1}})

    m = run.median_run([compute(2.3, 400, 0.30), compute(1.9, 450, 0.20), compute(2.0, 420, 0.25)])
    assert (m.seconds, m.peak_mb) == (2.0, 450)
    assert m.extra["steps"] == {"contacts": 0.25, "upc": 0.1}
    assert m.details == {"median of runs (s)": "1.90 / 2.00 / 2.30"}
    # an even count: the lower middle run, a real one, not an average of two
    assert run.median_run([compute(3.0, 1, 0.3), compute(1.0, 1, 0.1)]).seconds == 1.0


def test_a_repeat_below_one_is_one_line_and_exit_2(capsys) -> None:  # noqa: ANN001
    assert run.main(["--scales", "20k", "--repeat", "0"]) == 2
    assert capsys.readouterr().err == "error: --repeat 0: a step runs at least once\n"


def test_a_step_measured_again_replaces_the_earlier_measurement() -> None:
    first = run.Measured("refresh", "1M", "duckdb", seconds=20.0)
    other = run.Measured("compute", "1M", "duckdb", seconds=27.0)
    again = run.Measured("refresh", "1M", "duckdb", seconds=15.0)
    assert run.latest([first, other, again]) == [again, other]


def test_the_page_target_is_judged_on_the_10m_store_whatever_else_was_measured() -> None:
    def pages(scale: str, cold_ms: float) -> run.Measured:
        return run.Measured("dashboard", scale, "duckdb", seconds=1.0,
                            extra={"pages": {"practice": {"cold_ms": cold_ms, "warm_ms": 0.0}}})

    both = run.target_lines([pages("1M", 90.0), pages("10M", 420.0)])
    assert "| each page's queries <= 300 ms (10M) | slowest page cold 420 ms | **not met** |" \
        in both
    assert run.dashboard_lines([pages("1M", 90.0), pages("10M", 420.0)])[::2] == [
        "| page (10M store) | cold (ms) | warm (ms) |", "| practice | 420 | 0 |"]
    small_only = run.target_lines([pages("1M", 90.0)])
    assert "| each page's queries <= 300 ms (1M) | slowest page cold 90 ms | **not met** |" \
        in small_only


def test_a_failing_step_is_reported_not_fatal(tmp_path: Path) -> None:
    result = run.run_child("floor", {"dir": str(tmp_path / "missing")}, tmp_path, timeout=120)
    assert "error" in result and result["process_seconds"] > 0


@pytest.mark.slow
def test_the_report_describes_the_machine(report: str) -> None:
    machine = report.split("## Machine", 1)[1].split("\n## ", 1)[0]
    for item in ("CPU:", "cores (logical): ", "RAM: ", "OS: ", "Python: 3.", "duckdb: ",
                 "polars: ", "pyspark: ", "load average (1 / 5 / 15 min) when this run started"):
        assert item in machine


def test_every_step_has_rows_time_and_peak_memory(report: str) -> None:
    rows = table_rows(report)
    titles = {run.STEP_TITLES[s]: s for s in STEPS_RUN}
    assert {titles[r[0]] for r in rows if r[0] in titles} == set(STEPS_RUN)
    for cells in rows:
        assert len(cells) == 10, cells
        title, _, scale, n, wall, _, cpu, peak, _, notes = cells
        assert scale == "20k"
        assert "failed" not in notes
        assert float(wall.replace(",", "")) >= 0 and float(cpu.replace(",", "")) > 0
        assert float(peak.replace(",", "")) > 50  # a Python process holds at least that
        if titles.get(title) in ("compute", "floor", "ordered_floor", "pandas", "ingest",
                                 "refresh"):
            assert 15_000 < int(n.replace(",", "")) < 25_000


def test_the_ratio_steps_ran_as_often_as_asked_and_the_others_once(report: str) -> None:
    notes = {r[0]: r[9] for r in table_rows(report)}
    for step in run.REPEATED:
        assert re.search(r"median of runs \(s\) [\d.]+ / [\d.]+(;|$)",
                         notes[run.STEP_TITLES[step]]), step
    assert "median of runs" not in notes[run.STEP_TITLES["ingest"]]


def test_the_run_checks_its_own_answers(report: str) -> None:
    notes = {r[0]: r[9] for r in table_rows(report)}
    assert re.search(r"patients checked [1-9]\d*; mismatches 0", notes[run.STEP_TITLES["check"]])
    assert "tables differing 0" in notes[run.STEP_TITLES["refresh_check"]]
    # the product's path (ingest --append) brought the month forward incrementally
    assert "incremental True" in notes[run.STEP_TITLES["monthly_append"]]


def test_ratios_targets_and_pages_are_reported(report: str) -> None:
    assert re.search(r"- pandas / DuckDB at 20k: \*\*[\d.]+x\*\*", report)
    assert re.search(r"- compute / floor at 20k: \*\*[\d.]+\*\*", report)
    assert re.search(r"- one ordered window / floor at 20k: \*\*[\d.]+\*\*", report)
    assert re.search(r"- incremental refresh / full rebuild at 20k: \*\*[\d.]+\*\*", report)
    assert re.search(r"- `ingest --append` of one month / full rebuild at 20k: \*\*[\d.]+\*\*",
                     report)
    assert "| compute / floor <= 3 at 20k |" in report
    pages = report.split("## Dashboard page queries", 1)[1]
    for page in ("overview", "my practice", "networks", "deprivation"):
        assert re.search(rf"\| {page} \| \d+ \| \d+ \|", pages), page
    growth = report.split("## Growth from 1M to 100M", 1)[1].split("\n## ", 1)[0]
    assert "(needs compute at two or more scales)" in growth  # one scale here


def test_the_profile_shows_each_step_and_a_month_step_s_own_query(tmp_path: Path) -> None:
    # benchmarks/profile.py: every pipeline step is profiled, and a step run a month at a time
    # shows the operators of its last month's query, not those of the statement after it.
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in generate(SampleConfig(practices=2, pcns=1, scale=0.01)).items():
        frame.write_parquet(data / f"{name}.parquet")
    steps = profile.profile(data, Params(date(2024, 11, 1), date(2026, 10, 31)), tmp_path)
    assert [s["step"] for s in steps] == list(engine.PIPELINE)
    by_step = {s["step"]: s for s in steps}
    for step in engine.PER_MONTH_STEPS:
        names = {op[0] for op in by_step[step]["operators"]}  # the month's query, not a table
        assert not names & {"PYTHON_ARROW_SCAN", "BATCH_CREATE_TABLE_AS", "CREATE_TABLE_AS"}, names
        assert by_step[step]["rows"] > 0


def test_the_profile_command_writes_its_report(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "PROFILE.md"
    assert profile.main(["--scale", "5k", "--top", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert f"Written by `python -m benchmarks.profile --scale 5k --top 2 --out {out}`" in text
    assert all(f"| {step} | " in text for step in engine.PIPELINE)
    assert text.count("\n### ") == 2  # the two slowest steps, detailed
    assert capsys.readouterr().out == f"written: {out} (5k)\n"
    assert profile.main(["--scale", "lots", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
