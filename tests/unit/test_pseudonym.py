"""Clinician pseudonyms: stable per installation, salted, applied to whatever leaves
the product; the practice's own screen keeps the names."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from metrics import cli, pseudonym, read
from metrics.disclosure import NHS_RULE, NO_CONTROL
from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.params import Params
from metrics.pipeline import build
from tests.builders import PRACTICE, appt, extract

SALT = b"an-installation-salt-for-tests-0001"
OTHER_SALT = b"another-installation-salt-0002"


@pytest.fixture(autouse=True)
def no_salt_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pseudonym.SALT_ENV, raising=False)


def test_the_same_name_gets_the_same_code_and_other_names_others() -> None:
    code = pseudonym.pseudonym("Dr Brown", SALT)
    assert re.fullmatch(r"GP-[0-9A-F]{6}", code)
    assert pseudonym.pseudonym("Dr Brown", SALT) == code
    assert pseudonym.pseudonym("  Dr   Brown ", SALT) == code  # spacing from report exports
    assert pseudonym.pseudonym("Dr Patel", SALT) != code
    assert pseudonym.pseudonym("Dr Brown", SALT, prefix="CL") == "CL-" + code[3:]


def test_the_code_is_a_salted_hmac_never_a_plain_hash_of_the_name() -> None:
    keyed = hmac.new(SALT, b"Dr Brown", hashlib.sha256).hexdigest()[:6].upper()
    plain = hashlib.sha256(b"Dr Brown").hexdigest()[:6].upper()
    assert pseudonym.pseudonym("Dr Brown", SALT) == f"GP-{keyed}"
    assert keyed != plain


def test_another_salt_gives_other_codes() -> None:
    names = ["Dr Brown", "Dr Patel", "Dr Okafor", "Dr Smith"]
    mine = [pseudonym.pseudonym(n, SALT) for n in names]
    theirs = [pseudonym.pseudonym(n, OTHER_SALT) for n in names]
    assert not set(mine) & set(theirs)


def test_the_salt_is_made_once_beside_the_database_for_its_owner_only(tmp_path) -> None:
    db = tmp_path / "data" / "continuity.duckdb"
    first = pseudonym.installation_salt(db)
    path = tmp_path / "data" / "pseudonym.salt"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64  # 32 random bytes from `secrets`, as hex
    assert pseudonym.installation_salt(db) == first
    assert pseudonym.installation_salt(tmp_path / "elsewhere" / "x.duckdb") != first


def test_the_environment_can_give_the_salt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(pseudonym.SALT_ENV, SALT.decode())
    assert pseudonym.installation_salt(tmp_path / "x.duckdb") == SALT
    assert not (tmp_path / "pseudonym.salt").exists()
    monkeypatch.setenv(pseudonym.SALT_ENV, "short")
    with pytest.raises(pseudonym.PseudonymError, match="at least 16 characters"):
        pseudonym.installation_salt(tmp_path / "x.duckdb")


def test_every_clinician_column_is_replaced_and_other_columns_kept() -> None:
    frame = pl.DataFrame({"practice_code": ["A81001", "A81001", "A81001"],
                          "named_gp": ["Dr Brown", "Dr Patel", None],
                          "clinician_id": ["Nurse Jones", "Dr Brown", "Dr Brown"],
                          "slicc": [0.5, 0.25, None]})
    out = pseudonym.pseudonymise(frame, SALT)
    assert out["named_gp"].to_list() == [pseudonym.pseudonym("Dr Brown", SALT),
                                         pseudonym.pseudonym("Dr Patel", SALT), None]
    assert out["clinician_id"].to_list()[1:] == [pseudonym.pseudonym("Dr Brown", SALT, "CL")] * 2
    assert out.select("practice_code", "slicc").equals(frame.select("practice_code", "slicc"))


def test_two_names_sharing_a_code_are_refused_not_merged(monkeypatch) -> None:
    monkeypatch.setattr(pseudonym, "CODE_HEX", 0)  # every code "GP-": a forced clash
    with pytest.raises(pseudonym.PseudonymError, match="share a pseudonym"):
        pseudonym.pseudonymise(pl.DataFrame({"named_gp": ["Dr Brown", "Dr Patel"]}), SALT)


# ---- what leaves the product -----------------------------------------------------------------

NAMES = ("Dr Brown", "Dr Patel")
WINDOW = Params(date(2024, 1, 1), date(2024, 12, 31))


def named_store(tmp_path: Path) -> Path:
    rows, patients = [], []
    for i in range(20):
        gp = NAMES[i % 2]
        patients.append({"patient_id": f"p{i}", "practice_code": PRACTICE, "usual_gp_id": gp})
        rows += [appt(f"p{i}", date(2024, 3, 1 + d), gp) for d in range(3)]
    result = IngestResult(tables=extract(rows, patients), extras={},
                          rejects=pl.DataFrame(schema=REJECT_SCHEMA),
                          report=IngestReport(preset="test"))
    path = tmp_path / "data" / "continuity.duckdb"
    build.rebuild(result, path)
    return path


def test_shared_exports_with_gp_lists_carry_no_raw_name(tmp_path) -> None:
    db = named_store(tmp_path)
    window = ["--start", WINDOW.window_start.isoformat(), "--end", WINDOW.window_end.isoformat()]
    assert cli.main(["export", "--db", str(db), "--out", str(tmp_path / "out"), *window,
                     "--disclosure", NHS_RULE.name, "--include-gp-lists"]) == 0
    paths = sorted((tmp_path / "out").iterdir())
    everything = b"".join(p.read_bytes() for p in paths)
    for name in NAMES:
        assert name.encode() not in everything
    salt = pseudonym.installation_salt(db)
    gp_list = (tmp_path / "out" / "gp_list.csv").read_text()
    assert pseudonym.pseudonym("Dr Brown", salt) in gp_list
    assert pseudonym.pseudonym("Dr Patel", salt) in gp_list
    assert "# pseudonyms: clinician names and ids replaced" in gp_list


def test_dashboard_exports_pseudonymise_and_the_screen_keeps_names(tmp_path, monkeypatch
                                                                   ) -> None:
    db = named_store(tmp_path)
    monkeypatch.setenv(build.DB_ENV, str(db))
    frame = pl.DataFrame({"named_gp": list(NAMES), "slicc": [0.5, 0.75]})
    table = read.Table("practice_A81001_gp_lists", "named-GP lists", frame, "practice",
                          NO_CONTROL, internal=True)
    sel = read.Selection(practice=PRACTICE)
    csv = read.export_csv(table, WINDOW, sel)
    workbook = load_workbook(io.BytesIO(read.export_xlsx(table, WINDOW, sel)))
    cells = [str(c) for row in workbook["data"].iter_rows(values_only=True) for c in row]
    salt = pseudonym.installation_salt(db)
    for name in NAMES:
        assert name.encode() not in csv
        assert name not in cells
        assert pseudonym.pseudonym(name, salt) in cells
    assert table.frame["named_gp"].to_list() == list(NAMES)  # what the own view shows


def test_a_per_gp_table_names_no_one_in_cells_header_or_file_names(tmp_path,
                                                                   monkeypatch) -> None:
    import zipfile

    monkeypatch.setenv(build.DB_ENV, str(tmp_path / "continuity.duckdb"))
    frame = pl.DataFrame({"label": ["Dr Brown", "Dr Brown"],
                          "usual_gp_id": ["Dr Brown", "Dr Brown"],
                          "month": [date(2024, 3, 1), date(2024, 4, 1)],
                          "slicc": [0.5, 0.6]})
    table = read.Table(f"practice_{PRACTICE}_list_Dr Brown_slicc_monthly",
                          f"{PRACTICE}: monthly SLICC of Dr Brown's list", frame,
                          f"practice {PRACTICE}, named-GP list Dr Brown (internal use only)",
                          NO_CONTROL, internal=True)
    sel = read.Selection(practice=PRACTICE)
    code = pseudonym.pseudonym("Dr Brown", pseudonym.installation_salt())
    csv = read.export_csv(table, WINDOW, sel).decode()
    assert "Dr Brown" not in csv
    assert f"# table: {PRACTICE}: monthly SLICC of {code}'s list" in csv
    assert csv.count(f"{code},{code},") == 2  # label and usual_gp_id cells
    archive = zipfile.ZipFile(io.BytesIO(read.export_zip_of([table], WINDOW, sel)))
    assert archive.namelist() == [f"practice_{PRACTICE}_list_{code}_slicc_monthly.csv"]
    assert read.export_name(table, "xlsx") == (f"practice_{PRACTICE}_list_{code}"
                                                  "_slicc_monthly.xlsx")


def test_a_short_id_is_replaced_only_where_it_stands_alone() -> None:
    codes = {"A": pseudonym.pseudonym("A", SALT)}
    assert pseudonym.scrub("A81001: monthly SLICC of A's list", codes) == (
        f"A81001: monthly SLICC of {codes['A']}'s list")
    assert pseudonym.scrub("practice_A81001_list_A_slicc", codes) == (
        f"practice_A81001_list_{codes['A']}_slicc")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.sample import SampleConfig

    path = tmp_path_factory.mktemp("sample") / "data" / "continuity.duckdb"
    build.ensure_default_store(path, config=SampleConfig(practices=4, pcns=1, scale=0.02))
    return path


def unpacked(data: bytes) -> bytes:
    """An XLSX or ZIP's member names and contents, as one byte string to search."""
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(data))
    return b"".join(n.encode() + archive.read(n) for n in archive.namelist())


