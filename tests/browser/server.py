"""`hoso serve` for a browser: a fresh HOSO_HOME made by `hoso init --demo`, the server (with its worker) on a
free port of 127.0.0.1, stopped with everything it started. Used by the browser tests and by
``scripts/screenshots.py``, which both drive Debian's chromium through Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}  # the field laptop the UI is made for
START_SECONDS = 60


@dataclass
class Server:
    url: str
    home: Path
    log: Path
    database_url: str = ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hoso serve exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"hoso serve did not answer within {START_SECONDS} s:\n{server.log_tail()}")


@contextmanager
def running_server(home: Path, workers: int = 2, database_url: str = "") -> Iterator[Server]:
    """``database_url``: an empty database for `hoso init --demo` to fill; "" for the default under ``home``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    env |= {"HOSO_HOME": str(home), "HOSO_WORKERS": str(workers)}
    if database_url:
        env["HOSO_DATABASE_URL"] = database_url
    hoso = [sys.executable, "-m", "archive.cli"]
    subprocess.run([*hoso, "init", "--demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = Server(f"http://127.0.0.1:{port}", home, home / "serve.log", database_url)
    with server.log.open("wb") as log:
        # Its own process group: the worker it starts is stopped with it even if serve itself hangs.
        process = subprocess.Popen(
            [*hoso, "serve", "--port", str(port)], env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
