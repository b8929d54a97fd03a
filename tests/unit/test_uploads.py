"""Uploaded extracts are patient-level: on disk only while a load reads them, and folders a
killed server left behind are removed by the next load."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from metrics import uploads


def aged(path: Path, seconds: float) -> Path:
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def test_the_folder_goes_when_the_load_ends(tmp_path: Path) -> None:
    with uploads.upload_folder(tmp_path) as folder:
        (folder / "appointments0_a.csv").write_text("patient_id\n943 476 5919\n")
        assert folder.name.startswith(uploads.FOLDER_PREFIX)
        assert oct(folder.stat().st_mode & 0o777) == "0o700"  # the server's user only
    assert list(tmp_path.iterdir()) == []


def test_the_folder_goes_when_the_load_fails(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad extract"), uploads.upload_folder(tmp_path) as folder:
        (folder / "appointments0_a.csv").write_text("patient_id\n943 476 5919\n")
        raise ValueError("bad extract")
    assert list(tmp_path.iterdir()) == []


def test_stale_upload_folders_are_cleaned_when_a_load_starts(tmp_path: Path) -> None:
    stale = tmp_path / f"{uploads.FOLDER_PREFIX}old"
    stale.mkdir()
    (stale / "patients0_p.csv").write_text("patient_id\n943 476 5919\n")
    aged(stale / "patients0_p.csv", 7200)
    aged(stale, 7200)
    busy = tmp_path / f"{uploads.FOLDER_PREFIX}busy"  # another session's load, reading now
    busy.mkdir()
    (busy / "appointments0_a.csv").write_text("x")
    aged(busy, 7200)
    other = tmp_path / "someone-elses"
    other.mkdir()
    aged(other, 7200)
    with uploads.upload_folder(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{uploads.FOLDER_PREFIX}busy",
                                                          "someone-elses"]
