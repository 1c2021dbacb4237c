"""Dossiers put through the real pipeline with replayed OCR (no Tesseract), for the fixity and backup tests.

A three-page excerpt of dev-003 (a PDF: original and archive copy) and a two-page TIFF (original, pages PDF
made by the worker, archive copy), so every kind of stored object the records name is there.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.models import Dossier
from archive.runtime import Runtime
from archive.storage import original_key
from ingest import pipeline
from ingest.archive_pdf import archive_pdf_key
from ingest.intake import pages_pdf_key
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import corpus_file, ground_truth, pdf_excerpt, replayed_facts
from tests.ingest.intake_files import multipage_tiff
from tests.ingest.truth_words import facts_words

PDF_CASE, TIFF_CASE = "148/QĐ-XPHC", "7/BB"


@dataclass(frozen=True)
class StoredDossier:
    dossier_id: str
    original_key: str
    archive_pdf_key: str
    pages_pdf_key: str | None


def ingest_samples(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, StoredDossier]:
    """The PDF and the TIFF dossier, processed, in QNI-D1; keyed "pdf" and "tiff"."""
    truth = ground_truth("dev-003")
    excerpt = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 2, 3], tmp_path / "dev-003-excerpt.pdf")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):  # type: ignore[no-untyped-def]
        facts = dataclasses.replace(replayed_facts(truth, page), words=facts_words(truth["pages"][page - 1]))
        if Path(pdf_path).name == "pages.pdf" or "tif" in Path(pdf_path).name:
            return dataclasses.replace(facts, width_px=2480, height_px=3508, rotation=0, words=())
        return facts

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    with excerpt.open("rb") as stream:
        pdf, _ = submit(runtime, queue, stream, "148-QĐ-XPHC.pdf", PDF_CASE, "QNI-D1")
    tiff_bytes = multipage_tiff([(2480, 3508), (2480, 3508)], dpi=300, compression="group4")
    tiff, _ = submit(runtime, queue, io.BytesIO(tiff_bytes), "bien-ban.tif", TIFF_CASE, "QNI-D1")
    stored = {}
    with runtime.sessions() as session:
        for name, dossier_id in (("pdf", pdf.id), ("tiff", tiff.id)):
            dossier = session.scalars(select(Dossier).where(Dossier.id == dossier_id)).one()
            assert dossier.status == "processed" and dossier.archive_pdf_sha256, (name, dossier.error)
            pages_key = pages_pdf_key(dossier.original_sha256)
            stored[name] = StoredDossier(
                dossier_id,
                original_key(dossier.original_sha256),
                archive_pdf_key(dossier.archive_pdf_sha256),
                pages_key if runtime.store.exists(pages_key) else None,
            )
    assert stored["tiff"].pages_pdf_key is not None, "a TIFF's pages are read from the pages PDF made from it"
    return stored


def object_path(runtime: Runtime, key: str) -> Path:
    """The file of a local store's object, made writable so a test can damage it."""
    path = runtime.settings.storage_dir / key
    path.chmod(0o644)
    return path
