"""The real server in a real browser: `hoso serve` (with its worker) on a free port of 127.0.0.1 and a fresh
HOSO_HOME made by `hoso init --demo`, driven by Playwright through Debian's chromium.

One server and one browser for the whole session (starting them takes seconds); a fresh browser context per
test: ``page`` signed in as nobody, or ``page_as(username)`` with a session cookie got once per user. Each test
leaves a screenshot of its last screen in ``test-output/browser/<test>.png``. Without chromium (``make test``
installs it) the tests are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, StorageState

from archive.config import Settings
from archive.runtime import Runtime
from tests.browser.helpers import sign_in
from tests.browser.server import CHROMIUM, VIEWPORT, Server, chromium, running_server
from tests.conftest import REPO_ROOT
from tests.databases import empty_database

SCREENSHOTS = REPO_ROOT / "test-output" / "browser"


@pytest.fixture(scope="session")
def served_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """HOSO_HOME of the served instance, and an empty database on the engine under test for `hoso init`."""
    home = tmp_path_factory.mktemp("browser-home")
    with empty_database(home) as database_url:
        yield home, database_url


@pytest.fixture(scope="session")
def server(served_database: tuple[Path, str]) -> Iterator[Server]:
    home, database_url = served_database
    with running_server(home, database_url=database_url) as served:
        yield served


@pytest.fixture(scope="session")
def served_runtime(server: Server) -> Iterator[Runtime]:
    """The served instance's database and index, for planting dossiers without OCR (tests.web.helpers)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("HOSO_")]:
            patch.delenv(name)
        patch.setenv("HOSO_HOME", str(server.home))
        patch.setenv("HOSO_DATABASE_URL", server.database_url)
        runtime = Runtime(Settings.from_env())
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium; `make test` installs it)")
    with chromium() as launched:
        yield launched


def _new_page(
    browser: Browser, server: Server, storage_state: StorageState | None = None, javascript: bool = True
) -> Page:
    context = browser.new_context(
        base_url=server.url,
        viewport=VIEWPORT,
        locale="vi-VN",
        storage_state=storage_state,
        java_script_enabled=javascript,
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def _keep_screenshot(opened: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    opened.context.close()


@pytest.fixture
def page(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context, signed in as nobody."""
    opened = _new_page(browser, server)
    yield opened
    _keep_screenshot(opened, request.node.name)


@pytest.fixture
def page_without_javascript(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """As ``page``, with JavaScript off: what every page must still do with plain HTML forms."""
    opened = _new_page(browser, server, javascript=False)
    yield opened
    _keep_screenshot(opened, request.node.name)


@pytest.fixture(scope="session")
def signed_in_states(browser: Browser, server: Server) -> dict[str, StorageState]:
    """Each demo user's session cookie, got once through the login form, for tests that are not about login."""
    return {}


@pytest.fixture
def page_as(
    browser: Browser, server: Server, signed_in_states: dict[str, StorageState], request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Page]]:
    """``page_as("luutru")``: a browser context already signed in as that user (one login per session)."""
    opened: list[Page] = []

    def open_as(username: str) -> Page:
        if username not in signed_in_states:
            first = _new_page(browser, server)
            sign_in(first, username)
            signed_in_states[username] = first.context.storage_state()
            first.context.close()
        opened.append(_new_page(browser, server, signed_in_states[username]))
        return opened[-1]

    yield open_as
    for number, each in enumerate(opened):
        _keep_screenshot(each, request.node.name + (f"-{number}" if number else ""))
