"""The check at the scanner: sheet numbers, orientation and cover of a PDF in seconds, without full OCR.

A team scanning a dossier wants to know before uploading whether a sheet is missing, doubled, out of
order or fed the wrong way. Full OCR costs seconds per page; this check reads only what the numbering
rules need:

1. every page at a reduced resolution (FAST_DPI): blank or not, whether its text lines run across or down
   (projection profiles, milliseconds), then the top-right corner of the two upright candidates (0/180
   or 90/270) for a sheet number. A number found in exactly one candidate also settles the orientation,
   which is what makes Tesseract's orientation detection (about a second a page) unnecessary for
   numbered sheets;
2. a page without a number has its top band read (HEAD_SHARE of the page, at HEAD_DPI), upright
   candidates in turn until one reads as text: that settles its orientation and tells whether it opens
   as a cover, a table of contents or a closing certificate. Only those few are read in full (at
   READ_DPI) for the cover's fields and the closing certificate's declarations. Orientation detection
   is the last resort for a page whose band reads as text in no candidate.

Pages run in a process pool on every core. The report is `archive.verify.report` on these facts, with
`"mode": "fast"`; rules that need every page's text (document types, contents, missing documents) are
not run, since their input is not read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from archive import verify, verify_inputs
from ocr.classify import classify_page
from ocr.deskew import lines_run_vertically
from ocr.details import read_details
from ocr.orientation import looks_like_text, read_upright, upright
from ocr.raster import count_pages, is_blank, render_page
from ocr.sheet_number import read_sheet_number
from ocr.tesseract import detect_orientation, read_words
from ocr.text import fold

# Resolution for the corners, the orientation and the top band: at 150 dpi the sheet-number reader lost
# numbers that it reads at 200 (dev-011: 17 against 18 of 20 pages right).
FAST_DPI = 200
# Resolution for reading a cover, contents or closing page in full: the cover's handwritten values need
# the same resolution as the full check (at 200 dpi dev covers lost a date and a dossier number).
READ_DPI = 300
# The top band of a page without a number that is read first: on a cover it holds the agency lines and
# "Mã hồ sơ", on a contents or closing page the title.
HEAD_SHARE = 0.4
# The band is read at this resolution: titles and form labels are 13 pt or larger, and OCR time grows
# with the pixels.
HEAD_DPI = 150
_SPECIAL_ROLES = ("cover", "toc", "closing")
_HEAD_MARKERS = ("ma ho so", "muc luc", "chung tu ket thuc")


@dataclass(frozen=True)
class CornerReading:
    """What the first pass learnt about one page."""

    page: int
    blank: bool
    scan_dpi: float | None  # the resolution the team scanned at (rendering at FAST_DPI says nothing of it)
    rotation: int | None  # None: no number settled it
    candidates: tuple[int, ...] = (0, 180)  # the upright candidates its text direction allows
    sheet_number: str | None = None
    sheet_confidence: float | None = None


@dataclass(frozen=True)
class FullReading:
    """A page without a number, after the second pass: its orientation, role and reader details."""

    page: int
    rotation: int
    role: str = "document"
    text: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def read_corners(pdf_path: Path, page: int) -> CornerReading:
    """First pass: blank, text direction, and the sheet number in each upright candidate."""
    rendered = render_page(pdf_path, page, FAST_DPI)
    if is_blank(rendered.image, rendered.dpi):
        return CornerReading(page, True, rendered.scan_dpi, 0)
    candidates = (90, 270) if lines_run_vertically(rendered.image, rendered.dpi) else (0, 180)
    readings = [(rotation, *read_sheet_number(upright(rendered.image, rotation))) for rotation in candidates]
    numbered = [(confidence or 0.0, rotation, number) for rotation, number, confidence in readings if number]
    if not numbered:
        return CornerReading(page, False, rendered.scan_dpi, None, candidates)
    confidence, rotation, number = max(numbered)
    return CornerReading(page, False, rendered.scan_dpi, rotation, candidates, number, confidence)


def read_unnumbered(pdf_path: Path, page: int, candidates: tuple[int, ...]) -> FullReading:
    """Second pass for a page without a number: orientation from its top band, then a full read if the
    band opens a cover, a table of contents or a closing certificate."""
    rendered = render_page(pdf_path, page, FAST_DPI)
    rotation = None
    scale = min(1.0, HEAD_DPI / rendered.dpi)
    for candidate in candidates:
        turned = upright(rendered.image, candidate)
        band = turned.crop((0, 0, turned.width, int(turned.height * HEAD_SHARE)))
        band = band.resize((round(band.width * scale), round(band.height * scale)), Image.Resampling.BOX)
        words = read_words(band, dpi=rendered.dpi * scale)
        if looks_like_text(words):
            rotation = candidate
            break
    if rotation is None:
        osd = detect_orientation(rendered.image, rendered.dpi)
        return FullReading(page, osd[0] if osd else candidates[0])
    head = "\n".join(_line_texts(words))
    if classify_page(head)[0] not in _SPECIAL_ROLES and not _has_marker(head):
        return FullReading(page, rotation)
    full = render_page(pdf_path, page, READ_DPI)
    reading = read_upright(upright(full.image, rotation), full.dpi)
    text = "\n".join(_line_texts(reading.words))
    role, _doc_type = classify_page(text)
    details = read_details(role, text, reading.image, reading.words) if role in _SPECIAL_ROLES else {}
    return FullReading(page, (rotation + reading.rotation) % 360, role, text, details)


def _has_marker(head: str) -> bool:
    return any(fold(line).strip(" _|-.:").startswith(_HEAD_MARKERS) for line in head.splitlines())


def _line_texts(words: list) -> list[str]:
    lines: dict[Any, list[str]] = {}
    for word, key in words:
        lines.setdefault(key, []).append(word.text)
    return [" ".join(line) for line in lines.values()]


def fast_report(
    pdf_path: Path, workers: int | None = None, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """The verify report of a PDF from its corners, orientation and cover; `progress(n)` after each page."""
    page_count = count_pages(pdf_path)
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        corners: list[CornerReading] = []
        for reading in pool.map(read_corners, [pdf_path] * page_count, range(1, page_count + 1)):
            corners.append(reading)
            if progress:
                progress(1)
        unnumbered = [c for c in corners if not c.blank and c.sheet_number is None]
        full_readings = {
            reading.page: reading
            for reading in pool.map(
                read_unnumbered,
                [pdf_path] * len(unnumbered),
                [c.page for c in unnumbered],
                [c.candidates for c in unnumbered],
            )
        }
    page_facts = []
    read_pages = []
    for corner in corners:
        full = full_readings.get(corner.page)
        role = "blank" if corner.blank else (full.role if full else "document")
        rotation = full.rotation if full else (corner.rotation or 0)
        page_facts.append(
            verify.PageFact(
                page=corner.page,
                sheet_number=corner.sheet_number,
                sheet_confidence=corner.sheet_confidence,
                rotation=rotation,
                role=role,
                doc_type=None,
                dpi=corner.scan_dpi,
            )
        )
        if full is not None:
            read_pages.append(verify_inputs.ReadPage(full.page, full.role, full.text, full.details))
    context = verify_inputs.dossier_context(read_pages)
    fast_context = verify.DossierContext(closing=context.closing)
    report = verify.report(pdf_path.name, "fast", page_facts, verify_inputs.cover_fact(read_pages), fast_context)
    return {**report, "mode": "fast"}
