"""Dossier pages and API reads: scope (other units' dossiers do not exist), escaping of OCR text, the verify
contract, progress, the page grid and viewer, findings linking to pages, the original download, the audit trail."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from archive import audit
from archive.models import Dossier, Page
from archive.runtime import Runtime
from archive.storage import file_sha256, original_key
from archive.web.dossier_page import page_tiles
from ingest.pipeline import verification_report
from tests.web.helpers import login, pdf_bytes, plant_dossier

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
    recent = html[html.index('id="recent-title"') :]  # the newest-dossiers table, below the action lists
    assert recent.index("02/LCI") < recent.index("01/LCI") and "03/QNI" not in html
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


def store_original(runtime: Runtime, dossier_id: str, content: bytes, filename: str) -> None:
    """Give a planted dossier a real stored original."""
    source = runtime.settings.temp_dir / "original"
    source.write_bytes(content)
    sha256 = file_sha256(source)
    runtime.store.put_file(original_key(sha256), source)
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        dossier.original_sha256, dossier.original_filename = sha256, filename
        session.commit()


def test_page_grid_shows_each_page_with_its_sheet_and_a_state_in_words(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "12/LCI", [COVER, "Biên bản kiểm tra", "", "Biên bản"])
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        dossier.pages[2].blank, dossier.pages[2].role, dossier.pages[2].sheet_number = True, "blank", None
        dossier.pages[3].status = "failed"
        dossier.verify_report = verification_report(dossier)
        session.commit()
    login(client, "canbo")
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    tiles = re.findall(r'<li class="page-tile state-(\w+)[^"]*" id="page-(\d+)">(.*?)</li>', html, re.S)
    # The cover has blank fields (a finding); the failed page is also in the gap finding, but failed comes first.
    assert [(state, number) for state, number, _ in tiles] == [
        ("finding", "1"),
        ("ok", "2"),
        ("blank", "3"),
        ("failed", "4"),
    ]
    labels = {"finding": "Có lỗi", "ok": "Đạt", "blank": "Trang trắng", "failed": "Không đọc được"}
    for state, number, body in tiles:
        assert f'<span class="page-state state-{state}">{labels[state]}</span>' in body  # never colour alone
        assert 'loading="lazy"' in body
        assert f'src="/dossiers/{dossier_id}/pages/{number}/thumb.png"' in body
        assert f'href="/dossiers/{dossier_id}?page={number}#viewer"' in body
    assert 'alt="Trang 2, bút lục 1"' in tiles[1][2]
    assert 'alt="Trang 3, không có số bút lục"' in tiles[2][2]


def test_page_states_follow_findings_that_need_action() -> None:
    pages = [
        Page(page_number=1, status="done", role="cover", rotation=180, blank=False),
        Page(page_number=2, status="done", role="document", sheet_number="1", blank=False),
        Page(page_number=3, status="pending", blank=False),
    ]
    dossier = Dossier(pages=pages)
    report = {"findings": [{"severity": "info", "pages": [1]}, {"severity": "warning", "pages": [2, 3]}]}
    assert [(tile.number, tile.state) for tile in page_tiles(dossier, report)] == [
        (1, "cover"),  # upside down is information, not something to fix
        (2, "finding"),
        (3, "pending"),
    ]
    assert [tile.state for tile in page_tiles(dossier, None)] == ["cover", "ok", "pending"]


def test_findings_link_to_their_pages_in_the_viewer(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "13/LCI", [COVER, "Biên bản kiểm tra", "Biên bản"])
    login(client, "canbo")
    findings = client.get(f"/api/v1/dossiers/{dossier_id}/verify").get_json()["findings"]
    with_pages = [finding for finding in findings if finding["pages"]]
    assert with_pages
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    section = html[html.index('class="dossier-findings"') : html.index('class="page-grid-section"')]
    for finding in with_pages:
        item = section[section.index(finding["message_vi"]) :].split("</li>", 1)[0]
        for number in finding["pages"]:
            assert f'href="/dossiers/{dossier_id}?page={number}#viewer"' in item
    opened = client.get(f"/dossiers/{dossier_id}?page=2").get_data(as_text=True)
    assert f'src="/dossiers/{dossier_id}/pages/2.png"' in opened
    assert "data-viewer-number>2</span>/3" in opened
    assert f'/dossiers/{dossier_id}?page=1#viewer" ' in opened and f'/dossiers/{dossier_id}?page=3#viewer" ' in opened
    too_far = client.get(f"/dossiers/{dossier_id}?page=99").get_data(as_text=True)
    assert "data-viewer-number>3</span>" in too_far


def test_viewer_marks_search_words_in_escaped_ocr_text(client: FlaskClient, runtime: Runtime) -> None:
    text = f"BIÊN BẢN kiểm tra {SCRIPT} hàng hóa; bien ban"
    dossier_id = plant_dossier(runtime, "LCI-D1", "14/LCI", [COVER, text])
    login(client, "canbo")
    html = client.get(f"/dossiers/{dossier_id}?page=2&q=bien ban script").get_data(as_text=True)
    viewer_text = re.search(r"<pre data-viewer-text[^>]*>(.*?)</pre>", html, re.S).group(1)  # type: ignore[union-attr]
    assert viewer_text == (
        "<mark>BIÊN</mark> <mark>BẢN</mark> kiểm tra &lt;<mark>script</mark>&gt;alert(1)&lt;/"
        "<mark>script</mark>&gt; hàng hóa; <mark>bien</mark> <mark>ban</mark>"
    )
    assert SCRIPT not in html
    assert f'href="/dossiers/{dossier_id}?page=1&amp;q=bien+ban+script#viewer"' in html  # the grid keeps the words

    page = client.get(f"/api/v1/dossiers/{dossier_id}/pages/2?q=bien ban").get_json()
    assert page["text"] == text and page["sheet_number"] == "1" and page["page_count"] == 2
    assert [page["text"][start:end] for start, end in page["marks"]] == ["BIÊN", "BẢN", "bien", "ban"]
    assert page["image"] == f"/dossiers/{dossier_id}/pages/2.png"
    assert client.get(f"/api/v1/dossiers/{dossier_id}/pages/2?q=(bad").get_json()["marks"] == []
    assert client.get(f"/api/v1/dossiers/{dossier_id}/pages/3").status_code == 404


def test_the_original_downloads_under_a_safe_name(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "15/LCI", ["bìa"])
    other = plant_dossier(runtime, "QNI-D1", "15/QNI", ["bìa"])
    content = pdf_bytes(pages=1, marker="original")
    store_original(runtime, dossier_id, content, '..\\scans/Biên bản "07"\r\n.html')
    login(client, "canbo")
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert f'href="/dossiers/{dossier_id}/original"' in html
    response = client.get(f"/dossiers/{dossier_id}/original")
    assert response.status_code == 200 and response.data == content
    assert response.mimetype == "application/pdf"  # what the bytes are, not what the name says
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n%20_07_.html" in disposition
    assert client.get(f"/dossiers/{other}/original").status_code == 404
    missing = plant_dossier(runtime, "LCI-D1", "16/LCI", ["bìa"])  # planted: nothing stored
    assert client.get(f"/dossiers/{missing}/original").status_code == 404


def test_audit_trail_shows_changes_to_readers_and_reads_to_auditors(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "17/LCI", ["bìa"])
    with runtime.sessions() as session:
        reason = f"Thiếu bút lục {SCRIPT}"
        audit.append(session, None, "handover.reject", "dossier", dossier_id, "VN/LCI/LCI-D1", {"reason": reason})
        audit.append(session, None, "handover.submit", "dossier", dossier_id, "VN/QNI", {"note": "elsewhere"})
        session.commit()
    login(client, "canbo")
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    trail = html[html.index('class="dossier-audit"') :]
    assert "Đã trả lại hồ sơ" in trail and "Thiếu bút lục &lt;script&gt;" in trail and SCRIPT not in trail
    assert "elsewhere" not in trail  # an entry about a unit outside the reader's scope
    assert "Lượt xem" not in trail  # who read the dossier is for auditors
    login(client, "kiemtoan")
    trail = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True).split('class="dossier-audit"', 1)[1]
    assert "Lượt xem và tải về: 1" in trail and "canbo" in trail and "elsewhere" in trail


def test_processing_dossier_polls_its_status_and_falls_back_to_a_refresh(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "18/LCI", ["một", "hai"], status="processing")
    login(client, "canbo")
    html = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert f'data-status-url="/api/v1/dossiers/{dossier_id}" data-poll-seconds="3"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert 'src="/static/dossier.js"' in html and 'href="/static/dossier.css"' in html
