"""Object storage for originals and derived files behind one small interface.

Originals are written once, under their SHA-256, and never modified: ``put_file`` refuses to replace an
existing object with different bytes. The local-directory store writes atomically (temp file, fsync,
rename, fsync of the directory) so a crash leaves either the whole object or nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_BYTES = 1024 * 1024


class StorageError(RuntimeError):
    """An object could not be stored or read as asked."""


class ObjectStore(Protocol):
    def put_file(self, key: str, source: Path) -> None:
        """Store the file at ``source`` under ``key``; a key already holding the same bytes is left as is."""

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the object; the caller closes it."""

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
        parts = Path(key).parts
        if not parts or Path(key).is_absolute() or ".." in parts:
            raise StorageError(f"invalid object key: {key!r}")
        return self.root.joinpath(*parts)

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
