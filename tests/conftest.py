"""Fixtures shared by the whole suite: where the shared corpus is, and a fresh hoso instance per test."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

import archive.runtime
from archive.accounts import install_demo
from archive.db import make_engine, make_sessions, upgrade
from archive.runtime import Runtime, current_runtime
from ocr.facts import PageFacts

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


def corpus_file(*parts: str) -> Path:
    """A file of the shared corpus, or a skip that says it is missing (a checkout without shared/)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus file {path} is not present")
    return path


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the demo users, made once: hashing six Argon2 passwords takes over a second."""
    path = tmp_path_factory.mktemp("template") / "hoso.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessions(engine)() as session:
        install_demo(session)
    engine.dispose()  # checkpoints the WAL, so the one file holds everything
    return path


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Path) -> Iterator[Runtime]:
    """A hoso instance on the embedded defaults in a temp directory, migrated, with the demo units and users."""
    for name in list(os.environ):
        if name.startswith("HOSO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSO_HOME", str(tmp_path / "var"))
    monkeypatch.setattr(archive.runtime, "_current", None)
    instance = current_runtime()
    instance.settings.ensure_dirs()
    shutil.copyfile(demo_database, instance.settings.home / "hoso.db")
    yield instance
    instance.engine.dispose()


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
