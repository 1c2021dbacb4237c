"""The object store on any S3 server (MinIO, Ceph RADOS Gateway, AWS), through the ``minio`` client.

Same contract as the local directory (``archive/storage.py``): objects are written once under their key
and never replaced with other bytes; every write is checked before ``put_file`` returns. Files travel in
parts both ways, so a 2 GiB original never sits in memory: uploads go as multipart uploads of
``PART_BYTES`` (at most ``PARALLEL_PARTS`` parts in flight), reads as streams.

How a write is checked: before the upload the file is read once locally for its SHA-256 (kept on the object as
``x-amz-meta-sha256``) and for the ETag the server must compute from the bytes it received (the MD5 of a
single PUT, or the MD5 of the parts' MD5s and ``-N`` after a multipart upload). ``stat_object`` then gives the
stored size and ETag; the ETag of the upload response itself is not used, since radosgw 16.2 answers a completed
multipart upload with an empty one. A server whose ETags are not MD5s (AWS with SSE-KMS, encrypted MinIO) is
checked by reading the object back and hashing it. An object that fails the check is removed, never left
holding wrong bytes.

Errors reach callers as ``StorageError`` naming the endpoint and bucket. Wrong keys and a missing bucket are
found on first use, by a one-key listing of the prefix (the right the store needs anyway), and say which
setting to correct. Transient failures (connection resets, 500/502/503/504, 429 SlowDown) are retried by
urllib3 with exponential backoff before they become errors.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import mimetypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.datatypes import Object
from minio.error import MinioException, S3Error
from minio.helpers import DictType
from urllib3.util import Retry, Timeout

from archive.config import Settings
from archive.download_cache import DownloadCache
from archive.storage import CHUNK_BYTES, StorageError, checked_key

log = logging.getLogger(__name__)

PART_BYTES = 16 * 1024 * 1024
PARALLEL_PARTS = 1  # each worker thread of minio keeps its last part: memory grows with parallel parts
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 10_000  # S3's most parts in one upload
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned link may live
SHA256_METADATA = "sha256"
RETRIES = Retry(
    total=5,
    connect=5,
    read=3,
    backoff_factor=0.5,  # the second try at once, then 1, 2, 4 and 8 s later
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,  # every S3 request hoso makes may be sent again (parts and completion included)
    raise_on_status=False,  # the last answer goes to minio, which turns its XML into the S3 error code
    respect_retry_after_header=True,
)
TIMEOUT = Timeout(connect=10, read=300)
_MISSING = ("NoSuchKey", "NoSuchObject", "NotFound")


@dataclass(frozen=True)
class S3Location:
    """Where the objects live: the server's URL as configured, the bucket, and the key prefix (may be empty)."""

    endpoint: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, storage_url: str, endpoint: str) -> S3Location:
        parts = urlsplit(storage_url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"HOSO_STORAGE_URL must look like s3://BUCKET[/PREFIX], not {storage_url!r}")
        return cls(endpoint=endpoint.rstrip("/"), bucket=parts.netloc, prefix=parts.path.strip("/"))

    def name(self, key: str) -> str:
        """The S3 object name of a store key."""
        key = checked_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def __str__(self) -> str:
        return f"bucket {self.bucket!r} on the S3 server {self.endpoint}"


def make_client(endpoint: str, access_key: str, secret_key: str, region: str) -> Minio:
    """A minio client for ``endpoint`` (``http://host:port`` or ``https://…``) whose HTTP pool retries with backoff."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise StorageError(f"HOSO_S3_ENDPOINT must be http://HOST[:PORT] or https://HOST[:PORT], not {endpoint!r}")
    http = urllib3.PoolManager(
        timeout=TIMEOUT,
        retries=RETRIES,
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )
    return Minio(
        parts.netloc,
        access_key=access_key or None,
        secret_key=secret_key or None,
        secure=parts.scheme == "https",
        region=region or None,
        http_client=http,
    )


@dataclass(frozen=True)
class UploadDigest:
    """What a file's upload must produce: its size, SHA-256, the part size used and the ETag S3 computes."""

    size: int
    sha256: str
    part_size: int
    etag: str

    @classmethod
    def of(cls, path: Path, part_bytes: int = PART_BYTES) -> UploadDigest:
        size = path.stat().st_size
        part_size = max(part_bytes, math.ceil(size / MAX_PARTS / MIN_PART_BYTES) * MIN_PART_BYTES)
        sha256, whole, part_md5s = hashlib.sha256(), hashlib.md5(usedforsecurity=False), []
        with path.open("rb") as stream:
            while part := stream.read(part_size):
                sha256.update(part)
                whole.update(part)
                part_md5s.append(hashlib.md5(part, usedforsecurity=False).digest())
        if len(part_md5s) <= 1:  # one PUT: the ETag is the MD5 of the bytes
            etag = whole.hexdigest()
        else:  # multipart: the MD5 of the parts' MD5s, then the part count
            etag = f"{hashlib.md5(b''.join(part_md5s), usedforsecurity=False).hexdigest()}-{len(part_md5s)}"
        return cls(size=size, sha256=sha256.hexdigest(), part_size=part_size, etag=etag)


