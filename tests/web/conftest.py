"""An app on a fresh HOSO_HOME with the demo units and users, and a queue that stores page jobs without
running them (no Tesseract anywhere in these tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.config import SETTINGS, Settings
from archive.runtime import Runtime
from archive.web import create_app
from ingest.queue import JobQueue
from tests.web.helpers import MAX_UPLOAD_MB


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Path) -> Iterator[Runtime]:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOSO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOSO_MAX_UPLOAD_MB", str(MAX_UPLOAD_MB))
    settings = Settings.from_env()
    settings.ensure_dirs()
    shutil.copyfile(demo_database, settings.home / "hoso.db")
    runtime = Runtime(settings)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def queue(runtime: Runtime) -> JobQueue:
    return JobQueue(runtime.settings)


@pytest.fixture
def app(runtime: Runtime, queue: JobQueue) -> Flask:
    app = create_app(runtime, queue)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
