"""Rows of a table of contents (Mục lục văn bản) from its OCR text.

The table has the columns STT, "Số, ký hiệu", "Ngày tháng", "Trích yếu nội dung", "Tờ số". OCR reads
it row by row but splits long cells over several lines ("0042194/BB-" then "VPHC") and mangles the
ruling into "|", "[" or "L". The row title ("Biên bản tạm giữ") is the part that survives best, so
a row is a line whose words contain a document title, matched word by word with a small edit
distance; its number and its sheet range are taken from the same line when they are readable.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from ocr.document_number import normalise_document_number
from ocr.text import fold

# Row titles, folded, most specific first; the first words are enough ("Biên bản vi phạm hành / chính").
ROW_TITLES = (
    ("quyet dinh kiem tra", "quyet_dinh_kiem_tra"),
    ("quyet dinh tam giu", "quyet_dinh_tam_giu"),
    ("quyet dinh xu phat", "quyet_dinh_xu_phat"),
    ("bien ban kiem tra", "bien_ban_kiem_tra"),
    ("bien ban vi pham", "bien_ban_vi_pham_hanh_chinh"),
    ("bien ban tam giu", "bien_ban_tam_giu"),
    ("bien ban giao nhan", "bien_ban_giao_nhan"),
    ("phu luc", "phu_luc_bang_ke"),
    ("bang ke", "phu_luc_bang_ke"),
    ("bao cao", "bao_cao"),
    ("cong van", "cong_van"),
)
_TITLE_SIMILARITY = 0.8
_NUMBER = re.compile(r"(\d{1,8})\s*/\s*([A-ZĐ]{2,}(?![a-zà-ỹđ])(?:\s?-\s?[A-ZĐ]+)*(?:\s?-)?)")
_CONTINUATION = re.compile(r"^\W*([A-ZĐ]{2,})\b")
# The "Tờ số" cell at the end of a row: "7", "9-10", "6-6a".
_SHEETS = re.compile(r"(\d{1,3}[a-z]?(?:\s*-\s*\d{1,3}[a-z]?)?)\W*$")
_WORD = re.compile(r"[a-z]+")


def title_in(folded_line: str) -> tuple[str, int] | None:
    """(doc_type, index of the title's first word among the line's letter words) of the best title in the line."""
    words = _WORD.findall(folded_line)
    best: tuple[float, str, int] | None = None
    for title, doc_type in ROW_TITLES:
        size = len(title.split())
        for start in range(0, max(0, len(words) - size) + 1):
            ratio = SequenceMatcher(None, " ".join(words[start : start + size]), title).ratio()
            if ratio >= _TITLE_SIMILARITY and (best is None or ratio > best[0] + 0.01):
                best = (ratio, doc_type, start)
    return (best[1], best[2]) if best else None


def read_contents(text: str) -> list[dict[str, str | None]]:
    """Rows in table order: {"doc_type", "number", "sheets"}; number and sheets are None when unreadable."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows: list[dict[str, str | None]] = []
    for index, line in enumerate(lines):
        found = title_in(fold(line))
        if found is None or fold(line).startswith(("muc luc", "stt")):
            continue
        doc_type, _start = found
        number_match = _NUMBER.search(line)
        number = None
        if number_match:
            raw_number = number_match.group(0)
            # A number cut at its dash continues at the start of the next line ("28/QĐ-" / "TGTVPTGPCCHN").
            continued = _CONTINUATION.match(lines[index + 1]) if index + 1 < len(lines) else None
            if raw_number.rstrip().endswith("-") and continued:
                raw_number += continued.group(1)
            number = normalise_document_number(raw_number)
        tail = re.sub(r"[|\]\[{}—_.,;:'`~¬L]+", " ", line).strip()
        sheets_match = _SHEETS.search(tail)
        sheets = re.sub(r"\s+", "", sheets_match.group(1)) if sheets_match else None
        if sheets is not None and number is not None and number.startswith(sheets):
            sheets = None
        rows.append({"doc_type": doc_type, "number": number, "sheets": sheets})
    return rows
