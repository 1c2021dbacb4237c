"""What a closing certificate (Chứng từ kết thúc, Decree 30/2020 annex) declares, from its OCR text.

The form says "Hồ sơ này gồm có: N tờ", "Viết bằng chữ: …" and "Trong đó có: …" where the clerk lists
the repeated numbers ("tờ số trùng", which is how inserted sheets such as 12a are declared), the numbers
left out ("tờ số khuyết") and, in some offices, the sheets added later ("tờ chèn thêm", "bổ sung").
"Không" in a list means none.
"""

from __future__ import annotations

import re

from ocr.cover import parse_count
from ocr.text import fold

_COUNT = re.compile(r"gom\s*co\s*[:;.]?\s*(.{1,8}?)\s*t[oơờ]\b")
# A sheet number in a declaration, unless it is a count ("01 tờ").
_SHEET = re.compile(r"\b(\d{1,4}[a-z]?)\b(?!\s*to\b)")
_LISTS = (
    ("duplicates", re.compile(r"so\s*trung")),
    ("skipped", re.compile(r"so\s*khuyet")),
    ("inserted", re.compile(r"chen\s*them|bo\s*sung")),
)


def _declaration(folded: str) -> str:
    """The "Trong đó có: …" part up to the next sentence that is not a list ("Đặc điểm …")."""
    start = folded.find("trong do co")
    if start < 0:
        return ""
    end = folded.find("dac diem", start)
    return folded[start : end if end > 0 else len(folded)]


def _numbers_after(declaration: str, marker: re.Pattern[str]) -> list[str]:
    match = marker.search(declaration)
    if match is None:
        return []
    rest = declaration[match.end() :]
    stop = min((found.start() for _name, other in _LISTS if (found := other.search(rest))), default=len(rest))
    segment = re.split(r"[;\n]", rest[:stop], maxsplit=1)[0]
    return [] if re.match(r"\W*khong\b", segment) else _SHEET.findall(segment)


def read_closing(text: str) -> dict[str, int | list[str] | None]:
    """{"sheet_count": int | None, "duplicates": [...], "skipped": [...], "inserted": [...]}."""
    folded = fold(text)
    count_match = _COUNT.search(folded)
    declaration = _declaration(folded)
    result: dict[str, int | list[str] | None] = {
        "sheet_count": parse_count(count_match.group(1)) if count_match else None
    }
    for name, marker in _LISTS:
        result[name] = _numbers_after(declaration, marker)
    return result
