"""What the browser tests do again and again: sign in through the form, and ask axe-core about a page."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

PASSWORD = "hoso-demo"
# axe-core's two worst impact levels: a person with a screen reader or the keyboard alone is stuck.
BLOCKING_IMPACTS = ("serious", "critical")


def sign_in(page: Page, username: str, then: str = "/") -> None:
    page.goto(then)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("button", name="Đăng nhập")).to_be_visible()


def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as shown, one line per rule with where it fails."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
