"""Text helpers shared by the readers: folding Vietnamese for OCR-tolerant matching, and dates.

OCR drops or confuses diacritics more often than letters, so labels and titles are matched on the
folded form (no diacritics, đ -> d, lower case, single spaces) while values keep their exact text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case `text`, strip diacritics (đ -> d) and collapse runs of white space."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", bare.lower()).strip()


def iso_date(day: str | int, month: str | int, year: str | int) -> str | None:
    """`YYYY-MM-DD` for a real calendar date, None for anything else (an OCR slip, say)."""
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None
