"""The filterable values of a page, derived one way for every backend so filters and facets agree.

A scope filter on "VN/LCI" must match pages of "VN/LCI/LCI-D1" but not of "VN/LCIX", so each page
carries every ancestor of its unit path and the filter is one exact term. Dates become YYYYMMDD
integers (ordered, no time zone); long free-text values are cut so a facet value stays a short key.
"""

import hashlib
import unicodedata
from datetime import date

from search.analyzer import strip_marks, words

MAX_FACET_VALUE_CHARS = 200


def path_segments(unit_path: str) -> list[str]:
    """The ancestors of a unit path, outermost first: "VN/LCI/X" -> ["VN", "VN/LCI", "VN/LCI/X"]."""
    segments = [segment for segment in unit_path.split("/") if segment]
    return ["/".join(segments[: depth + 1]) for depth in range(len(segments))]


def scope_term(scope: str | None) -> str | None:
    """The `scope` term a query must carry, or None when `scope` covers the whole archive."""
    ancestors = path_segments(scope or "")
    return ancestors[-1] if ancestors else None


def day_number(day: date) -> int:
    """2024-03-02 -> 20240302: ordered like the dates, and readable in an index dump."""
    return day.year * 10000 + day.month * 100 + day.day


def facet_value(text: str) -> str:
    """A free-text case field as a facet key: NFC, single-spaced, at most MAX_FACET_VALUE_CHARS."""
    return " ".join(unicodedata.normalize("NFC", text).split())[:MAX_FACET_VALUE_CHARS]


def dossier_key(dossier_id: str) -> int:
    """A 64-bit number per dossier id, so hits can be grouped from a numeric column without loading them."""
    return int.from_bytes(hashlib.blake2b(dossier_id.encode(), digest_size=8).digest(), "big")


def suggestion_key(text: str) -> str:
    """What a typed prefix is compared with: folded syllables joined by single spaces.

    "Công ty TNHH Minh Phát" -> "cong ty tnhh minh phat", "0101234567-001" -> "0101234567 001", so
    diacritics, case and punctuation never decide whether a name is suggested.
    """
    return " ".join(strip_marks(part.token) for word in words(text) for part in word.parts)


def suggestion_keys(kind: str, value: str) -> list[str]:
    """The keys a case field is suggested under. A business name has its key from each word on, so
    "minh ph" suggests "Công ty TNHH Minh Phát" as "cong ty" does; a tax code or case number only its
    whole key, so "001" does not list every branch."""
    key = suggestion_key(value)
    if not key:
        return []
    if kind != "subject_name":
        return [key]
    syllables = key.split(" ")
    return [" ".join(syllables[start:]) for start in range(len(syllables))]
