"""Document numbers and dates as printed in an administrative document's header ("Số: 84/QĐ-KT").

Decree 30/2020 annex III fixes the form of a document symbol: a number, a slash, then the
abbreviation of the document type and of the issuing body joined by hyphens, all in capitals. OCR
drops the bar of "Đ" ("QD"), breaks the symbol with spaces, and reads "ngày … tháng … năm …" with
slips in the accents, so both are normalised here, once, for every reader.
"""

from __future__ import annotations

import re

from ocr.text import fold, iso_date

# "QD" is not an abbreviation in use; it is "QĐ" (quyết định) without its bar.
_SYMBOL_FIXES = {"QD": "QĐ"}
_SYMBOL = re.compile(r"^(\d{1,8})/([A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*)$")
_PLACE_DATE = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")
_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})


def normalise_document_number(raw: str) -> str | None:
    """ "84 / QD - KT" -> "84/QĐ-KT"; None when it does not have the shape of a document number."""
    compact = re.sub(r"\s+", "", raw).strip("-.,;:").upper()
    number, slash, symbol = compact.partition("/")
    if not slash:
        return None
    parts = [_SYMBOL_FIXES.get(part, part) for part in symbol.split("-")]
    candidate = f"{number}/{'-'.join(parts)}"
    return candidate if _SYMBOL.match(candidate) else None


def find_place_date(text: str) -> str | None:
    """The first "…, ngày 21 tháng 3 năm 2022" in `text` as YYYY-MM-DD (accent slips tolerated)."""
    for match in _PLACE_DATE.finditer(fold(text).translate(_LOOKALIKES)):
        found = iso_date(*match.groups())
        if found:
            return found
    return None
