"""Object storage for originals and derived files behind one small interface.

Originals are written once, under their SHA-256, and never modified: ``put_file`` refuses to replace an
existing object with different bytes. The local-directory store writes atomically (temp file, fsync,
rename, fsync of the directory) so a crash leaves either the whole object or nothing. The S3 store
(``archive/s3_storage.py``) keeps the same contract; ``tests/archive/test_storage.py`` runs both.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

CHUNK_BYTES = 1024 * 1024


class StorageError(RuntimeError):
    """An object could not be stored or read as asked."""


class ObjectStore(Protocol):
    def put_file(self, key: str, source: Path) -> None:
        """Store the file at ``source`` under ``key``; a key already holding the same bytes is left as is."""

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the object; the caller closes it."""

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        """A binary stream of at most ``length`` bytes from offset ``start``: fewer at the object's end, none
        past it. For the first bytes of a large object (its type) without fetching the rest of it."""

    def presigned_url(
        self, key: str, seconds: int, *, media_type: str | None = None, disposition: str | None = None
    ) -> str | None:
        """A link that fetches the object straight from the store for ``seconds``, answered with the given
        Content-Type and Content-Disposition; None when the store has no such links (the local directory)."""

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A path on this machine holding the object, for tools that want a file name (pdftoppm)."""

    def sha256(self, key: str) -> str:
        """The SHA-256 of the stored bytes, read back from storage."""


def original_key(sha256: str) -> str:
    """Where an original lives: ``originals/ab/abcdef…``, spread over 256 folders."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
    return f"originals/{sha256[:2]}/{sha256}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def checked_key(key: str) -> str:
    """``key`` as relative POSIX path parts joined by ``/``; refuses keys that could leave the store's root."""
    path = PurePosixPath(key)
    if not key or not path.parts or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise StorageError(f"invalid object key: {key!r}")
    return "/".join(path.parts)


class _Window(io.RawIOBase):
    """At most ``length`` bytes of an open file from where it stands: a ranged read that streams."""

    def __init__(self, stream: BinaryIO, length: int):
        self._stream, self._left = stream, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")[: self._left]
        count = self._stream.readinto(view) if view.nbytes else 0  # type: ignore[attr-defined]
        self._left -= count or 0
        return count or 0

    def close(self) -> None:
        self._stream.close()
        super().close()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalObjectStore:
    """Objects as files under one root directory, keys as relative paths."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*checked_key(key).split("/"))

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        if target.exists():
            if file_sha256(target) != file_sha256(source):
                raise StorageError(f"object {key} exists with different content; objects are write-once")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, CHUNK_BYTES)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp_name, 0o444)
            os.replace(temp_name, target)
            _fsync_dir(target.parent)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as missing:
            raise StorageError(f"object {key} not found") from missing

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        if start < 0 or length < 0:
            raise ValueError(f"a range starts and extends at or past zero, not at {start} for {length}")
        stream = self.open(key)
        stream.seek(start)
        return io.BufferedReader(_Window(stream, length))

    def presigned_url(
        self, key: str, seconds: int, *, media_type: str | None = None, disposition: str | None = None
    ) -> str | None:
        """None: a local directory has no links of its own; the web app sends the file itself."""
        return None

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"object {key} not found")
        yield path

    def sha256(self, key: str) -> str:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"object {key} not found")
        return file_sha256(path)
