"""classify_page and read_document_reference on the ground-truth text of every dev page."""

from __future__ import annotations

from ocr.classify import classify_page, read_document_reference

# Ground-truth page roles that classify_page reports under its own names.
_ROLE = {"back_blank": "blank", "back_text": "document"}


def test_roles_match_ground_truth(ground_truth: list[dict]) -> None:
    pages = [page for dossier in ground_truth for page in dossier["pages"]]
    wrong = [
        (page["page_index"], page["role"])
        for page in pages
        if classify_page(page["text"])[0] != _ROLE.get(page["role"], page["role"])
    ]
    assert len(pages) == 297
    assert wrong == []


def test_doc_type_on_first_page_of_each_document(ground_truth: list[dict]) -> None:
    firsts = [
        (dossier["pages"][document["pages"][0]]["text"], document["doc_type"])
        for dossier in ground_truth
        for document in dossier["documents"]
    ]
    wrong = [(expected, classify_page(text)[1]) for text, expected in firsts if classify_page(text)[1] != expected]
    assert len(firsts) == 150
    assert wrong == []


def test_continuation_pages_carry_no_doc_type(ground_truth: list[dict]) -> None:
    continuations = [
        page["text"]
        for dossier in ground_truth
        for document in dossier["documents"]
        for page in (dossier["pages"][index] for index in document["pages"][1:])
    ]
    assert continuations
    assert [classify_page(text)[1] for text in continuations] == [None] * len(continuations)


def test_document_reference_matches_ground_truth(ground_truth: list[dict]) -> None:
    documents = [(dossier, document) for dossier in ground_truth for document in dossier["documents"]]
    wrong = [
        (document["number"], document["date"])
        for dossier, document in documents
        if read_document_reference(dossier["pages"][document["pages"][0]]["text"])
        != (document["number"], document["date"])
    ]
    assert wrong == []


def test_blank_and_labels() -> None:
    assert classify_page("") == ("blank", None)
    assert classify_page("  .  ,\n") == ("blank", None)
    assert classify_page("MỤC LỤC VĂN BẢN\nSTT\nSố, ký hiệu\nBiên bản kiểm tra") == ("toc", None)
    assert classify_page("CHỨNG TỪ KẾT THÚC\nHồ sơ này gồm có: 8 tờ.") == ("closing", None)


def test_reference_tolerates_ocr_and_missing_parts() -> None:
    assert read_document_reference("Số: 84/QĐ-KT\nLào Cai, ngày 21 tháng 3 năm 2022") == ("84/QĐ-KT", "2022-03-21")
    assert read_document_reference("Số: 84 / QĐ - KT") == ("84/QĐ-KT", None)
    assert read_document_reference("Hà Nội, ngày 31 tháng 2 năm 2022") == (None, None)


def test_a_cover_whose_big_title_ocr_dropped_is_still_a_cover() -> None:
    # Dotted leaders made Tesseract drop the "HỒ SƠ" block of a generated cover (seed 9001).
    text = "\n".join(
        [
            "TỔNG CỤC QUẢN LÝ THỊ TRƯỜNG",
            "Mã hồ sơ: QNI.QLTT.2025.XLVP.094",
            "Gồm: 11 tờ",
            "Thời hạn bảo quản: Vĩnh viễn",
            "Hồ sơ số: 193",
        ]
    )
    assert classify_page(text) == ("cover", None)
    # Three labels without the big title are not enough: a letter may quote "Thời hạn…" and "Gồm…".
    assert classify_page("Kính gửi: Cục\nGồm: 3 tờ\nThời hạn bảo quản: 5 năm\nHồ sơ số: 2\nNội dung")[0] == "document"


def test_reference_when_ocr_reads_so_as_digits() -> None:
    text = "56: 173/QĐ-TGTVPTGPCCHN Nam Định, ngày 17 tháng 5 năm 2023"
    assert read_document_reference(text) == ("173/QĐ-TGTVPTGPCCHN", "2023-05-17")
    assert read_document_reference("S6: 12/QD-KT")[0] == "12/QĐ-KT"
