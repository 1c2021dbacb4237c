"""Temp files left by a killed process are swept at start; young ones, and anything else, are kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive import leftovers
from archive.config import Settings


def _file(path: Path, age_seconds: float, now: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    os.utime(path, (now - age_seconds, now - age_seconds))
    return path


def test_only_stale_temp_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOSO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSO_HOME", str(tmp_path / "var"))
    settings = Settings.from_env()
    now = 1_800_000_000.0
    old, young = leftovers.STALE_SECONDS + 60, 30
    stale = [
        _file(settings.temp_dir / "upload-abc", old, now),
        _file(settings.temp_dir / "archive-1.pdf", old, now),
        _file(settings.storage_dir / "originals" / "ab" / ".incoming-x1", old, now),
    ]
    kept = [
        _file(settings.temp_dir / "upload-being-written", young, now),
        _file(settings.storage_dir / "originals" / "ab" / ("ab" + "0" * 62), old, now),
        _file(settings.temp_dir / "s3-copies" / "upload-not-mine", old, now),
        _file(settings.temp_dir / "notes.txt", old, now),
    ]
    removed = leftovers.sweep(settings, now=now)
    assert sorted(removed) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
