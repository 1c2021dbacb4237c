"""A real S3 server for the tests: Ceph RADOS Gateway started on loopback for the session, or the server that
``HOSO_TEST_S3_ENDPOINT`` names.

With ``HOSO_TEST_S3_ENDPOINT`` (and ``HOSO_TEST_S3_ACCESS_KEY`` / ``HOSO_TEST_S3_SECRET_KEY``, optionally
``HOSO_TEST_S3_REGION``) set, the tests use that server and remove the buckets they made. Otherwise the
session starts a throwaway single-node Ceph cluster with ``../shared/scripts/ceph-rgw-start.sh`` (data in
RAM, about 7 s) and stops it with ``ceph-rgw-stop.sh`` at the end. Tests that need S3 are skipped, with the
reason, when neither is possible: the script or a Ceph program is missing (Makefile's APT_PACKAGES installs
them), the session is not root, or the monitor's port 6789 is taken by another cluster.

Loaded for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = REPO_ROOT.parent / "shared" / "scripts"
CEPH_PROGRAMS = (
    "ceph-mon",
    "ceph-osd",
    "radosgw",
    "radosgw-admin",
    "monmaptool",
    "ceph-authtool",
    "ceph",
    "curl",
    "bc",
)
MON_PORT = 6789  # the start script's monitor map only works on the default port
START_TIMEOUT_S = 180
ACCESS_KEY, SECRET_KEY = "hoso-test", "hoso-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:PORT
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Minio:
        host, secure = self.endpoint.split("://", 1)[1], self.endpoint.startswith("https://")
        return Minio(
            host,
            access_key=access_key or self.access_key,
            secret_key=secret_key or self.secret_key,
            secure=secure,
            region=self.region,
        )


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def why_no_gateway() -> str | None:
    """Why this machine cannot start the test gateway, or None when it can."""
    if not (SCRIPTS / "ceph-rgw-start.sh").is_file():
        return f"the S3 test server script {SCRIPTS / 'ceph-rgw-start.sh'} is not present"
    missing = [program for program in CEPH_PROGRAMS if shutil.which(program) is None]
    if missing:
        return f"Ceph RADOS Gateway is not installed (missing {', '.join(missing)}; Makefile's APT_PACKAGES has them)"
    if os.geteuid() != 0:
        return "starting Ceph RADOS Gateway for the S3 tests needs root"
    if _port_taken(MON_PORT):
        return f"127.0.0.1:{MON_PORT} is taken (another Ceph monitor?); set HOSO_TEST_S3_ENDPOINT to use a server"
    return None


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    endpoint = os.environ.get("HOSO_TEST_S3_ENDPOINT", "").strip()
    if endpoint:
        yield S3Server(
            endpoint.rstrip("/"),
            os.environ.get("HOSO_TEST_S3_ACCESS_KEY", ""),
            os.environ.get("HOSO_TEST_S3_SECRET_KEY", ""),
            os.environ.get("HOSO_TEST_S3_REGION", "") or "us-east-1",
        )
        return
    reason = why_no_gateway()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    environment = os.environ | {
        "CEPH_DIR": str(tmp_path_factory.mktemp("ceph-rgw")),
        "RGW_PORT": str(port),
        "MON_PORT": str(MON_PORT),
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "MEMSTORE_BYTES": str(1024**3),
    }
    stop = [str(SCRIPTS / "ceph-rgw-stop.sh")]
    try:
        started = subprocess.run(
            [str(SCRIPTS / "ceph-rgw-start.sh")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        if started.returncode != 0:
            pytest.fail(f"Ceph RADOS Gateway did not start:\n{started.stdout}{started.stderr}")
        yield S3Server(f"http://127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY)
    finally:
        subprocess.run(stop, env=environment, capture_output=True, timeout=60, check=False)


def empty_and_remove(client: Minio, bucket: str) -> None:
    """Delete a test bucket and everything in it (a real server outlives the session)."""
    names = [DeleteObject(item.object_name) for item in client.list_objects(bucket, recursive=True) if item.object_name]
    for error in client.remove_objects(bucket, names):
        raise AssertionError(f"could not remove {error.name} from {bucket}: {error.message}")
    client.remove_bucket(bucket)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A new empty bucket for one test, removed after it."""
    client = s3_server.client()
    bucket = f"hoso-test-{uuid.uuid4().hex[:12]}"
    client.make_bucket(bucket)
    yield bucket
    empty_and_remove(client, bucket)
