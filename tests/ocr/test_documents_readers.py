"""Readers of a dossier's own inventory: table of contents rows, the closing certificate, document numbers."""

from __future__ import annotations

from ocr.closing import read_closing
from ocr.contents import read_contents
from ocr.details import read_details
from ocr.document_number import find_place_date, normalise_document_number

# A table of contents as Tesseract read it from a scan: ruling turned into "|", cells split over lines.
OCR_CONTENTS = """MỤC LỤC VĂN BẢN
ST S6, ky hiéu Ngay Trích yếu nội dung Tờ số
T tháng
1 1150/QĐ-KT 21/02/ Quyết định kiểm tra 1-2
2025
2 |65/BB-KT 22/02/ Bién ban kiém tra 3-4
3 10042194/BB- l22/02/ |Biên bản vi phạm hành 5-6
VPHC 2025 chính
4 |58/QD- 22/06/2025 | Quyét dinh tam gitt 7
TGTVPTGPCCHN
6 22/02/ Phu luc bang ké tang vat 9-10
7 |267/BC-NV 23/02/ Bao cáo 11-12
8 300/QLTT-NV |26/02 jCông văn 13-14
11 8847/QĐ-XPHC |08/03/ Quyết định xử phat vi 6-6a
.2025 phạm hành chính
12 |150/BB-GN 09/03/ Biên bản giao nhận 22
"""


def test_contents_rows_survive_ocr_noise() -> None:
    rows = read_contents(OCR_CONTENTS)
    assert [row["doc_type"] for row in rows] == [
        "quyet_dinh_kiem_tra",
        "bien_ban_kiem_tra",
        "bien_ban_vi_pham_hanh_chinh",
        "quyet_dinh_tam_giu",
        "phu_luc_bang_ke",
        "bao_cao",
        "cong_van",
        "quyet_dinh_xu_phat",
        "bien_ban_giao_nhan",
    ]
    assert [row["number"] for row in rows] == [
        "1150/QĐ-KT",
        "65/BB-KT",
        "10042194/BB-VPHC",
        "58/QĐ-TGTVPTGPCCHN",
        None,
        "267/BC-NV",
        "300/QLTT-NV",
        "8847/QĐ-XPHC",
        "150/BB-GN",
    ]
    assert [row["sheets"] for row in rows] == ["1-2", "3-4", "5-6", "7", "9-10", "11-12", "13-14", "6-6a", "22"]


def test_closing_certificate_declarations() -> None:
    text = """CHỨNG TỪ KẾT THÚC
Hồ sơ này gồm có: 12 tờ.
Viết bằng chữ: Mười hai tờ.
Trong đó có: tờ số trùng: 6a, 12b; tờ số khuyết: 20.
Đặc điểm tài liệu trong hồ sơ: Tài liệu bản chính, còn nguyên vẹn 2024."""
    assert read_closing(text) == {"sheet_count": 12, "duplicates": ["6a", "12b"], "skipped": ["20"], "inserted": []}


def test_closing_certificate_that_declares_nothing() -> None:
    for note in ("không có tờ số trùng, số khuyết.", "tờ số trùng: không: tờ số khuyết: không."):
        text = f"CHỨNG TỪ KẾT THÚC\nHồ sơ này gồm có: 8 tờ.\nTrong đó có: {note}\nĐặc điểm tài liệu"
        assert read_closing(text) == {"sheet_count": 8, "duplicates": [], "skipped": [], "inserted": []}


def test_closing_counts_are_not_taken_for_sheet_numbers() -> None:
    text = "Ho so nay gom co: 40 to.\nTrong đó có: 01 tờ số trùng là tờ 6a; tờ chèn thêm: 9b."
    assert read_closing(text) == {"sheet_count": 40, "duplicates": ["6a"], "skipped": [], "inserted": ["9b"]}


def test_document_numbers_and_dates_are_normalised() -> None:
    assert normalise_document_number("84 / QD - KT") == "84/QĐ-KT"
    assert normalise_document_number("00010001/QĐ-KT") == "00010001/QĐ-KT"
    assert normalise_document_number("84/") is None
    assert find_place_date("Lào Cai, ngay 2l thang 3 nam 2022") == "2022-03-21"
    assert find_place_date("ngày 31 tháng 2 năm 2022, ngày 1 tháng 3 năm 2022") == "2022-03-01"


def test_details_by_role() -> None:
    document = read_details("document", "Số: 194/QĐ-KT\nLào Cai, ngày 21 tháng 3 năm 2022", None, [])
    assert document == {"document": {"number": "194/QĐ-KT", "date": "2022-03-21"}}
    assert read_details("blank", "", None, []) == {}
    assert read_details("closing", "Hồ sơ này gồm có: 3 tờ.", None, [])["closing"]["sheet_count"] == 3
    assert read_details("toc", OCR_CONTENTS, None, [])["contents"][0]["number"] == "1150/QĐ-KT"
    assert read_details("cover", "HỒ SƠ\nX\nGồm: 3 tờ", None, [])["cover"]["sheet_count_declared"] == 3
