"""Uploads through the form and the API: accepted files become dossiers with queued pages; refused files
leave nothing behind and say why in Vietnamese (form) or with a code (API)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from archive.accounts import add_user
from archive.models import Dossier, Page
from archive.runtime import Runtime
from ingest.queue import JobQueue
from tests.web.helpers import MAX_UPLOAD_MB, csrf_token, login, pdf_bytes

ENCRYPTED_PDF = Path("/work/shared/corpus/real/py-pdf-sample-files/libreoffice-writer-password.pdf")


def form_upload(client: FlaskClient, content: bytes, filename: str = "hoso.pdf", unit: str = "LCI-D1") -> TestResponse:
    data = {
        "file": (io.BytesIO(content), filename),
        "case_number": "12/QĐ-KT",
        "unit": unit,
        "csrf_token": csrf_token(client, "/upload"),
    }
    return client.post("/upload", data=data, content_type="multipart/form-data")


def api_upload(client: FlaskClient, content: bytes, unit: str = "LCI-D1") -> TestResponse:
    data = {"file": (io.BytesIO(content), "hoso.pdf"), "case_number": "12/QĐ-KT", "unit": unit}
    return client.post("/api/v1/dossiers", data=data, content_type="multipart/form-data")


def dossier_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Dossier)) or 0


def assert_nothing_left_behind(runtime: Runtime) -> None:
    assert dossier_count(runtime) == 0
    assert [path for path in runtime.settings.storage_dir.rglob("*") if path.is_file()] == []
    assert list(runtime.settings.temp_dir.iterdir()) == []


def test_upload_form_creates_a_dossier_and_queues_its_pages(
    client: FlaskClient, runtime: Runtime, queue: JobQueue
) -> None:
    login(client, "canbo")
    response = form_upload(client, pdf_bytes(pages=3))
    assert response.status_code == 302
    dossier_id = response.headers["Location"].rsplit("/", 1)[1]
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        assert (dossier.page_count, dossier.case.case_number, dossier.case.unit.code) == (3, "12/QĐ-KT", "LCI-D1")
        assert [page.status for page in dossier.pages] == ["pending"] * 3
    assert queue.huey.pending_count() == 3
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in page.get_data(as_text=True)


def add_uploader(runtime: Runtime, username: str, unit_code: str) -> None:
    """An officer placed at ``unit_code``: only officers and team leaders upload (docs/access.md)."""
    with runtime.sessions() as session:
        add_user(session, username, "hoso-demo", "officer", unit_code)
        session.commit()


def test_upload_form_offers_only_units_in_scope(client: FlaskClient, runtime: Runtime) -> None:
    add_uploader(runtime, "canbo_lci", "LCI")  # an officer of the province office: every LCI team below it
    login(client, "canbo_lci")
    html = client.get("/upload").get_data(as_text=True)
    assert 'value="LCI-D1"' in html and 'value="LCI-D2"' in html
    assert 'value="QNI-D1"' not in html
    assert '<option value="LCI" selected>' in html


def test_api_upload_answers_201_then_200_for_the_same_file(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    content = pdf_bytes(pages=2)
    first = api_upload(client, content)
    assert first.status_code == 201
    body = first.get_json()
    assert body == {"dossier_id": body["dossier_id"], "status": "processing", "page_count": 2, "created": True}
    again = api_upload(client, content)
    assert again.status_code == 200
    assert again.get_json() | {"status": "processing"} == body | {"created": False}
    login(client, "doitruong")
    assert form_upload(client, content).headers["Location"] == f"/dossiers/{body['dossier_id']}"
    assert dossier_count(runtime) == 1


def test_the_same_file_archived_by_another_unit_is_not_revealed(client: FlaskClient, runtime: Runtime) -> None:
    content = pdf_bytes(marker="qni")
    add_uploader(runtime, "canbo_qni", "QNI-D1")
    login(client, "canbo_qni")
    assert api_upload(client, content, unit="QNI-D1").status_code == 201
    login(client, "canbo")
    response = api_upload(client, content)
    assert response.status_code == 409
    assert response.get_json()["error"] == "archived_elsewhere"
    assert "dossier_id" not in response.get_json()


@pytest.mark.parametrize(
    ("content", "code", "status", "message_vi"),
    [
        (b"Hello, this is not a PDF at all.", "unsupported_type", 415, "Tệp không phải là PDF."),
        (b"", "empty_file", 400, "Tệp tải lên rỗng (0 byte)."),
    ],
)
def test_refused_files_leave_nothing_behind(
    client: FlaskClient, runtime: Runtime, content: bytes, code: str, status: int, message_vi: str
) -> None:
    login(client, "canbo")
    page = form_upload(client, content)
    assert page.status_code == status
    html = page.get_data(as_text=True)
    assert message_vi in html and code in html
    assert 'value="12/QĐ-KT"' in html  # the form keeps what was typed
    response = api_upload(client, content)
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert response.get_json()["detail"]
    assert_nothing_left_behind(runtime)


def test_an_encrypted_pdf_is_refused_with_the_remedy(client: FlaskClient, runtime: Runtime) -> None:
    if not ENCRYPTED_PDF.exists():
        pytest.skip("encrypted sample PDF not available")
    login(client, "canbo")
    page = form_upload(client, ENCRYPTED_PDF.read_bytes())
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Tệp PDF được đặt mật khẩu." in html and "qpdf" in html
    assert api_upload(client, ENCRYPTED_PDF.read_bytes()).get_json()["error"] == "encrypted_pdf"
    assert_nothing_left_behind(runtime)


@pytest.mark.parametrize("megabytes", [1.5, 3], ids=["caught-by-intake", "caught-by-flask"])
def test_a_file_over_the_limit_is_refused_413(client: FlaskClient, runtime: Runtime, megabytes: float) -> None:
    login(client, "canbo")
    too_big = b"%PDF-1.7\n" + b"0" * int(MAX_UPLOAD_MB * 1024 * 1024 * megabytes)
    response = api_upload(client, too_big)
    assert response.status_code == 413
    assert response.get_json()["error"] == "file_too_large"
    page = form_upload(client, too_big)
    assert page.status_code == 413
    assert "Tệp vượt quá dung lượng cho phép." in page.get_data(as_text=True)
    assert_nothing_left_behind(runtime)


def test_a_missing_case_number_or_file_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    response = client.post("/api/v1/dossiers", data={"case_number": "1", "unit": "LCI-D1"})
    assert (response.status_code, response.get_json()["error"]) == (400, "missing_file")
    data = {"file": (io.BytesIO(pdf_bytes()), "a.pdf"), "case_number": " ", "unit": "LCI-D1"}
    response = client.post("/api/v1/dossiers", data=data, content_type="multipart/form-data")
    assert response.get_json()["error"] == "missing_case_number"
    assert_nothing_left_behind(runtime)


def test_uploads_for_units_out_of_scope_are_forbidden(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    for unit in ("QNI-D1", "LCI", "VN"):
        response = api_upload(client, pdf_bytes(), unit=unit)
        assert (response.status_code, response.get_json()["error"]) == (403, "unit_out_of_scope")
    page = form_upload(client, pdf_bytes(), unit="QNI-D1")
    assert page.status_code == 403
    assert "Bạn không có quyền tải hồ sơ lên cho đơn vị này." in page.get_data(as_text=True)
    assert api_upload(client, pdf_bytes(), unit="NOPE").get_json()["error"] == "unknown_unit"
    assert_nothing_left_behind(runtime)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Page)) == 0


def test_an_api_upload_without_a_unit_goes_to_the_uploaders_own_team(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")  # an officer of LCI-D1
    response = api_upload(client, pdf_bytes(), unit="")
    assert response.status_code == 201
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, response.get_json()["dossier_id"])
        assert dossier.case.unit.code == "LCI-D1"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    add_uploader(runtime, "canbo_lci", "LCI")
    login(client, "canbo_lci")  # a province officer has no team of their own: the unit must be named
    assert api_upload(client, pdf_bytes(marker="other"), unit="").get_json()["error"] == "unknown_unit"
