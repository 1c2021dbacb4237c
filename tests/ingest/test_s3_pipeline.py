"""One dossier through the whole pipeline with the object store on S3 (a real server, ``tests/s3_server.py``):
three pages of a dev dossier, recorded OCR replayed (no Tesseract), the real queue wiring run in-process."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

import archive.runtime
from archive.models import Dossier
from archive.runtime import Runtime
from archive.s3_storage import S3ObjectStore
from archive.storage import original_key
from ingest import pipeline
from ingest.archive_pdf import archive_pdf_key
from ingest.queue import JobQueue
from ingest.submit import submit
from ocr.facts import PageFacts
from tests.conftest import corpus_file, ground_truth, pdf_excerpt, replayed_facts
from tests.s3_server import S3Server

PREFIX = "hoso"


def _bucket_sha256(server: S3Server, bucket: str, key: str) -> str:
    """The SHA-256 of an object as the S3 server hands it out, read with a client of its own."""
    response = server.client().get_object(bucket, f"{PREFIX}/{key}")
    try:
        return hashlib.sha256(response.read()).hexdigest()
    finally:
        response.close()
        response.release_conn()


def test_a_dossier_is_stored_and_processed_on_s3(
    runtime: Runtime,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300) -> PageFacts:
        assert pdf_path.is_file()  # a downloaded copy under HOSO_HOME/tmp
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    on_s3 = Runtime(
        replace(
            runtime.settings,
            storage_url=f"s3://{s3_bucket}/{PREFIX}",
            s3_endpoint=s3_server.endpoint,
            s3_access_key=s3_server.access_key,
            s3_secret_key=s3_server.secret_key,
            s3_region=s3_server.region,
        )
    )
    assert isinstance(on_s3.store, S3ObjectStore)
    monkeypatch.setattr(archive.runtime, "_current", on_s3)  # what the queue's jobs run with
    queue = JobQueue(on_s3.settings)
    queue.huey.immediate = True

    excerpt = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 2, 3], tmp_path / "dev-003-p1-3.pdf")
    with excerpt.open("rb") as stream:
        dossier, created = submit(on_s3, queue, stream, "dev-003-p1-3.pdf", "148/QĐ-XPHC", "QNI-D1")
    assert created

    with on_s3.sessions() as session:
        stored = session.get_one(Dossier, dossier.id)
        assert stored.status == "processed" and stored.page_count == 3
        assert [page.status for page in stored.pages] == ["done", "done", "done"]
        original_sha256, archive_sha256 = stored.original_sha256, stored.archive_pdf_sha256
    assert original_sha256 == hashlib.sha256(excerpt.read_bytes()).hexdigest()
    assert archive_sha256 is not None, "the searchable PDF/A copy was made"
    assert _bucket_sha256(s3_server, s3_bucket, original_key(original_sha256)) == original_sha256
    assert _bucket_sha256(s3_server, s3_bucket, archive_pdf_key(archive_sha256)) == archive_sha256
    assert on_s3.index.search("bien ban", scope="VN/QNI").total >= 1

    source = f"{s3_server.endpoint}/{s3_bucket}/{PREFIX}/"
    local_files = [path for path in on_s3.settings.storage_dir.rglob("*") if path.is_file()]
    assert local_files == [], "nothing went to the local store"
    left = [path.relative_to(on_s3.settings.temp_dir) for path in on_s3.settings.temp_dir.rglob("*") if path.is_file()]
    # What stays is the one kept copy of the original (read by every page job and the archive copy), no temp file.
    assert left == [Path("s3-copies") / hashlib.sha256(f"{source}{original_key(original_sha256)}".encode()).hexdigest()]
    on_s3.engine.dispose()
