"""The cache of downloaded copies behind the S3 store's local_path: kept, shared, evicted least recently used."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from archive.download_cache import STALE_SECONDS, DownloadCache


class Source:
    """Objects by name, counting downloads."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects, self.downloads = objects, 0

    def download(self, name: str):  # type: ignore[no-untyped-def]
        def write(target: Path) -> None:
            self.downloads += 1
            target.write_bytes(self.objects[name])

        return write


def test_a_copy_is_downloaded_once_and_callers_get_their_own_link(tmp_path: Path) -> None:
    cache, source = DownloadCache(tmp_path / "cache"), Source({"a": b"AAAA"})
    with cache.path("a", source.download("a"), ".pdf") as first, cache.path("a", source.download("a")) as second:
        assert first.read_bytes() == second.read_bytes() == b"AAAA" and first != second
        assert first.suffix == ".pdf"
    assert source.downloads == 1 and not first.exists() and not second.exists()


def test_a_failed_download_leaves_nothing(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")

    def fail(target: Path) -> None:
        target.write_bytes(b"half")
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError), cache.path("a", fail):
        pass
    assert list((tmp_path / "cache").iterdir()) == []


def test_least_recently_used_copies_go_first_and_the_newest_stays(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache", max_bytes=10)
    source = Source({"a": b"a" * 4, "b": b"b" * 4, "c": b"c" * 4, "huge": b"h" * 50})
    for name in ("a", "b"):
        with cache.path(name, source.download(name)):
            pass
    old = time.time() - 60
    for copy in (tmp_path / "cache").iterdir():
        os.utime(copy, (old, old))
    with cache.path("a", source.download("a")):  # used again: now the most recent
        pass
    with cache.path("c", source.download("c")):  # 12 bytes > 10: b, the least recently used, goes
        pass
    assert source.downloads == 3
    with cache.path("a", source.download("a")), cache.path("c", source.download("c")):
        pass
    assert source.downloads == 3
    with cache.path("b", source.download("b")):
        pass
    assert source.downloads == 4
    with cache.path("huge", source.download("huge")) as huge:
        assert huge.read_bytes() == b"h" * 50
    assert len(list((tmp_path / "cache").iterdir())) == 1, "only the newest copy, larger than the limit, is kept"


def test_a_copy_evicted_while_in_use_stays_readable(tmp_path: Path) -> None:
    cache, source = DownloadCache(tmp_path / "cache", max_bytes=4), Source({"a": b"a" * 4, "b": b"b" * 4})
    with cache.path("a", source.download("a")) as in_use:
        with cache.path("b", source.download("b")):
            pass  # a is evicted from the cache
        assert in_use.read_bytes() == b"a" * 4
    with cache.path("a", source.download("a")):
        pass
    assert source.downloads == 3


def test_leftovers_of_killed_processes_are_swept(tmp_path: Path) -> None:
    cache, source = DownloadCache(tmp_path / "cache"), Source({"a": b"a"})
    (tmp_path / "cache").mkdir()
    leftovers = [tmp_path / "cache" / "use-dead.pdf", tmp_path / "cache" / "download-dead"]
    for leftover in leftovers:
        leftover.write_bytes(b"x")
        stale = time.time() - STALE_SECONDS - 60
        os.utime(leftover, (stale, stale))
    with cache.path("a", source.download("a")):
        pass
    assert not any(leftover.exists() for leftover in leftovers)
