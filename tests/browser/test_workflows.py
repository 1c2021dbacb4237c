"""The day's work in a real browser: upload and watch the pages being read, open a finding, search without
diacritics, hand a dossier over to the archive and take it back with a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from playwright.sync_api import Page, expect

from archive.runtime import Runtime
from tests.browser.helpers import blocking_violations, sign_in, sign_out
from tests.conftest import corpus_file
from tests.web.helpers import pdf_bytes, plant_dossier

# Three pages of a dev dossier (cover, then the inspection decision's sheets 1-2): real OCR, kept short.
UPLOAD_SOURCE = ("dev", "dev-009.pdf")
UPLOAD_PAGES = 3
OCR_TIMEOUT_MS = 300_000  # three pages of Tesseract on a busy two-core machine
SEARCH_TEXT = "Biên bản kiểm tra hàng hóa nhập lậu tại cửa hàng Hoàng Long"
# The upload page reports what it shows; a MutationObserver keeps every status text, so the test sees the
# progress that went by, not only the final state.
RECORD_STATUSES = """() => {
  window.seenStatuses = [];
  new MutationObserver(() => {
    document.querySelectorAll("#upload-list .upload-status").forEach((s) => window.seenStatuses.push(s.textContent));
  }).observe(document.getElementById("upload-list"), { subtree: true, childList: true, characterData: true });
}"""
DROP_TEXT_FILE = """() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["ghi chú, không phải bản quét"], "ghi-chu.txt", { type: "text/plain" }));
  const zone = document.getElementById("dropzone");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    """The first pages of a dev dossier, named the way a scanner station names case 148/QĐ-XPHC."""
    source = corpus_file(*UPLOAD_SOURCE)
    target = tmp_path / "148-QĐ-XPHC.pdf"
    with pikepdf.open(source) as pdf:
        del pdf.pages[UPLOAD_PAGES:]
        pdf.save(target)
    return target


def test_upload_shows_progress_then_the_pages_being_read_and_opens_a_finding(page: Page, scan: Path) -> None:
    sign_in(page, "canbo", then="/upload")
    page.set_input_files("#upload-file", str(scan))
    page.evaluate(DROP_TEXT_FILE)
    rows = page.locator("#upload-list tbody tr")
    expect(rows).to_have_count(2)
    scan_row, text_row = rows.nth(0), rows.nth(1)
    expect(scan_row.get_by_role("textbox")).to_have_value("148/QĐ-XPHC")  # read from the file name
    text_row.get_by_role("textbox").fill("149/QĐ-XPHC")
    assert blocking_violations(page) == []  # the rows the script added are labelled too

    page.evaluate(RECORD_STATUSES)
    page.get_by_role("button", name="Tải lên", exact=True).click()

    # The refused file says why in Vietnamese and what to do; the other keeps going.
    expect(text_row).to_contain_text("Tệp không phải là PDF.")
    expect(text_row).to_contain_text("xuất bản quét ra một trong các định dạng này")
    expect(scan_row.locator(".upload-status")).to_contain_text(f"Xong: {UPLOAD_PAGES} trang", timeout=OCR_TIMEOUT_MS)
    expect(scan_row.locator("progress")).to_have_js_property("value", UPLOAD_PAGES)
    seen = page.evaluate("window.seenStatuses")
    assert any(status.startswith("Đang tải lên ") and status.endswith("%") for status in seen), seen
    assert any(re.fullmatch(r"Đang đọc trang \d+/3", status) for status in seen), seen

    scan_row.get_by_role("link", name="Mở hồ sơ").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("148/QĐ-XPHC")
    finding_link = page.locator(".finding-pages a").first
    opened = finding_link.inner_text()
    finding_link.click()
    expect(page).to_have_url(re.compile(rf"page={opened}#viewer$"))
    expect(page.locator("#viewer [data-viewer-number]")).to_have_text(opened)


