"""read_cover_fields on the ground-truth text of every dev cover, blank fields included."""

from __future__ import annotations

from ocr.cover import COVER_FIELDS, read_cover_fields


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
