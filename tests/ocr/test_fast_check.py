"""The fast check at the scanner on a few real pages: numbers, orientation and the cover, no full OCR."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr.fast_check import fast_report
from tests.conftest import corpus_file, pdf_excerpt


@pytest.mark.ocr
def test_fast_report_reads_cover_numbers_and_a_turned_page(tmp_path: Path) -> None:
    # dev-004: the cover, sheets 1 and 3 (stored at 270 degrees), and the closing certificate.
    pdf = pdf_excerpt(corpus_file("dev", "dev-004.pdf"), [1, 2, 4, 13], tmp_path / "excerpt.pdf")
    report = fast_report(pdf, workers=2)
    assert report["mode"] == "fast"
    assert [page["role"] for page in report["pages"]] == ["cover", "document", "document", "closing"]
    assert [page["sheet_number"] for page in report["pages"]] == [None, "1", "3", None]
    assert [page["rotation"] for page in report["pages"]] == [0, 0, 270, 0]
    assert report["cover"]["fields"]["dossier_code"] == "LCA.QLTT.2022.XLVP.249"
    assert report["cover"]["fields"]["sheet_count_declared"] == 11
    # The excerpt has 2 of the 11 sheets: both the cover and the closing certificate disagree.
    assert {f["code"] for f in report["findings"]} >= {"sheet_count_mismatch", "closing_count_mismatch", "rotated"}
