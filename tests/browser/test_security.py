"""The Content-Security-Policy in a real browser: the main pages, with their scripts at work, break none of it.

Chromium reports every blocked script, style or image on the console ("Refused to … because it violates the
following Content Security Policy directive"); a ``securitypolicyviolation`` listener reports the same
through the console in case a message is worded otherwise. Any such report fails the test, with the page.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Page, expect

from archive.models import Dossier
from archive.runtime import Runtime
from tests.web.helpers import plant_dossier

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
});
"""
# (who, path): every page with a script of its own, and the main page of each role.
MAIN_PAGES = [
    ("canbo", "/"),
    ("canbo", "/upload"),
    ("canbo", "/search?q=bien+ban+kiem+tra"),
    ("canbo", "/dossiers/{dossier}"),
    ("canbo", "/dossiers/{dossier}?page=2&q=kiem+tra"),
    ("canbo", "/cases/new"),
    ("canbo", "/cases/{case}"),
    ("luutru", "/handover"),
    ("doitruong", "/reports"),
    ("kiemtoan", "/audit"),
    ("quantri", "/admin/users"),
    ("canbo", "/account/tokens"),
]


def _watch(page: Page, reports: list[str]) -> None:
    page.add_init_script(REPORT_VIOLATIONS)

    def keep(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            reports.append(f"{page.url}: {message.text}")

    page.on("console", keep)


def test_no_page_reports_a_content_security_policy_violation(
    page: Page, page_as: Callable[[str], Page], served_runtime: Runtime
) -> None:
    texts = ["HỒ SƠ VỤ VIỆC\nMã hồ sơ: LCI-D1-2024-12", "Biên bản kiểm tra cửa hàng", "Quyết định xử phạt"]
    dossier_id = plant_dossier(served_runtime, "LCI-D1", "42/CSP", texts)
    with served_runtime.sessions() as session:
        case_id = session.get_one(Dossier, dossier_id).case_id
    reports: list[str] = []
    _watch(page, reports)
    response = page.goto("/login")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    opened: dict[str, Page] = {}
    for username, path in MAIN_PAGES:
        if username not in opened:
            opened[username] = page_as(username)
            _watch(opened[username], reports)
        shown = opened[username]
        response = shown.goto(path.format(dossier=dossier_id, case=case_id))
        assert response is not None and response.status == 200, path
        shown.wait_for_load_state("networkidle")
        if path.startswith("/search"):  # the instant search swaps in the server's fragment
            shown.get_by_role("searchbox").fill("quyet dinh xu phat")
            expect(shown.locator("[data-search-results]")).to_contain_text("42/CSP")
        if path.startswith("/dossiers/") and "page=" not in path:  # the viewer fetches a page's text
            shown.locator("[data-viewer-action=rotate]").click()
    assert reports == []
