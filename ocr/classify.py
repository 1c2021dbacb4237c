"""Page role and document type from a page's text, and a document's number and date.

Pure text in, labels out (no Tesseract), so it is tested on ground-truth text and reused on OCR
output. Titles are matched on whole folded lines near the top of the page: a document's own title
is a short line of its own, while the same words inside a sentence or a table of contents row are
not. Only the first page of a document carries its title, so continuation pages and text backs get
role "document" with doc_type None; whoever reads the pages in order carries the type forward.
"""

from __future__ import annotations

import re

from ocr.document_number import find_place_date, normalise_document_number
from ocr.text import fold

ROLES = ("cover", "toc", "document", "closing", "blank")
DOC_TYPES = (
    "quyet_dinh_kiem_tra",
    "bien_ban_kiem_tra",
    "bien_ban_vi_pham_hanh_chinh",
    "quyet_dinh_tam_giu",
    "bien_ban_tam_giu",
    "phu_luc_bang_ke",
    "bao_cao",
    "cong_van",
    "quyet_dinh_xu_phat",
    "bien_ban_giao_nhan",
)

# How many lines from the top a title may sit: the two-column national header comes first.
_HEAD_LINES = 16
# Fewer letters or digits than this is not a page of text (OCR specks on a blank back).
_MIN_TEXT_CHARS = 12

_COVER_LABELS = ("ma ho so", "tu ngay", "den ngay", "gom", "thoi han bao quan", "ho so so")
# Titles that stand alone on their line, most specific first.
_FULL_TITLES = (
    ("bien ban giao nhan", "bien_ban_giao_nhan"),
    ("bien ban vi pham hanh chinh", "bien_ban_vi_pham_hanh_chinh"),
    ("bien ban kiem tra", "bien_ban_kiem_tra"),
    ("bao cao", "bao_cao"),
)
# A bare "QUYẾT ĐỊNH" or "BIÊN BẢN" title is told apart by the subject line under it.
_SUBJECTS = (
    ("kiem tra viec chap hanh", {"quyet dinh": "quyet_dinh_kiem_tra"}),
    ("tam giu tang vat", {"quyet dinh": "quyet_dinh_tam_giu", "bien ban": "bien_ban_tam_giu"}),
    ("xu phat vi pham hanh chinh", {"quyet dinh": "quyet_dinh_xu_phat"}),
)
# "V/v" (về việc) opens the subject line of an official letter; OCR also reads it as "VW" or "V.v".
_SUBJECT_LINE_PREFIXES = ("v/v", "v/ v", "v.v", "vw ")
# The symbol after the slash in "Số: 84/QĐ-KT", folded, as a fallback when the title is misread.
_NUMBER_SYMBOLS = (
    ("/qd-kt", "quyet_dinh_kiem_tra"),
    ("/bb-kt", "bien_ban_kiem_tra"),
    ("/bb-vphc", "bien_ban_vi_pham_hanh_chinh"),
    ("/qd-tg", "quyet_dinh_tam_giu"),
    ("/bb-tg", "bien_ban_tam_giu"),
    ("/bc-", "bao_cao"),
    ("/qd-xphc", "quyet_dinh_xu_phat"),
    ("/bb-gn", "bien_ban_giao_nhan"),
    ("/qltt-", "cong_van"),
)

# "Số:" with any one letter OCR makes of "ố", then digits, a slash and the symbol ("84/QĐ-KT").
# OCR also reads "Số" as "S6" or "56".
_NUMBER = re.compile(r"\b[S5]\w?\s*[:;.]\s*(\d{1,8}\s?/\s?\w+(?:\s?-\s?\w+)*)")
_LINE_PUNCTUATION = " .,:;|-_'\"!"


def _folded_lines(text: str) -> list[str]:
    lines = (fold(line).strip(_LINE_PUNCTUATION) for line in text.splitlines())
    return [line for line in lines if line]


def _is_title(line: str, title: str) -> bool:
    """True when `line` is `title` standing alone (a trailing colon or OCR speck allowed)."""
    return line.startswith(title) and len(line) <= len(title) + 3


def _doc_type_from_title(head: list[str]) -> str | None:
    for index, line in enumerate(head):
        for title, doc_type in _FULL_TITLES:
            if _is_title(line, title):
                return doc_type
        if _is_title(line, "phu luc"):
            return "phu_luc_bang_ke"
        if line.startswith(_SUBJECT_LINE_PREFIXES):
            return "cong_van"
        for kind in ("quyet dinh", "bien ban"):
            if _is_title(line, kind):
                subject = " ".join(head[index + 1 : index + 3])
                for phrase, by_kind in _SUBJECTS:
                    if phrase in subject and kind in by_kind:
                        return by_kind[kind]
    return None


def _doc_type_from_number(head: list[str]) -> str | None:
    for line in head:
        if not line.startswith("so"):
            continue
        compact = line.replace(" ", "")
        for symbol, doc_type in _NUMBER_SYMBOLS:
            if symbol in compact:
                return doc_type
    return None


def classify_page(text: str) -> tuple[str, str | None]:
    """(role, doc_type) of a page from its text; doc_type is None unless the page starts a document."""
    if sum(char.isalnum() for char in text) < _MIN_TEXT_CHARS:
        return "blank", None
    lines = _folded_lines(text)
    head = lines[:_HEAD_LINES]
    if any(_is_title(line, "muc luc van ban") for line in head):
        return "toc", None
    if any(_is_title(line, "chung tu ket thuc") for line in head):
        return "closing", None
    cover_labels = {label for line in lines for label in _COVER_LABELS if line.startswith(label)}
    # The big "HỒ SƠ" is not always read (dotted leaders upset page segmentation); four of the form's
    # labels at line starts are a cover by themselves.
    if len(cover_labels) >= 4 or (len(cover_labels) >= 3 and any(line == "ho so" for line in lines)):
        return "cover", None
    return "document", _doc_type_from_title(head) or _doc_type_from_number(head)


def read_document_reference(text: str) -> tuple[str | None, str | None]:
    """(number, ISO date) of a document from its first page: "Số: 84/QĐ-KT" and "…, ngày 21 tháng 3 năm 2022"."""
    number_match = _NUMBER.search(text)
    number = normalise_document_number(number_match.group(1)) if number_match else None
    return number, find_place_date(text)
