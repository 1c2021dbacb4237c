"""axe-core on every main page, as the person who uses it: no serious or critical violation.

A failure lists each rule with the elements it fails on; the screenshot of the page is in
test-output/browser/.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from archive.models import Dossier
from archive.runtime import Runtime
from tests.browser.helpers import blocking_violations
from tests.web.helpers import plant_dossier

# (who, path); "{dossier}" is a dossier of the officer's team with pages, findings and a search hit.
PAGES = [
    ("canbo", "/"),
    ("canbo", "/upload"),
    ("canbo", "/search?q=bien+ban+kiem+tra"),
    ("canbo", "/dossiers/{dossier}"),
    ("canbo", "/dossiers/{dossier}?page=2"),
    ("luutru", "/handover"),
    ("doitruong", "/handover"),
    ("canbo", "/cases"),
    ("canbo", "/cases/new"),
    ("canbo", "/cases/{case}"),
    ("canbo", "/cases/{case}/edit"),
    ("canbo", "/cases/{case}/upload"),
    ("doitruong", "/reports"),
    ("luutru", "/reports/retention"),
    ("kiemtoan", "/audit"),
    ("quantri", "/admin/users"),
    ("quantri", "/admin/units"),
    ("canbo", "/account/tokens"),
    ("canbo", "/account/password"),
]


@pytest.fixture(scope="module")
def dossier_id(served_runtime: Runtime) -> str:
    texts = ["HỒ SƠ VỤ VIỆC\nMã hồ sơ: LCI-D1-2024-11", "Biên bản kiểm tra cửa hàng", "Quyết định xử phạt"]
    return plant_dossier(served_runtime, "LCI-D1", "41/AXE", texts)


@pytest.fixture(scope="module")
def case_id(served_runtime: Runtime, dossier_id: str) -> int:
    with served_runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        return dossier.case_id


def test_the_login_page_passes_axe(page: Page) -> None:
    page.goto("/login")
    assert blocking_violations(page) == []


@pytest.mark.parametrize(("username", "path"), PAGES, ids=[f"{user}:{path}" for user, path in PAGES])
def test_the_page_passes_axe(
    page_as: Callable[[str], Page], dossier_id: str, case_id: int, username: str, path: str
) -> None:
    page = page_as(username)
    response = page.goto(path.format(dossier=dossier_id, case=case_id))
    assert response is not None and response.status == 200, page.url
    assert blocking_violations(page) == []
