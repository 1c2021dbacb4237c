"""Conformance suite of the ObjectStore interface; every backend runs it (the local directory for now)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archive.storage import LocalObjectStore, ObjectStore, StorageError, original_key


@pytest.fixture(params=["local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def _file(tmp_path: Path, content: bytes, name: str = "source.bin") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_put_then_read_back_by_key(store: ObjectStore, tmp_path: Path) -> None:
    source, digest = _file(tmp_path, b"%PDF-1.7 scan" * 1000)
    key = original_key(digest)
    assert not store.exists(key)
    store.put_file(key, source)
    assert store.exists(key)
    with store.open(key) as stream:
        assert stream.read() == source.read_bytes()
    assert store.sha256(key) == digest
    with store.local_path(key) as path:
        assert path.read_bytes() == source.read_bytes()


def test_same_bytes_twice_is_one_object(store: ObjectStore, tmp_path: Path) -> None:
    source, digest = _file(tmp_path, b"same original")
    store.put_file(original_key(digest), source)
    store.put_file(original_key(digest), source)
    assert store.sha256(original_key(digest)) == digest


def test_objects_are_write_once(store: ObjectStore, tmp_path: Path) -> None:
    first, digest = _file(tmp_path, b"first", "a")
    other, _ = _file(tmp_path, b"other bytes", "b")
    key = original_key(digest)
    store.put_file(key, first)
    with pytest.raises(StorageError, match="write-once"):
        store.put_file(key, other)
    assert store.sha256(key) == digest


def test_missing_object_is_a_clear_error(store: ObjectStore) -> None:
    key = original_key("0" * 64)
    with pytest.raises(StorageError, match="not found"):
        store.open(key)
    with pytest.raises(StorageError, match="not found"):
        store.sha256(key)


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", ""])
def test_keys_cannot_leave_the_store(store: ObjectStore, tmp_path: Path, key: str) -> None:
    source, _ = _file(tmp_path, b"x")
    with pytest.raises(StorageError, match="invalid object key"):
        store.put_file(key, source)


def test_original_key_spreads_by_hash_prefix() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert original_key(digest) == f"originals/{digest[:2]}/{digest}"
    with pytest.raises(ValueError):
        original_key("not-a-hash")


def test_local_store_leaves_no_temp_file_and_makes_originals_read_only(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    source, digest = _file(tmp_path, b"original scan")
    store.put_file(original_key(digest), source)
    files = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [digest]
    assert files[0].stat().st_mode & 0o222 == 0
