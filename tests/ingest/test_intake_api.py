"""Intake through the API: uploads are spooled by intake itself while the body is parsed, images and
repaired PDFs are accepted, the same original answers with its dossier, and refusals are 4xx JSON."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import ingest.submit
from archive.runtime import Runtime
from archive.web import create_app
from ingest.intake import Spool
from ingest.queue import JobQueue
from tests.conftest import corpus_file
from tests.ingest.intake_files import assert_nothing_left, multipage_tiff, truncated_pdf
from tests.web.helpers import login


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    app = create_app(runtime, JobQueue(runtime.settings))
    app.config["TESTING"] = True
    client = app.test_client()
    login(client, "canbo")
    return client


def api_upload(client: FlaskClient, content: bytes, name: str = "scan.tif") -> TestResponse:
    data = {"file": (io.BytesIO(content), name), "case_number": "148/QĐ-XPHC", "unit": "LCI-D1"}
    return client.post("/api/v1/dossiers", data=data, content_type="multipart/form-data")


def test_an_upload_is_spooled_by_intake_and_the_same_original_answers_200(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams: list[object] = []
    real_receive = ingest.submit.receive

    def recording_receive(stream: object, *args: Any, **kwargs: Any) -> Any:
        streams.append(stream)
        return real_receive(stream, *args, **kwargs)

    monkeypatch.setattr(ingest.submit, "receive", recording_receive)
    content = multipage_tiff([(200, 300)] * 3)
    first = api_upload(client, content)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["page_count"] == 3 and first.get_json()["created"] is True
    spool = streams[0]
    assert isinstance(spool, Spool) and spool.path.parent == runtime.settings.temp_dir
    again = api_upload(client, content, name="other-name.tiff")
    assert again.status_code == 200
    assert again.get_json() == first.get_json() | {"created": False}
    assert list(runtime.settings.temp_dir.iterdir()) == [], "spools are removed when the request ends"


def test_a_repaired_pdf_is_accepted(client: FlaskClient) -> None:
    response = api_upload(client, truncated_pdf(), name="scan.pdf")
    assert response.status_code == 201 and response.get_json()["page_count"] == 3


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (("real", "ocrmypdf", "hugemono.pdf"), 413, "page_too_large"),
        (("real", "ocrmypdf", "invalid.pdf"), 400, "unreadable_pdf"),
        (b"GIF89a\x01\x00\x01\x00", 415, "unsupported_type"),
    ],
    ids=["bomb", "broken", "gif"],
)
def test_refusals_are_4xx_json_and_leave_nothing(
    client: FlaskClient, runtime: Runtime, content: bytes | tuple[str, ...], status: int, code: str
) -> None:
    """Corpus files are read inside the test, so a checkout without the shared corpus skips them."""
    if isinstance(content, tuple):
        content = corpus_file(*content).read_bytes()
    response = api_upload(client, content)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == code and body["detail"] and body["message_vi"] and body["remedy_vi"]
    assert_nothing_left(runtime)


def test_a_file_over_the_limit_is_refused_while_the_body_is_parsed(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, max_upload_bytes=64 * 1024))
    response = api_upload(client, multipage_tiff([(300, 300)]) + b"\0" * (200 * 1024))
    assert response.status_code == 413 and response.get_json()["error"] == "file_too_large"
    assert_nothing_left(runtime)
