"""Signing in, the layout (skip link, navigation by role), the language switch, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import blocking_violations, sign_in


def test_sign_in_lands_on_the_dashboard_of_the_user_s_team(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    assert blocking_violations(page) == []
    sign_in(page, "canbo")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tổng quan")
    expect(page.get_by_role("banner")).to_contain_text("LCI-D1")
    expect(page.get_by_role("navigation").get_by_role("link", name="Tổng quan")).to_have_attribute(
        "aria-current", "page"
    )
    assert blocking_violations(page) == []


def test_the_keyboard_reaches_the_content_first_through_the_skip_link(page: Page) -> None:
    sign_in(page, "canbo")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Bỏ qua, đến nội dung chính")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_navigation_follows_the_role(page: Page) -> None:
    sign_in(page, "kiemtoan")
    navigation = page.get_by_role("navigation", name="Điều hướng chính")
    expect(navigation.get_by_role("link", name="Nhật ký")).to_be_visible()
    expect(navigation.get_by_role("link", name="Tải lên")).to_have_count(0)  # an auditor does not upload


def test_the_language_switch_turns_the_page_english_and_back(page: Page) -> None:
    sign_in(page, "canbo", then="/upload")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/upload$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a dossier")
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tải hồ sơ lên")
