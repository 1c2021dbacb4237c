"""Dossier pages and API reads: scope (other units' dossiers do not exist), escaping of OCR text, the verify
contract, progress."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from archive.runtime import Runtime
from tests.web.helpers import login, plant_dossier

SCRIPT = "<script>alert(1)</script>"
COVER = "HỒ SƠ VỤ VIỆC\nMã hồ sơ: LCI-D1-2024-07\nGồm: 2 tờ\nThời hạn bảo quản: 10 năm"


def test_dashboard_lists_only_dossiers_in_scope_newest_first(client: FlaskClient, runtime: Runtime) -> None:
    plant_dossier(runtime, "LCI-D1", "01/LCI", ["trang một"])
    plant_dossier(runtime, "LCI-D2", "02/LCI", ["trang một"])
    plant_dossier(runtime, "QNI-D1", "03/QNI", ["trang một"])
    login(client, "canbo")
    html = client.get("/").get_data(as_text=True)
    assert "01/LCI" in html and "02/LCI" not in html and "03/QNI" not in html
    login(client, "luutru")
    html = client.get("/").get_data(as_text=True)
    assert html.index("02/LCI") < html.index("01/LCI") and "03/QNI" not in html
    assert "1/1" in html and "Đã xử lý" in html


def test_dossier_page_shows_pages_findings_and_cover_with_ocr_text_escaped(
    client: FlaskClient, runtime: Runtime
) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "07/LCI", [COVER, f"Biên bản kiểm tra {SCRIPT}", "x" * 500])
    login(client, "canbo")
    response = client.get(f"/dossiers/{dossier_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "x" * 200 + "…" in html and "x" * 201 not in html
    assert "Biên bản kiểm tra" in html and "93%" in html and "Bìa hồ sơ" in html
    assert "LCI-D1-2024-07" in html  # a cover field
    assert "http-equiv" not in html  # processed: no auto-refresh
    findings = client.get(f"/api/v1/dossiers/{dossier_id}/verify").get_json()["findings"]
    assert findings and "Chưa đạt" in html
    for finding in findings:
        assert finding["message_vi"] in html


def test_other_units_dossiers_answer_404_but_the_national_admin_sees_them(
    client: FlaskClient, runtime: Runtime
) -> None:
    dossier_id = plant_dossier(runtime, "QNI-D1", "09/QNI", ["trang một"])
    login(client, "canbo")
    page = client.get(f"/dossiers/{dossier_id}")
    assert page.status_code == 404
    assert "Không tìm thấy" in page.get_data(as_text=True)
    for path in (f"/api/v1/dossiers/{dossier_id}", f"/api/v1/dossiers/{dossier_id}/verify"):
        response = client.get(path)
        assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
    login(client, "quantri")
    assert client.get(f"/dossiers/{dossier_id}").status_code == 200
    assert client.get(f"/api/v1/dossiers/{dossier_id}").status_code == 200


def test_status_endpoint_reports_progress(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "10/LCI", ["một", "hai"], status="processing")
    login(client, "canbo")
    assert client.get(f"/api/v1/dossiers/{dossier_id}").get_json() == {
        "dossier_id": dossier_id,
        "status": "processing",
        "page_count": 2,
        "pages_done": 2,
        "prior_cases": [],
        "pages_failed": 0,
        "archive_pdf": None,
    }
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "Kết quả kiểm tra sẽ có khi hồ sơ được xử lý xong." in html


def test_verify_endpoint_returns_the_contract(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "11/LCI", [COVER, "Biên bản kiểm tra", "Biên bản"])
    login(client, "canbo")
    report = client.get(f"/api/v1/dossiers/{dossier_id}/verify").get_json()
    assert {"dossier_id", "status", "page_count", "pages", "cover", "findings", "passed"} <= report.keys()
    assert (report["dossier_id"], report["status"], report["page_count"]) == (dossier_id, "processed", 3)
    assert [page["page"] for page in report["pages"]] == [1, 2, 3]
    assert report["cover"]["present"] is True
    assert isinstance(report["passed"], bool)
    for finding in report["findings"]:
        assert {"code", "severity", "pages", "message", "message_vi"} <= finding.keys()


def test_unexpected_errors_show_no_stack_trace(app: Flask, client: FlaskClient) -> None:
    def explode() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", view_func=explode)
    app.add_url_rule("/api/v1/explode", "api_explode", view_func=explode)
    login(client, "canbo")
    page = client.get("/explode")
    assert page.status_code == 500
    assert "Lỗi hệ thống" in page.get_data(as_text=True)
    assert "secret internals" not in page.get_data(as_text=True)
    assert client.get("/api/v1/explode").get_json() == {
        "error": "internal_error",
        "detail": "Internal server error.",
        "message_vi": "Hệ thống gặp lỗi khi xử lý yêu cầu. Lỗi đã được ghi lại; vui lòng thử lại sau.",
        "remedy_vi": "",
    }
