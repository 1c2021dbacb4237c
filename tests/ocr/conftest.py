"""Fixtures for the ocr tests: the dev corpus and its ground truth, and the `ocr` marker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DEV_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "dev"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ocr: runs real Tesseract OCR (slow)")


@pytest.fixture(scope="session")
def dev_corpus() -> Path:
    """The dev corpus folder, or a skip saying it is missing (a checkout without shared/)."""
    if not (DEV_CORPUS / "dev-001.json").exists():
        pytest.skip(f"dev corpus not found at {DEV_CORPUS}")
    return DEV_CORPUS


@pytest.fixture(scope="session")
def ground_truth(dev_corpus: Path) -> list[dict]:
    """The ground-truth JSON of the 12 dev dossiers, in order."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(dev_corpus.glob("dev-*.json"))]
