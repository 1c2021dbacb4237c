"""read_page end to end with real Tesseract on a few dev pages (marked `ocr`: about 10 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr.page import count_pages, read_page

pytestmark = pytest.mark.ocr


def test_count_pages(dev_corpus: Path) -> None:
    assert count_pages(dev_corpus / "dev-003.pdf") == 10


def test_upright_grayscale_page(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-003.pdf", 4)
    assert (facts.rotation, facts.blank, facts.role, facts.doc_type) == (
        0,
        False,
        "document",
        "bien_ban_vi_pham_hanh_chinh",
    )
    assert facts.sheet_number == "3"
    assert facts.sheet_confidence is not None and facts.sheet_confidence > 0.5
    assert (facts.width_px, facts.height_px, facts.dpi) == (1654, 2339, 200.0)
    for words in ("BIÊN BẢN VI PHẠM HÀNH CHÍNH", "Số: 0020370/BB-VPHC", "Quảng Ninh"):
        assert words in facts.text
    assert facts.mean_confidence is not None and facts.mean_confidence > 0.8
    assert all(0 <= word.box[0] < word.box[2] <= facts.width_px for word in facts.words)


def test_page_stored_turned_270(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-002.pdf", 35)
    assert (facts.rotation, facts.role, facts.sheet_number) == (270, "document", "33")
    assert facts.width_px < facts.height_px
    assert "Quản lý thị trường" in facts.text


def test_blank_back_is_not_read(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-011.pdf", 16)
    assert (facts.blank, facts.role, facts.text, facts.words, facts.sheet_number) == (True, "blank", "", (), None)
    assert facts.to_dict()["words"] == []
