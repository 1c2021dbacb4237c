"""The cover reader: ground-truth text of every dev cover, OCR slips seen on real scans, image re-reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr.agency_names import restore_agency_line
from ocr.cover import COVER_FIELDS, parse_count, parse_date, parse_retention, read_cover_fields, split_label
from ocr.page import read_page
from tests.conftest import corpus_file


def test_cover_fields_match_ground_truth(ground_truth: list[dict]) -> None:
    covers = [
        dossier["cover"] | {"text": dossier["pages"][dossier["cover"]["page_index"]]["text"]}
        for dossier in ground_truth
        if dossier["cover"]["present"]
    ]
    wrong = []
    for cover in covers:
        read = read_cover_fields(cover["text"])
        for field in COVER_FIELDS:
            expected = None if field in cover["blank_fields"] else cover["fields"][field]
            if read[field] != expected:
                wrong.append((field, expected, read[field]))
    assert len(covers) == 9
    assert wrong == []


def test_blank_fields_and_ocr_slips() -> None:
    text = "\n".join(
        [
            "TỔNG CỤC QUẢN LÝ THỊ TRƯỜNG",
            "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH LÀO CAI",
            "ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 6",
            "Ma ho so: LCA.QLTT.2022.XLVP.051",
            "HỒ SƠ",
            "Hồ sơ xử lý vi phạm hành chính",
            "Tu ngay: 16/11/2022",
            "Đến ngày: 31/02/2022",
            "Gồm: ............ tờ",
            "Thời hạn bảo quản: Vĩnh viễn",
            "Hồ sơ số: ........",
        ]
    )
    fields = read_cover_fields(text)
    assert fields == {
        "agency": "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH LÀO CAI",
        "unit": "ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 6",
        "dossier_code": "LCA.QLTT.2022.XLVP.051",
        "dossier_number": None,
        "title": "Hồ sơ xử lý vi phạm hành chính",
        "start_date": "2022-11-16",
        "end_date": None,
        "sheet_count_declared": None,
        "retention": "Vĩnh viễn",
    }


def test_not_a_cover_gives_all_none() -> None:
    assert read_cover_fields("") == dict.fromkeys(COVER_FIELDS)


# What Tesseract made of real scanned covers: accents lost on bold capitals, colons and specks.
OCR_COVER = "\n".join(
    [
        "_ TONG CUC QUAN LÝ THỊ TRƯỜNG",
        "CUC QUAN LY THI TRUONG TINH QUANG NINH",
        "DOI QUAN LY THỊ TRƯỜNG S6 5",
        "Mã hồ so: QNI.QLTT.2025.XLVP.013",
        "HO SƠ:",
        "_ Hồ sơ xử lý vi phạm hành chính đối với Công ty TNHH",
        "Thương mại Minh Phát",
        "_ Từ ngày: 21/06/2025 -",
        "Đến ngày: 28/O6/2025.",
        "Gồm: 12 tờ.",
        "Thoi han bao quan: 10 nam",
        "Hồ sơ số: l77",
    ]
)


def test_ocr_slips_on_a_scanned_cover_are_repaired() -> None:
    assert read_cover_fields(OCR_COVER) == {
        "agency": "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH QUẢNG NINH",
        "unit": "ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 5",
        "dossier_code": "QNI.QLTT.2025.XLVP.013",
        "dossier_number": "177",
        "title": "Hồ sơ xử lý vi phạm hành chính đối với Công ty TNHH Thương mại Minh Phát",
        "start_date": "2025-06-21",
        "end_date": "2025-06-28",
        "sheet_count_declared": 12,
        "retention": "10 năm",
    }


def test_labels_without_colon_are_still_found() -> None:
    fields = read_cover_fields("HỒ SƠ\nTiêu đề\nGồm 7 tờ\nHồ sơ số 12")
    assert (fields["sheet_count_declared"], fields["dossier_number"], fields["title"]) == (7, "12", "Tiêu đề")


def test_a_title_line_is_not_taken_for_the_dossier_number_label() -> None:
    assert split_label("Hồ sơ xử lý vi phạm hành chính") is None
    assert split_label("Hồ sơ số: 98") == ("dossier_number", " 98")


def test_values_parse_with_digit_lookalikes() -> None:
    assert parse_date("O7/O9/2O22") == "2022-09-07"
    assert parse_date("31/02/2022") is None
    assert parse_count(" 37 tờ") == 37
    assert parse_count("l2 to") == 12
    assert parse_count(" ....... tờ") is None
    assert parse_retention("Vinh vien") == "Vĩnh viễn"
    assert parse_retention("20 nam.") == "20 năm"


def test_agency_lines_get_their_diacritics_back() -> None:
    assert restore_agency_line("CUC QUAN LY THI TRUONG TINH BA RIA - VUNG TAU") == (
        "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH BÀ RỊA - VŨNG TÀU"
    )
    assert restore_agency_line("DOI QUAN LY THI TRUONG SO 12 |") == "ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 12"
    # Unknown words keep the letters OCR read; mixed case is body text and is left alone.
    assert restore_agency_line("DOI XYZ SO 3") == "ĐỘI XYZ SỐ 3"
    assert restore_agency_line("Cuc quan ly") == "Cuc quan ly"


@pytest.mark.ocr
def test_a_handwritten_count_is_read_again_from_the_image(tmp_path: Path) -> None:
    """dev-011's cover: full-page OCR reads the handwritten "8" of "Gồm: 8 tờ" as "g"."""
    pdf = corpus_file("dev", "dev-011.pdf")
    facts = read_page(pdf, 1)
    assert facts.role == "cover"
    assert facts.details["cover"]["sheet_count_declared"] == 8
    assert facts.details["cover"]["agency"] == "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH QUẢNG NINH"


def test_specks_around_the_big_title_and_accent_slips_in_the_standard_wording() -> None:
    text = "$ HỒ SƠ -“\n- Hồ sơ xử lý vỉ phạm hành chính đối với Công ty cố phần\nSông Hồng (Chi nhánh 2)\n@ Gồm: 3 tờ"
    fields = read_cover_fields(text)
    # The standard wording is respelled; the company's own name is left as read.
    assert fields["title"] == "Hồ sơ xử lý vi phạm hành chính đối với Công ty cổ phần Sông Hồng (Chi nhánh 2)"
    assert fields["sheet_count_declared"] == 3
