"""Downloads with the object store on S3 (a real server, ``tests/s3_server.py``): the original and the archive PDF
answer 302 to a presigned link of HOSO_S3_PRESIGN_SECONDS, audited before the redirect leaves; with links turned
off (0) the app streams them from S3 itself; page images are always sent by the app."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive import audit
from archive.models import AuditEntry, Dossier
from archive.runtime import Runtime
from archive.s3_storage import S3ObjectStore
from archive.storage import file_sha256, original_key
from ingest.archive_pdf import archive_pdf_key
from tests.databases import Template
from tests.s3_server import S3Server
from tests.web.conftest import demo_runtime
from tests.web.helpers import login, pdf_bytes, plant_dossier
from tests.web.test_page_images import store_scan

PRESIGN_SECONDS = 120
UPLOADED_NAME = "Biên bản 07.pdf"


@pytest.fixture
def runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Template, s3_server: S3Server, s3_bucket: str
) -> Iterator[Runtime]:
    """The web tests' runtime with its objects in a fresh bucket, under a prefix."""
    with demo_runtime(tmp_path / "home", monkeypatch, demo_database) as local:
        settings = replace(
            local.settings,
            storage_url=f"s3://{s3_bucket}/archive",
            s3_endpoint=s3_server.endpoint,
            s3_access_key=s3_server.access_key,
            s3_secret_key=s3_server.secret_key,
            s3_region=s3_server.region,
            s3_presign_seconds=PRESIGN_SECONDS,
        )
        runtime = Runtime(settings)
        assert isinstance(runtime.store, S3ObjectStore)
        yield runtime
        runtime.engine.dispose()


def _dossier_with_files(runtime: Runtime, tmp_path: Path) -> tuple[str, bytes, bytes]:
    """A planted dossier with a stored original and archive copy; returns its id and both contents."""
    dossier_id = plant_dossier(runtime, "LCI-D1", "S3/LCI", ["Bìa hồ sơ", "Biên bản"])
    original, archive_copy = pdf_bytes(pages=2, marker="original"), pdf_bytes(pages=2, marker="pdf/a")
    (tmp_path / "original.pdf").write_bytes(original)
    (tmp_path / "archive.pdf").write_bytes(archive_copy)
    original_sha256, archive_sha256 = file_sha256(tmp_path / "original.pdf"), file_sha256(tmp_path / "archive.pdf")
    runtime.store.put_file(original_key(original_sha256), tmp_path / "original.pdf")
    runtime.store.put_file(archive_pdf_key(archive_sha256), tmp_path / "archive.pdf")
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        dossier.original_sha256, dossier.original_filename = original_sha256, UPLOADED_NAME
        dossier.archive_pdf_sha256 = archive_sha256
        session.commit()
    return dossier_id, original, archive_copy


def _downloads(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "dossier.download"))
        return [(entry.target_id, (entry.detail or {})["path"]) for entry in entries]


def _fetch(url: str) -> tuple[bytes, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's own S3 server
        return response.read(), response.headers["Content-Type"], response.headers["Content-Disposition"]


def test_original_and_archive_pdf_redirect_to_presigned_links_after_the_audit(
    client: FlaskClient, runtime: Runtime, s3_server: S3Server, tmp_path: Path
) -> None:
    dossier_id, original, archive_copy = _dossier_with_files(runtime, tmp_path)
    login(client, "canbo")

    response = client.get(f"/dossiers/{dossier_id}/original")
    assert response.status_code == 302
    link = response.headers["Location"]
    assert link.startswith(s3_server.endpoint + "/")
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == [str(PRESIGN_SECONDS)]
    assert "no-store" in response.headers["Cache-Control"]
    content, media_type, disposition = _fetch(link)
    assert content == original and media_type == "application/pdf"
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n%2007.pdf" in disposition

    response = client.get(f"/dossiers/{dossier_id}/archive.pdf")
    assert response.status_code == 302
    content, media_type, disposition = _fetch(response.headers["Location"])
    assert content == archive_copy and media_type == "application/pdf"
    assert disposition == f"inline; filename=hoso-{dossier_id}-pdfa.pdf"  # as send_file words it

    assert _downloads(runtime) == [
        (dossier_id, f"/dossiers/{dossier_id}/original"),
        (dossier_id, f"/dossiers/{dossier_id}/archive.pdf"),
    ]


def test_no_link_leaves_when_the_audit_entry_cannot_be_written(
    app: Flask, client: FlaskClient, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier_id, _, _ = _dossier_with_files(runtime, tmp_path)
    login(client, "canbo")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production, not raised into the test

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "append", refuse)
    response = client.get(f"/dossiers/{dossier_id}/original")
    assert response.status_code == 500 and "Location" not in response.headers


def test_out_of_scope_and_missing_objects_get_no_link(client: FlaskClient, runtime: Runtime, tmp_path: Path) -> None:
    dossier_id, _, _ = _dossier_with_files(runtime, tmp_path)
    login(client, "doitruong")  # LCI-D1's team leader
    other = plant_dossier(runtime, "QNI-D1", "S3/QNI", ["Bìa hồ sơ"])
    assert client.get(f"/dossiers/{other}/original").status_code == 404
    missing = plant_dossier(runtime, "LCI-D1", "S3/LCI-2", ["Bìa hồ sơ"])  # planted: nothing stored
    assert client.get(f"/dossiers/{missing}/original").status_code == 404
    with runtime.sessions() as session:
        session.get_one(Dossier, missing).archive_pdf_sha256 = "f" * 64
        session.commit()
    response = client.get(f"/dossiers/{missing}/archive.pdf")
    assert response.status_code == 404 and "Location" not in response.headers
    assert client.get(f"/dossiers/{dossier_id}/archive.pdf").status_code == 302
    assert [target for target, _ in _downloads(runtime)] == [dossier_id]


def test_with_links_off_the_app_streams_the_files_from_s3(
    client: FlaskClient, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier_id, original, archive_copy = _dossier_with_files(runtime, tmp_path)
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, s3_presign_seconds=0))
    login(client, "canbo")
    response = client.get(f"/dossiers/{dossier_id}/original")
    assert (response.status_code, response.data, response.mimetype) == (200, original, "application/pdf")
    response = client.get(f"/dossiers/{dossier_id}/archive.pdf")
    assert (response.status_code, response.data) == (200, archive_copy)
    assert len(_downloads(runtime)) == 2


def test_page_images_are_sent_by_the_app(client: FlaskClient, runtime: Runtime, tmp_path: Path) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "S3/IMG", ["Bìa hồ sơ", "Biên bản"])
    store_scan(runtime, tmp_path, dossier_id)
    login(client, "canbo")
    response = client.get(f"/dossiers/{dossier_id}/pages/2/thumb.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
