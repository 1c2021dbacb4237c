"""Take the README's screenshots of the main pages (docs/screenshots/*.png) from a real server.

Starts `hoso serve` on a fresh demo instance, uploads the first pages of two dev-corpus dossiers through the
upload page and waits until they are read (real OCR: a few minutes), hands one over, then shoots each
page at the 1366×768 of a field laptop. Needs the dev dependencies, chromium and ../shared/corpus/dev.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pikepdf
from playwright.sync_api import Browser, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.browser.helpers import sign_in  # noqa: E402  (the repository root is put on the path first)
from tests.browser.server import VIEWPORT, Server, chromium, running_server  # noqa: E402
from tests.conftest import CORPUS  # noqa: E402

# (dev-corpus file, pages kept, the file name a scanner station would give it)
SCANS = (("dev-009.pdf", 6, "148-QĐ-XPHC.pdf"), ("dev-011.pdf", 4, "27-BB-VPHC.pdf"))
OCR_TIMEOUT_MS = 600_000


def _scans(folder: Path) -> list[Path]:
    made = []
    for source, pages, name in SCANS:
        with pikepdf.open(CORPUS / "dev" / source) as pdf:
            del pdf.pages[pages:]
            pdf.save(folder / name)
        made.append(folder / name)
    return made


def _page_as(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context(base_url=server.url, viewport=VIEWPORT, locale="vi-VN").new_page()
    page.set_default_timeout(30_000)
    sign_in(page, username)
    return page


def _shoot(page: Page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"wrote {out / name}.png", file=sys.stderr)


def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, running_server(Path(work) / "home") as server, chromium() as browser:
        login = browser.new_context(base_url=server.url, viewport=VIEWPORT).new_page()
        login.goto("/login")
        _shoot(login, out, "login")

        team = _page_as(browser, server, "canbo")
        team.goto("/upload")
        team.set_input_files("#upload-file", [str(path) for path in _scans(Path(work))])
        team.get_by_role("button", name="Tải lên", exact=True).click()
        for row in team.locator("#upload-list tbody tr").all():
            expect(row.locator(".upload-status")).to_contain_text("Xong", timeout=OCR_TIMEOUT_MS)
        _shoot(team, out, "upload")

        team.locator("#upload-list tbody tr").first.get_by_role("link", name="Mở hồ sơ").click()
        _shoot(team, out, "dossier")
        dossier_url = team.url
        team.goto(f"{dossier_url}?page=2&q=quyet+dinh+kiem+tra#viewer")
        expect(team.locator("#viewer img")).to_be_visible()
        team.wait_for_load_state("networkidle")  # the page image is rendered on first request
        _shoot(team, out, "dossier-viewer")
        leader = _page_as(browser, server, "doitruong")  # a team leader's submission goes to the archive at once
        leader.goto(dossier_url)
        leader.get_by_label("Giải trình", exact=False).fill("Bìa lập lại sau khi quét; đội đã kiểm đủ bút lục.")
        with leader.expect_navigation():
            leader.get_by_role("button", name="Nộp lưu trữ").click()
        team.goto("/")
        _shoot(team, out, "dashboard")
        team.goto("/search?q=quyet+dinh+kiem+tra")
        _shoot(team, out, "search")

        archivist = _page_as(browser, server, "luutru")
        archivist.goto("/handover")
        _shoot(archivist, out, "handover")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    take(parser.parse_args().out)


if __name__ == "__main__":
    main()
