"""Removing the temp files that a killed process leaves behind.

An upload spooled while it is hashed (``upload-*``), an archive copy being written (``archive-*``), a page image
being drawn (``page-image-*``) and an object being copied into the local store (``.incoming-*``) are renamed or
removed by the process that made them; a SIGKILL or a power cut leaves them. They are never taken for objects
(the database names every object), but they use disk, so `hoso serve` and `hoso worker` sweep them at start.
Only files untouched for ``STALE_SECONDS`` go: another process may be writing a younger one right now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from archive.config import Settings

log = logging.getLogger(__name__)

STALE_SECONDS = 3600.0
TEMP_PREFIXES = ("upload-", "archive-", "page-image-")
INCOMING_PREFIX = ".incoming-"


def _temp_files(settings: Settings) -> Iterator[Path]:
    if settings.temp_dir.is_dir():
        for path in settings.temp_dir.iterdir():
            if path.name.startswith(TEMP_PREFIXES) and path.is_file():
                yield path
    if not settings.storage_url and settings.storage_dir.is_dir():
        yield from (path for path in settings.storage_dir.rglob(f"{INCOMING_PREFIX}*") if path.is_file())


def sweep(settings: Settings, now: float | None = None) -> list[Path]:
    """Remove leftover temp files older than STALE_SECONDS; returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for path in _temp_files(settings):
        try:
            if now - path.stat().st_mtime >= STALE_SECONDS:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # its owner finished with it meanwhile
            continue
    if removed:
        log.info("removed %d temp files left by an interrupted process", len(removed))
    return removed
