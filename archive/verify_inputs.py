"""Turn what the page readers stored (role, text, the `details` JSON) into the inputs of archive.verify.

The rules in archive/verify.py take typed facts; the readers in ocr/ store a page's extra findings as a
JSON dict (ocr/details.py). This module is the one place that knows both shapes, so the ingest pipeline,
the fast check at the scanner and the benchmark build the same cover, contents and closing facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pikepdf

from archive.verify import (
    VIETNAM_TIME,
    ClosingFact,
    ContentsEntry,
    ContentsFact,
    CoverFact,
    DossierContext,
    PageFact,
)
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


def page_fact(
    page: int,
    *,
    role: str | None,
    blank: bool = False,
    sheet_number: str | None,
    sheet_confidence: float | None,
    rotation: int,
    doc_type: str | None,
    details: Mapping[str, Any] | None,
    dpi: float | None,
    mean_confidence: float | None,
    error_code: str | None = None,
) -> PageFact:
    """The verify input of one page as its reader left it; the one builder the pipeline (stored pages) and
    the benchmark (pages read in memory) share. A page without a role (it failed before classification)
    is a blank page when the blank test said so, else a document page: a sheet nobody could read is
    still a sheet, and `error_code` tells the rules why nothing else is known about it."""
    doc_number, doc_date = document_reference(details)
    return PageFact(
        page=page,
        sheet_number=sheet_number,
        sheet_confidence=sheet_confidence,
        rotation=rotation,
        role=role or ("blank" if blank else "document"),
        doc_type=doc_type,
        doc_number=doc_number,
        doc_date=doc_date,
        dpi=dpi,
        mean_confidence=mean_confidence,
        error_code=error_code,
    )


def cover_fact(pages: Sequence[ReadPage]) -> CoverFact | None:
    """The first cover page's fields: as read with the image when stored, else read again from its text."""
    cover = next((page for page in sorted(pages, key=lambda p: p.page) if page.role == "cover"), None)
    if cover is None:
        return None
    fields = cover.details.get("cover")
    return CoverFact(page=cover.page, fields=dict(fields) if fields else read_cover_fields(cover.text))


def dossier_context(
    pages: Sequence[ReadPage], uploaded_at: datetime | None = None, scanned_at: datetime | None = None
) -> DossierContext:
    """The table of contents (all its pages, in order), the first closing certificate, the upload time and
    the scan time (`pdf_scanned_at`; dropped when it is after the upload: a scanner clock set wrong)."""
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
    # SQLite hands back naive datetimes; hoso stores UTC.
    if uploaded_at is not None and uploaded_at.tzinfo is None:
        uploaded_at = uploaded_at.replace(tzinfo=UTC)
    if scanned_at is not None and scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=UTC)
    if scanned_at is not None and uploaded_at is not None and scanned_at > uploaded_at:
        scanned_at = None
    return DossierContext(contents=contents, closing=closing, uploaded_at=uploaded_at, scanned_at=scanned_at)


_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?)?")


def pdf_scanned_at(pdf_path: Path) -> datetime | None:
    """When the PDF says it was made (its /CreationDate): for a scanner's PDF, the scan. None when the file
    has no such date or it cannot be parsed. A date without a zone is taken as Vietnam time (the scanner's
    clock). A PDF rebuilt by other software carries the rebuild time, which is still no earlier than the
    scan, so the 48-hour rule can only be late by it, like with the upload time."""
    try:
        with pikepdf.open(pdf_path) as pdf:
            raw = str(pdf.docinfo.get("/CreationDate", ""))
    except (pikepdf.PdfError, OSError):
        return None
    scanned = parse_pdf_date(raw)
    # In UTC, as every time hoso stores: SQLite keeps the wall time and drops the zone.
    return scanned.astimezone(UTC) if scanned is not None else None


def parse_pdf_date(raw: str) -> datetime | None:
    """A PDF date string ("D:20240311093000+07'00'") as an aware datetime, or None."""
    match = _PDF_DATE.match(raw.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    if sign in (None, "Z", "z"):
        zone = VIETNAM_TIME if sign is None else UTC
    else:
        offset = timedelta(hours=int(zone_hours or 0), minutes=int(zone_minutes or 0))
        zone = timezone(offset if sign == "+" else -offset)
    try:
        return datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone
        )
    except ValueError:
        return None