def test_no_per_gp_download_or_zip_of_the_sample_store_names_a_clinician(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from metrics.access import Viewer

    monkeypatch.setenv(build.DB_ENV, str(sample_db))
    source = read.open_results(sample_db)
    practice, gps = next((p, ids) for p in read.directory(source)["practice_code"]
                         if (ids := read.gp_list_ids(source, p)))
    own = Viewer(name="partner", role="practice", full_practices=frozenset({practice}),
                 per_gp=True)
    sel = read.Selection(practice=practice)
    for gp in gps:
        options = read.PracticeOptions(series="gp_list", gp_list=gp)
        tables = read.practice_tables(source, sel, own, options)
        per_gp = [t for t in tables.values() if t.internal]
        assert {t.key for t in per_gp} >= {f"practice_{practice}_list_{gp}_rolling_upc_spc",
                                           f"practice_{practice}_list_{gp}_slicc_monthly_spc"}
        leaving = [read.export_csv(t, WINDOW, sel) for t in per_gp]
        leaving += [unpacked(read.export_xlsx(t, WINDOW, sel)) for t in per_gp]
        leaving += [read.export_name(t, s).encode() for t in per_gp for s in ("csv", "xlsx")]
        shared = list({t.key: t for t in read.shareable(list(tables.values()),
                                                           include_internal=True)}.values())
        leaving.append(unpacked(read.export_zip_of(shared, WINDOW, sel)))
        everything = b"\n".join(leaving)
        for named in gps:
            assert named.encode() not in everything, named
        assert pseudonym.pseudonym(gp, pseudonym.installation_salt()).encode() in everything
