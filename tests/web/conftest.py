"""An app on a fresh HOSO_HOME with the demo units and users, and a queue that stores page jobs without
running them (no Tesseract anywhere in these tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.config import SETTINGS, Settings
from archive.runtime import Runtime
from archive.web import create_app
from ingest.queue import JobQueue
from tests.databases import Template
from tests.web.helpers import MAX_UPLOAD_MB


@contextmanager
def demo_runtime(home: Path, patch: pytest.MonkeyPatch, demo_database: Template) -> Iterator[Runtime]:
    """A runtime on a fresh HOSO_HOME holding a copy of the demo database, with only the settings set here."""
    for name in SETTINGS:
        patch.delenv(name, raising=False)
    patch.setenv("HOSO_HOME", str(home))
    patch.setenv("HOSO_MAX_UPLOAD_MB", str(MAX_UPLOAD_MB))
    with demo_database.copy(home, patch):
        settings = Settings.from_env()
        settings.ensure_dirs()
        settings.mark_demo()  # the demo accounts: the app may start without HOSO_SECRET_KEY
        runtime = Runtime(settings)
        yield runtime
        runtime.engine.dispose()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Template) -> Iterator[Runtime]:
    with demo_runtime(tmp_path / "home", monkeypatch, demo_database) as runtime:
        yield runtime


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
