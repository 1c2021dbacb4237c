"""Conformance suite of the ObjectStore interface: every backend runs it (the local directory, and S3 on a real
server from ``tests/s3_server.py``), then what only one backend has: the local store's files, the S3 store's
write check, retries, presigned links and its messages for wrong keys and a missing bucket."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import tracemalloc
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from archive.config import Settings
from archive.runtime import Runtime
from archive.s3_storage import MIN_PART_BYTES, S3Location, S3ObjectStore, UploadDigest, make_client
from archive.storage import LocalObjectStore, ObjectStore, StorageError, original_key
from tests.s3_server import S3Server

LARGE_BYTES = 40 * 1024 * 1024  # eight parts of the test stores' 5 MiB
PREFIX = "hoso/test"


def s3_store(server: S3Server, bucket: str, temp_dir: Path, **credentials: str) -> S3ObjectStore:
    """A store on the test server in ``bucket`` under PREFIX, with 5 MiB parts so 20 MiB is a multipart upload."""
    client = make_client(
        server.endpoint,
        credentials.get("access_key", server.access_key),
        credentials.get("secret_key", server.secret_key),
        server.region,
    )
    location = S3Location.parse(f"s3://{bucket}/{PREFIX}", server.endpoint)
    return S3ObjectStore(location, client, temp_dir, server.access_key, part_bytes=MIN_PART_BYTES)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    server: S3Server = request.getfixturevalue("s3_server")
    return s3_store(server, request.getfixturevalue("s3_bucket"), tmp_path / "tmp")


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


def test_ranged_reads_stop_at_the_end(store: ObjectStore, tmp_path: Path) -> None:
    content = bytes(range(256)) * 40
    source, digest = _file(tmp_path, content)
    key = original_key(digest)
    store.put_file(key, source)
    for start, length in [(0, 16), (100, 1000), (len(content) - 5, 5), (len(content) - 5, 100), (7, 0)]:
        with store.open_range(key, start, length) as stream:
            assert stream.read() == content[start : start + length], (start, length)
    for start in (len(content), len(content) + 10):
        with store.open_range(key, start, 10) as stream:
            assert stream.read() == b""
    with pytest.raises(ValueError):
        store.open_range(key, -1, 10)
    for length in (10, 0):
        with pytest.raises(StorageError, match="not found"):
            store.open_range(original_key("1" * 64), 0, length)


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


def test_a_large_file_is_streamed_not_held_in_memory(store: ObjectStore, tmp_path: Path) -> None:
    """40 MiB in (eight 5 MiB parts on S3: a multipart upload) and out again, with a few parts at most in memory."""
    source, digest = _file(tmp_path, os.urandom(LARGE_BYTES), "large.bin")
    key = f"derived/{digest[:2]}/{digest}/large.bin"
    tracemalloc.start()
    try:
        store.put_file(key, source)
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert store.sha256(key) == digest
        with store.local_path(key) as copy:
            assert copy.stat().st_size == LARGE_BYTES
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert put_peak < 3 * MIN_PART_BYTES, f"{put_peak / 2**20:.1f} MiB held while storing {LARGE_BYTES / 2**20} MiB"
    assert read_peak < 8 * 1024 * 1024, f"{read_peak / 2**20:.1f} MiB held while reading it back"


def test_missing_object_is_a_clear_error(store: ObjectStore) -> None:
    key = original_key("0" * 64)
    assert not store.exists(key)
    with pytest.raises(StorageError, match="not found"):
        store.open(key)
    with pytest.raises(StorageError, match="not found"):
        store.sha256(key)
    with pytest.raises(StorageError, match="not found"), store.local_path(key):
        pass


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


# -- the local directory -----------------------------------------------------------------------------------------


def test_local_store_leaves_no_temp_file_and_makes_originals_read_only(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    source, digest = _file(tmp_path, b"original scan")
    store.put_file(original_key(digest), source)
    files = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [digest]
    assert files[0].stat().st_mode & 0o222 == 0


def test_local_store_has_no_presigned_links(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    source, digest = _file(tmp_path, b"original scan")
    store.put_file(original_key(digest), source)
    assert store.presigned_url(original_key(digest), 300) is None


# -- S3 only -----------------------------------------------------------------------------------------------------


@pytest.fixture
def s3(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> S3ObjectStore:
    return s3_store(s3_server, s3_bucket, tmp_path / "tmp")


def test_s3_objects_live_under_the_prefix_with_their_sha256(
    s3: S3ObjectStore, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    source, digest = _file(tmp_path, os.urandom(MIN_PART_BYTES * 2 + 1000))
    s3.put_file(original_key(digest), source)
    stat = s3_server.client().stat_object(s3_bucket, f"{PREFIX}/{original_key(digest)}")
    assert stat.size == source.stat().st_size
    assert stat.metadata["x-amz-meta-sha256"] == digest
    assert stat.etag == UploadDigest.of(source, MIN_PART_BYTES).etag and stat.etag.endswith("-3")


def test_s3_local_path_is_downloaded_once_and_each_callers_link_removed_after(
    s3: S3ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, digest = _file(tmp_path, b"%PDF-1.7 pages", "pages.pdf")
    key = f"derived/{digest[:2]}/{digest}/pages.pdf"
    s3.put_file(key, source)
    downloads = []
    get_object = s3.client.get_object
    monkeypatch.setattr(s3.client, "get_object", lambda *args, **kw: downloads.append(args) or get_object(*args, **kw))
    with s3.local_path(key) as first, s3.local_path(key) as second:
        assert first != second and first.parent == second.parent == tmp_path / "tmp" / "s3-copies"
        assert first.suffix == ".pdf" and first.read_bytes() == second.read_bytes() == b"%PDF-1.7 pages"
    with s3.local_path(key) as third:
        assert third.read_bytes() == b"%PDF-1.7 pages"
    assert len(downloads) == 1, "later callers use the kept copy"
    assert not first.exists() and not second.exists() and not third.exists()
    kept = list((tmp_path / "tmp" / "s3-copies").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == b"%PDF-1.7 pages"


def test_s3_download_that_does_not_match_its_sha256_is_refused_and_not_kept(
    s3: S3ObjectStore, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """An object whose bytes no longer match the SHA-256 stored with it (damaged on the server)."""
    s3_server.client().put_object(
        s3_bucket, f"{PREFIX}/derived/ab/damaged.pdf", io.BytesIO(b"damaged"), 7, metadata={"sha256": "0" * 64}
    )
    with pytest.raises(StorageError, match="does not match its SHA-256"), s3.local_path("derived/ab/damaged.pdf"):
        pass
    assert list((tmp_path / "tmp" / "s3-copies").iterdir()) == []


def test_s3_write_with_damaged_bytes_is_removed_and_refused(
    s3: S3ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes damaged on the way (here: a flipped byte in what the client sends) fail the ETag and SHA-256 check."""
    source, digest = _file(tmp_path, b"original scan " * 100)
    put_object = s3.client.put_object

    def damaging_put(bucket: str, name: str, data, length: int, **options):  # type: ignore[no-untyped-def]
        content = bytearray(data.read())
        content[10] ^= 0xFF
        return put_object(bucket, name, io.BytesIO(bytes(content)), length, **options)

    monkeypatch.setattr(s3.client, "put_object", damaging_put)
    with pytest.raises(StorageError, match="does not match the file sent.*removed"):
        s3.put_file(original_key(digest), source)
    monkeypatch.undo()
    assert not s3.exists(original_key(digest))
    s3.put_file(original_key(digest), source)  # the next try stores it
    assert s3.sha256(original_key(digest)) == digest


