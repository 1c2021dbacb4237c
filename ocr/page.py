"""Read one PDF page into PageFacts: the per-page job of the ingest pipeline.

Stages, in order: rasterise only this page, skip OCR on blank pages, turn the image upright and
straighten it while reading words with boxes and confidences (one OCR pass for an upright page: see
ocr/orientation.py), read the sheet number from the corner, classify the page from its text, shrink
the upright image to the page's grid thumbnail. Each
call is independent, so pages can run in parallel processes.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from ocr.classify import classify_page
from ocr.details import read_details
from ocr.facts import PageFacts, Word
from ocr.orientation import read_upright
from ocr.raster import count_pages, is_blank, render_page
from ocr.sheet_number import read_sheet_number
from ocr.thumbnail import thumbnail_png

__all__ = ["count_pages", "read_page"]


def _lines_of(words: list[tuple[Word, tuple[int, int, int]]]) -> str:
    lines: dict[tuple[int, int, int], list[str]] = {}
    for word, line_key in words:
        lines.setdefault(line_key, []).append(word.text)
    return unicodedata.normalize("NFC", "\n".join(" ".join(line) for line in lines.values()))


def read_page(pdf_path: Path, page: int, dpi: int = 300) -> PageFacts:
    """OCR the 1-based `page` of `pdf_path`, read at `dpi` or the scan's own resolution if lower."""
    rendered = render_page(pdf_path, page, dpi)
    scan_dpi = rendered.scan_dpi or round(rendered.dpi, 2)
    if is_blank(rendered.image, rendered.dpi):
        return PageFacts(
            page=page,
            width_px=rendered.image.width,
            height_px=rendered.image.height,
            dpi=scan_dpi,
            rotation=0,
            text="",
            mean_confidence=None,
            words=(),
            blank=True,
            sheet_number=None,
            sheet_confidence=None,
            role="blank",
            doc_type=None,
            thumbnail_png=thumbnail_png(rendered.image),
        )
    reading = read_upright(rendered.image, rendered.dpi)
    image, words = reading.image, reading.words
    text = _lines_of(words)
    sheet_number, sheet_confidence = read_sheet_number(image)
    role, doc_type = classify_page(text)
    confidences = [word.confidence for word, _line in words]
    return PageFacts(
        page=page,
        width_px=image.width,
        height_px=image.height,
        dpi=scan_dpi,
        rotation=reading.rotation,
        text=text,
        mean_confidence=round(sum(confidences) / len(confidences), 3) if confidences else None,
        words=tuple(word for word, _line in words),
        blank=False,
        sheet_number=sheet_number,
        sheet_confidence=sheet_confidence,
        role=role,
        doc_type=doc_type,
        skew=reading.skew,
        details=read_details(role, text, image, words),
        thumbnail_png=thumbnail_png(image),
    )
