"""read_page end to end with real Tesseract on a few dev pages (marked `ocr`: about 10 s).

Skew and rotation are checked against the corpus ground truth (`skew_deg`, `rotation`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

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
    assert facts.skew == pytest.approx(1.409, abs=0.1)
    for words in ("BIÊN BẢN VI PHẠM HÀNH CHÍNH", "Số: 0020370/BB-VPHC", "Quảng Ninh"):
        assert words in facts.text
    assert facts.mean_confidence is not None and facts.mean_confidence > 0.8
    assert all(0 <= word.box[0] < word.box[2] <= facts.width_px for word in facts.words)


def test_page_stored_turned_270(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-002.pdf", 35)
    assert (facts.rotation, facts.role, facts.sheet_number) == (270, "document", "33")
    assert facts.width_px < facts.height_px
    assert facts.skew == pytest.approx(0.941, abs=0.1)
    assert "Quản lý thị trường" in facts.text
    thumbnail = Image.open(io.BytesIO(facts.thumbnail_png or b""))
    assert (thumbnail.format, thumbnail.mode, thumbnail.width) == ("PNG", "L", 160)
    assert thumbnail.height == round(facts.height_px * 160 / facts.width_px)  # drawn upright: portrait


def test_page_stored_upside_down(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-005.pdf", 8)
    assert (facts.rotation, facts.role, facts.dpi) == (180, "document", 240.0)
    assert "BÁO CÁO" in facts.text and "Quảng Ninh" in facts.text
    assert facts.skew == pytest.approx(1.302, abs=0.1)


def test_blank_back_is_not_read(dev_corpus: Path) -> None:
    facts = read_page(dev_corpus / "dev-011.pdf", 16)
    assert (facts.blank, facts.role, facts.text, facts.words, facts.sheet_number) == (True, "blank", "", (), None)
    assert facts.to_dict()["words"] == []