def test_s3_presigned_link_serves_the_object_with_the_given_headers(s3: S3ObjectStore, tmp_path: Path) -> None:
    source, digest = _file(tmp_path, b"%PDF-1.7 archive copy")
    key = original_key(digest)
    s3.put_file(key, source)
    disposition = "attachment; filename=\"ho so.pdf\"; filename*=UTF-8''h%E1%BB%93%20s%C6%A1.pdf"
    url = s3.presigned_url(key, 60, media_type="application/pdf", disposition=disposition)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own test server
        assert response.read() == b"%PDF-1.7 archive copy"
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == disposition
    with pytest.raises(StorageError, match="presigned link lives"):
        s3.presigned_url(key, 0)


def test_s3_wrong_secret_key_is_named(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = s3_store(s3_server, s3_bucket, tmp_path, secret_key="not-the-secret")
    with pytest.raises(StorageError, match="SignatureDoesNotMatch.*HOSO_S3_SECRET_KEY") as refused:
        store.exists(original_key("0" * 64))
    assert s3_server.endpoint in str(refused.value) and s3_bucket in str(refused.value)


def test_s3_unknown_access_key_is_named(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = s3_store(s3_server, s3_bucket, tmp_path, access_key="nobody")
    with pytest.raises(StorageError, match="InvalidAccessKeyId.*HOSO_S3_ACCESS_KEY"):
        store.open(original_key("0" * 64))


def test_s3_missing_bucket_is_named(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_store(s3_server, "hoso-no-such-bucket", tmp_path)
    source, digest = _file(tmp_path, b"x")
    with pytest.raises(StorageError, match="'hoso-no-such-bucket'.*does not exist.*HOSO_STORAGE_URL"):
        store.put_file(original_key(digest), source)


class FlakyProxy:
    """Forwards requests to the S3 server, after answering the first ``failures`` with 503 SlowDown.

    The Host header is passed on as sent, so the client's signature (made for the proxy's address) still holds.
    """

    def __init__(self, upstream: str, failures: int):
        self.upstream, self.failures, self.requests = upstream, failures, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                proxy.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.requests <= proxy.failures:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body or None, method=self.command, headers=dict(self.headers)
                )
                try:
                    answer = urllib.request.urlopen(request, timeout=30)  # noqa: S310
                except urllib.error.HTTPError as error:
                    answer = error
                with answer:
                    content = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                            self.send_header(name, value)
                    length = answer.headers["Content-Length"] if self.command == "HEAD" else len(content)
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def flaky_proxy(s3_server: S3Server) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(s3_server.endpoint, failures=2)
    yield proxy
    proxy.server.shutdown()


def test_s3_transient_errors_are_retried(
    flaky_proxy: FlakyProxy, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    through_proxy = S3Server(flaky_proxy.endpoint, s3_server.access_key, s3_server.secret_key, s3_server.region)
    store = s3_store(through_proxy, s3_bucket, tmp_path)
    source, digest = _file(tmp_path, b"stored despite two 503s")
    store.put_file(original_key(digest), source)
    assert store.sha256(original_key(digest)) == digest
    assert flaky_proxy.requests > flaky_proxy.failures


def test_runtime_picks_s3_when_the_storage_url_says_so(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    settings = replace(Settings.from_env(), home=tmp_path, storage_dir=tmp_path / "objects", storage_url="")
    assert isinstance(Runtime(settings).store, LocalObjectStore)
    on_s3 = replace(
        settings,
        storage_url=f"s3://{s3_bucket}/{PREFIX}",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_region=s3_server.region,
    )
    store = Runtime(on_s3).store
    assert isinstance(store, S3ObjectStore) and (store.location.bucket, store.location.prefix) == (s3_bucket, PREFIX)
    assert store.temp_dir == tmp_path / "tmp"
    assert store.exists(original_key("0" * 64)) is False
    with pytest.raises(StorageError, match="s3://BUCKET"):
        Runtime(replace(settings, storage_url="ftp://somewhere")).store  # noqa: B018
    with pytest.raises(StorageError, match="HOSO_S3_PRESIGN_SECONDS must be 0 to 604800"):
        Runtime(replace(on_s3, s3_presign_seconds=8 * 24 * 3600)).store  # noqa: B018
    with pytest.raises(StorageError, match="HOSO_S3_ENDPOINT must be"):
        Runtime(replace(on_s3, s3_endpoint="127.0.0.1:9000")).store  # noqa: B018
