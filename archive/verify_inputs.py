"""Turn what the page readers stored (role, text, the `details` JSON) into the inputs of archive.verify.

The rules in archive/verify.py take typed facts; the readers in ocr/ store a page's extra findings as a
JSON dict (ocr/details.py). This module is the one place that knows both shapes, so the ingest pipeline,
the fast check at the scanner and the benchmark build the same cover, contents and closing facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archive.verify import ClosingFact, ContentsEntry, ContentsFact, CoverFact, DossierContext
from ocr.cover import read_cover_fields


@dataclass(frozen=True)
class ReadPage:
    """One page as the readers left it: enough to find the cover, contents and closing facts."""

    page: int
    role: str | None
    text: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


def document_reference(details: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(number, ISO date) the header of a document's first page gave, if any."""
    document = (details or {}).get("document") or {}
    return document.get("number"), document.get("date")


def cover_fact(pages: Sequence[ReadPage]) -> CoverFact | None:
    """The first cover page's fields: as read with the image when stored, else read again from its text."""
    cover = next((page for page in sorted(pages, key=lambda p: p.page) if page.role == "cover"), None)
    if cover is None:
        return None
    fields = cover.details.get("cover")
    return CoverFact(page=cover.page, fields=dict(fields) if fields else read_cover_fields(cover.text))


def dossier_context(pages: Sequence[ReadPage], uploaded_at: datetime | None = None) -> DossierContext:
    """The table of contents (all its pages, in order), the first closing certificate, the upload time."""
    ordered = sorted(pages, key=lambda p: p.page)
    toc_pages = [page for page in ordered if page.role == "toc"]
    contents = None
    if toc_pages:
        entries = tuple(
            ContentsEntry(doc_type=row.get("doc_type"), number=row.get("number"), sheets=row.get("sheets"))
            for page in toc_pages
            for row in page.details.get("contents") or []
        )
        contents = ContentsFact(page=toc_pages[0].page, entries=entries)
    closing_page = next((page for page in ordered if page.role == "closing"), None)
    closing = None
    if closing_page is not None:
        declared = closing_page.details.get("closing") or {}
        closing = ClosingFact(
            page=closing_page.page,
            sheet_count=declared.get("sheet_count"),
            duplicates=tuple(declared.get("duplicates") or ()) + tuple(declared.get("inserted") or ()),
            skipped=tuple(declared.get("skipped") or ()),
        )
    if uploaded_at is not None and uploaded_at.tzinfo is None:
        # SQLite hands back naive datetimes; hoso stores UTC.
        uploaded_at = uploaded_at.replace(tzinfo=UTC)
    return DossierContext(contents=contents, closing=closing, uploaded_at=uploaded_at)
