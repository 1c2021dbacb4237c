"""Local copies of objects downloaded from a remote store, kept so that one dossier's original is fetched once.

Tools that want a file name (pdftoppm, pikepdf) get the object through ``ObjectStore.local_path``. On S3 that is a
download, and the pipeline asks for it once per page job, once per page image drawn and once for the archive
copy: without a cache a 300-page, 200 MB dossier would cross the network 600 times. Objects are write-once, so
a copy made from a key stays right as long as it is kept.

Copies live in one directory under HOSO_HOME/tmp, named by the SHA-256 of where the object came from. The least
recently used are removed once they hold more than ``max_bytes`` together (the newest is always kept, however
large). Each caller gets a hard link of its own to the copy and the link is removed when the caller is done,
so a copy evicted meanwhile (by this process or another worker) stays readable to whoever is using it; the
directory is shared safely by every process of the machine. Leftovers of killed processes are swept after
``STALE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_BYTES = 2 * 1024**3
STALE_SECONDS = 6 * 3600
_IN_USE = "use-"
_DOWNLOADING = "download-"


class DownloadCache:
    def __init__(self, directory: Path, max_bytes: int = CACHE_BYTES):
        self.directory, self.max_bytes = Path(directory), max_bytes

    @contextmanager
    def path(self, source: str, download: Callable[[Path], None], suffix: str = "") -> Iterator[Path]:
        """A file holding the object that ``source`` names, fetched by ``download(target)`` unless a copy is kept.

        ``source`` must name the object everywhere (server, bucket and key); the file is the caller's until the
        block ends."""
        self.directory.mkdir(parents=True, exist_ok=True)
        kept = self.directory / hashlib.sha256(source.encode()).hexdigest()
        mine = self.directory / f"{_IN_USE}{uuid.uuid4().hex}{suffix}"
        try:
            os.link(kept, mine)
        except FileNotFoundError:
            self._fetch(kept, mine, download)
        else:
            with suppress(FileNotFoundError):
                os.utime(kept)  # recently used: evicted last
        try:
            yield mine
        finally:
            mine.unlink(missing_ok=True)

    def _fetch(self, kept: Path, mine: Path, download: Callable[[Path], None]) -> None:
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=_DOWNLOADING)
        os.close(fd)
        temp = Path(temp_name)
        try:
            download(temp)
            os.replace(temp, mine)
        finally:
            temp.unlink(missing_ok=True)
        with suppress(FileExistsError):  # another process kept the same object first: theirs is as good
            os.link(mine, kept)
        self._evict(keep=kept)

    def _evict(self, keep: Path) -> None:
        """Remove the least recently used copies beyond ``max_bytes``, and stale leftovers of killed processes."""
        now, copies = time.time(), []
        for entry in os.scandir(self.directory):
            with suppress(FileNotFoundError):
                stat = entry.stat()
                if entry.name.startswith((_IN_USE, _DOWNLOADING)):
                    if now - stat.st_mtime > STALE_SECONDS:
                        os.unlink(entry.path)
                elif entry.path != str(keep):
                    copies.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in copies) + (keep.stat().st_size if keep.exists() else 0)
        for _, size, path in sorted(copies):
            if total <= self.max_bytes:
                break
            with suppress(FileNotFoundError):
                os.unlink(path)
                log.debug("evicted the downloaded copy %s (%d bytes)", path, size)
            total -= size