def test_without_javascript_the_form_uploads_one_file_and_opens_its_dossier(
    page_without_javascript: Page, tmp_path: Path
) -> None:
    page = page_without_javascript
    scan = tmp_path / "blank.pdf"
    scan.write_bytes(pdf_bytes(pages=1, marker="no-javascript"))
    sign_in(page, "canbo", then="/upload")
    page.get_by_label("Tệp bản quét (PDF, TIFF, JPEG, PNG)").set_input_files(str(scan))
    page.get_by_label("Số vụ việc").fill("51/KHONG-JS")
    page.get_by_role("button", name="Tải lên", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dossiers/\w+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("51/KHONG-JS")


def test_search_without_diacritics_finds_the_page_and_opens_the_dossier(page: Page, served_runtime: Runtime) -> None:
    plant_dossier(served_runtime, "LCI-D1", "21/BB-HL", ["HỒ SƠ VỤ VIỆC", SEARCH_TEXT])
    sign_in(page, "canbo", then="/search")
    page.get_by_role("searchbox").or_(page.locator("input[name=q]")).first.fill("hang hoa nhap lau")
    page.keyboard.press("Enter")
    hit = page.locator("a", has_text="21/BB-HL").first
    expect(hit).to_be_visible()
    expect(page.locator("mark").first).to_be_visible()
    hit.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("21/BB-HL")


def _press(page: Page, button: str) -> None:
    """Send a form and wait for the page it leads to (a redirect after the POST)."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def _submit_for_handover(page: Page, dossier_id: str, username: str) -> None:
    sign_in(page, username, then=f"/dossiers/{dossier_id}")
    # The planted dossier does not pass verification (its cover is blank), so the team explains.
    page.get_by_label(re.compile("Giải trình")).fill("Bìa gốc bị rách, đội đã lập lại bìa và nộp kèm.")
    _press(page, "Nộp lưu trữ")


def test_an_officer_proposes_the_team_leader_approves_the_archivist_accepts(
    page: Page, served_runtime: Runtime
) -> None:
    dossier_id = plant_dossier(served_runtime, "LCI-D1", "31/GN", ["HỒ SƠ VỤ VIỆC", "Biên bản kiểm tra"])
    _submit_for_handover(page, dossier_id, "canbo")
    expect(page.locator("#handover")).to_contain_text("Chờ đội trưởng duyệt")
    sign_out(page)

    sign_in(page, "doitruong")
    page.locator(".action-card", has_text="chờ đội trưởng duyệt").get_by_role("link", name="31/GN").click()
    _press(page, "Duyệt, chuyển lưu trữ")
    page.goto(f"/dossiers/{dossier_id}")
    expect(page.locator("#handover")).to_contain_text("Đã nộp, chờ tiếp nhận")
    sign_out(page)

    sign_in(page, "luutru", then="/handover")
    page.get_by_role("link", name="31/GN").click()
    page.get_by_label(re.compile("Thời hạn bảo quản")).fill("10 năm")  # the planted cover does not say
    _press(page, "Tiếp nhận vào lưu trữ")
    expect(page.locator("#handover")).to_contain_text("Đã tiếp nhận vào lưu trữ")


def test_the_archivist_rejects_with_a_reason_the_team_reads_on_its_dashboard(
    page: Page, served_runtime: Runtime
) -> None:
    dossier_id = plant_dossier(served_runtime, "LCI-D1", "32/GN", ["HỒ SƠ VỤ VIỆC", "Biên bản kiểm tra"])
    _submit_for_handover(page, dossier_id, "doitruong")  # a team leader's goes to the archive at once
    expect(page.locator("#handover")).to_contain_text("Đã nộp, chờ tiếp nhận")
    sign_out(page)
    sign_in(page, "luutru", then=f"/dossiers/{dossier_id}")
    page.get_by_label("Lý do trả lại").fill("Thiếu bút lục số 3, đề nghị quét lại.")
    _press(page, "Trả lại hồ sơ")
    expect(page.locator("#handover")).to_contain_text("Bị trả lại")
    sign_out(page)

    sign_in(page, "canbo")
    returned = page.locator(".action-card", has_text="Hồ sơ bị trả lại")
    expect(returned).to_contain_text("32/GN")
    expect(returned).to_contain_text("Thiếu bút lục số 3, đề nghị quét lại.")