def _is_md5_etag(etag: str) -> bool:
    digest, _, parts = etag.partition("-")
    return len(digest) == 32 and all(c in "0123456789abcdef" for c in digest) and (not parts or parts.isdigit())


class _ResponseStream(io.RawIOBase):
    """The body of a GET as a file: closing it hands the connection back to the pool; a connection lost
    mid-read is a StorageError like any other failure of the store."""

    def __init__(self, response: Any, what: str):
        self._response, self._what = response, what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return int(self._response.readinto(buffer))
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise StorageError(f"{self._what} stopped: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


class S3ObjectStore:
    """Objects in one bucket, under an optional key prefix; see the module docstring for what is checked."""

    def __init__(
        self, location: S3Location, client: Minio, temp_dir: Path, access_key: str = "", part_bytes: int = PART_BYTES
    ):
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 parts are at least {MIN_PART_BYTES} bytes, not {part_bytes}")
        self.location, self.client, self.temp_dir = location, client, Path(temp_dir)
        self._access_key, self._part_bytes = access_key, part_bytes
        self._copies = DownloadCache(self.temp_dir / "s3-copies")
        self._checked = False
        self._check_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        if not 0 <= settings.s3_presign_seconds <= MAX_PRESIGN_SECONDS:
            raise StorageError(
                f"HOSO_S3_PRESIGN_SECONDS must be 0 to {MAX_PRESIGN_SECONDS}, not {settings.s3_presign_seconds}"
            )
        location = S3Location.parse(settings.storage_url, settings.s3_endpoint)
        client = make_client(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_region)
        return cls(location, client, settings.temp_dir, settings.s3_access_key)

    # -- the ObjectStore protocol ------------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> None:
        name = self.location.name(key)
        self._ready()
        digest = UploadDigest.of(source, self._part_bytes)
        existing = self._stat(name)
        if existing is not None:
            stored = (existing.metadata or {}).get(f"x-amz-meta-{SHA256_METADATA}") or self.sha256(key)
            if stored != digest.sha256:
                raise StorageError(f"object {key} exists with different content; objects are write-once")
            return
        with self._errors(f"storing {key}"), source.open("rb") as stream:
            self.client.put_object(
                self.location.bucket,
                name,
                stream,
                digest.size,
                content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
                metadata={SHA256_METADATA: digest.sha256},
                part_size=digest.part_size,
                num_parallel_uploads=PARALLEL_PARTS,
            )
        self._check_written(key, name, digest)

    def exists(self, key: str) -> bool:
        name = self.location.name(key)
        self._ready()
        return self._stat(name) is not None

    def open(self, key: str) -> BinaryIO:
        return self._get(key)

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        if start < 0 or length < 0:
            raise ValueError(f"a range starts and extends at or past zero, not at {start} for {length}")
        if length == 0:
            if not self.exists(key):
                raise StorageError(f"object {key} not found in {self.location}")
            return io.BytesIO()
        try:
            return self._get(key, start, length)
        except StorageError as error:
            if isinstance(error.__cause__, S3Error) and error.__cause__.code == "InvalidRange":
                return io.BytesIO()  # starts at or past the end, as a file read there gives nothing
            raise

    def presigned_url(
        self, key: str, seconds: int, *, media_type: str | None = None, disposition: str | None = None
    ) -> str:
        if not 0 < seconds <= MAX_PRESIGN_SECONDS:
            limit = MAX_PRESIGN_SECONDS
            raise StorageError(f"a presigned link lives 1 to {limit} s (HOSO_S3_PRESIGN_SECONDS), not {seconds}")
        name = self.location.name(key)
        self._ready()
        response_headers: DictType = {}
        if media_type:
            response_headers["response-content-type"] = media_type
        if disposition:
            response_headers["response-content-disposition"] = disposition
        with self._errors(f"signing a link to {key}"):
            return self.client.presigned_get_object(
                self.location.bucket, name, expires=timedelta(seconds=seconds), response_headers=response_headers
            )

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """A copy on this machine (``archive/download_cache.py``), checked against the SHA-256 stored with the
        object; the path is the caller's until the block ends."""
        name = self.location.name(key)

        def download(target: Path) -> None:
            digest, response = hashlib.sha256(), self._response(key)
            expected = response.headers.get(f"x-amz-meta-{SHA256_METADATA}")
            with self._stream(key, response) as stream, target.open("wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
            if expected and digest.hexdigest() != expected:
                raise StorageError(f"object {key} read from {self.location} does not match its SHA-256 {expected}")

        source = f"{self.location.endpoint}/{self.location.bucket}/{name}"
        with self._copies.path(source, download, suffix=Path(key).suffix) as path:
            yield path

    def sha256(self, key: str) -> str:
        """Hashed from the bytes read back, never from the metadata: what fixity checks rely on."""
        digest = hashlib.sha256()
        with self.open(key) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
        return digest.hexdigest()

    # -- helpers -----------------------------------------------------------------------------------------------

    def _ready(self) -> None:
        """Once per process: are the keys right and is the bucket there? Each has its own message."""
        if self._checked:
            return
        with self._check_lock:
            if self._checked:
                return
            prefix = f"{self.location.prefix}/" if self.location.prefix else None
            with self._errors("listing the bucket"):
                next(iter(self.client.list_objects(self.location.bucket, prefix=prefix)), None)
            self._checked = True

    def _get(self, key: str, start: int = 0, length: int = 0) -> BinaryIO:
        return self._stream(key, self._response(key, start, length))

    def _stream(self, key: str, response: Any) -> BinaryIO:
        return io.BufferedReader(_ResponseStream(response, f"reading {key} from {self.location}"), CHUNK_BYTES)

    def _response(self, key: str, start: int = 0, length: int = 0) -> Any:
        """The streaming answer to a GET of the object (or of ``length`` bytes from ``start``)."""
        name = self.location.name(key)
        self._ready()
        with self._errors(f"reading {key}", key):
            return self.client.get_object(self.location.bucket, name, offset=start, length=length)

    def _stat(self, name: str) -> Object | None:
        try:
            with self._errors(f"looking up {name}"):
                return self.client.stat_object(self.location.bucket, name)
        except StorageError as error:
            if isinstance(error.__cause__, S3Error) and error.__cause__.code in _MISSING:
                return None
            raise

    def _check_written(self, key: str, name: str, digest: UploadDigest) -> None:
        """The stored size and ETag must be what the bytes sent give; else the bytes are read back and hashed."""
        stored = self._stat(name)
        if stored is None:
            raise StorageError(f"object {key} is missing right after it was stored in {self.location}")
        etag = (stored.etag or "").strip('"')
        if stored.size == digest.size and etag == digest.etag:
            return
        if stored.size == digest.size and not _is_md5_etag(etag) and self.sha256(key) == digest.sha256:
            log.info("object %s checked by reading it back (the server's ETag %r is not an MD5)", key, etag)
            return
        with self._errors(f"removing the damaged {key}"):
            self.client.remove_object(self.location.bucket, name)
        raise StorageError(
            f"object {key} stored in {self.location} does not match the file sent "
            f"(size {stored.size} for {digest.size}, ETag {etag!r} for {digest.etag!r}); it was removed"
        )

    @contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """minio and urllib3 failures as one StorageError that says where and, for keys and buckets, what to fix."""
        try:
            yield
        except S3Error as error:
            raise StorageError(self._explain(error, action, key)) from error
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            raise StorageError(f"{action} in {self.location} failed: {type(error).__name__}: {error}") from error

    def _explain(self, error: S3Error, action: str, key: str | None) -> str:
        where, code = self.location, error.code
        if code in _MISSING and key is not None:
            return f"object {key} not found in {where}"
        if code == "NoSuchBucket":
            return f"{where}: the bucket does not exist (NoSuchBucket); create it or correct HOSO_STORAGE_URL"
        if code == "InvalidAccessKeyId":
            return (
                f"{where}: the server does not know the access key {self._access_key!r} (InvalidAccessKeyId); "
                "check HOSO_S3_ACCESS_KEY"
            )
        if code == "SignatureDoesNotMatch":
            return (
                f"{where}: the server refused the secret key of access key {self._access_key!r} "
                "(SignatureDoesNotMatch); check HOSO_S3_SECRET_KEY"
            )
        if code == "AccessDenied":
            return f"{where}: access denied while {action}; the access key needs to list, read and write the bucket"
        return f"{action} in {where} failed: {code}: {error.message or ''}".rstrip(": ")
