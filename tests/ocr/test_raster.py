"""Rasterising one page: the scan image decoded directly when it is the whole page, poppler otherwise (no OCR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf

from ocr.raster import _pdftoppm, render_page


def test_scan_image_is_decoded_at_its_own_resolution(dev_corpus: Path) -> None:
    rendered = render_page(dev_corpus / "dev-001.pdf", 3, 300)
    assert (rendered.image.size, rendered.image.mode, rendered.dpi, rendered.scan_dpi) == (
        (2480, 3508),
        "L",
        300.0,
        300.0,
    )
    poppler = np.asarray(_pdftoppm(dev_corpus / "dev-001.pdf", 3, 300), dtype=float)
    # Same page, black on white the same way round: only poppler's smoothing of the 1-bit image differs.
    assert abs(np.asarray(rendered.image, dtype=float).mean() - poppler.mean()) < 1.0


def test_requested_resolution_below_the_scan_reduces_it_but_reports_the_scan(dev_corpus: Path) -> None:
    rendered = render_page(dev_corpus / "dev-003.pdf", 4, 100)
    assert (rendered.image.size, round(rendered.dpi), rendered.scan_dpi) == ((827, 1170), 100, 200.0)


def test_rotated_page_goes_through_poppler(dev_corpus: Path, tmp_path: Path) -> None:
    with pikepdf.open(dev_corpus / "dev-003.pdf") as pdf, pikepdf.new() as single:
        single.pages.append(pdf.pages[3])
        single.pages[0].obj["/Rotate"] = 90
        single.save(tmp_path / "turned.pdf")
    rendered = render_page(tmp_path / "turned.pdf", 1, 300)
    assert (rendered.image.size, rendered.dpi, rendered.scan_dpi) == ((2339, 1654), 200.0, 200.0)
