"""Fixtures shared by the whole suite: where the shared corpus is, and a fresh hoso instance per test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

import archive.runtime
from archive.accounts import install_demo
from archive.runtime import Runtime, current_runtime
from ocr.facts import PageFacts
from tests.databases import Template, empty_database, make_template

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
pytest_plugins = ("tests.s3_server",)  # s3_server, s3_bucket: a real S3 server for the store's tests


def corpus_file(*parts: str) -> Path:
    """A file of the shared corpus, or a skip that says it is missing (a checkout without shared/)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus file {path} is not present")
    return path


# The fixtures that give a test hoso's database; a test using one is marked ``database``, and `make test` runs
# those a second time on PostgreSQL (``-m database`` with HOSO_TEST_DATABASE_URL, tests/databases.py).
DATABASE_FIXTURES = ("demo_database", "empty_database_url", "served_database")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in DATABASE_FIXTURES):
            item.add_marker(pytest.mark.database)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """A migrated database with the demo users, made once: hashing six Argon2 passwords takes over a second.

    On SQLite, or on PostgreSQL when HOSO_TEST_DATABASE_URL is set (tests/databases.py)."""
    template = make_template(tmp_path_factory.mktemp("template"), install_demo)
    yield template
    template.drop()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Template) -> Iterator[Runtime]:
    """A hoso instance on the embedded defaults in a temp directory, migrated, with the demo units and users."""
    for name in list(os.environ):
        if name.startswith("HOSO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSO_HOME", str(tmp_path / "var"))
    monkeypatch.setattr(archive.runtime, "_current", None)
    with demo_database.copy(tmp_path / "var", monkeypatch):
        instance = current_runtime()
        instance.settings.ensure_dirs()
        instance.settings.mark_demo()  # the demo accounts: the app may start without HOSO_SECRET_KEY
        yield instance
        instance.engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet, for `hoso init` or the migrations; on SQLite ``tmp_path/var/hoso.db``."""
    with empty_database(tmp_path / "var") as url:
        yield url


def ground_truth(name: str) -> dict:
    return json.loads(corpus_file("dev", f"{name}.json").read_text(encoding="utf-8"))


def replayed_facts(truth: dict, page: int) -> PageFacts:
    """The facts a perfect OCR would return for a dev-corpus page: recorded truth replayed, no Tesseract."""
    page_truth = truth["pages"][page - 1]
    role = {"back_blank": "blank", "back_text": "document"}.get(page_truth["role"], page_truth["role"])
    doc_type = page_truth["doc_type"] if role == "document" else None
    return PageFacts(
        page=page,
        width_px=page_truth["width_px"],
        height_px=page_truth["height_px"],
        dpi=float(truth["dpi"]),
        rotation=page_truth["rotation"],
        text=page_truth["text"],
        mean_confidence=None if role == "blank" else 0.9,
        words=(),
        blank=role == "blank",
        sheet_number=page_truth["sheet_number"],
        sheet_confidence=None if page_truth["sheet_number"] is None else 0.95,
        role=role,
        doc_type=doc_type,
    )


def pdf_excerpt(source: Path, pages: list[int], target: Path) -> Path:
    """A smaller PDF made of some pages (1-based) of ``source``: tests OCR a few pages, not whole dossiers."""
    with pikepdf.open(source) as pdf, pikepdf.new() as excerpt:
        for page in pages:
            excerpt.pages.append(pdf.pages[page - 1])
        excerpt.save(target)
    return target
