"""The search words marked in a page's whole OCR text, for the viewer a search hit opens.

Marks come from the query's own parse (``search.query``) and the analyzer's words, so they agree with the
index: "bien ban" marks "Biên bản", "194/qd-kt" marks "194/QĐ-KT", and a word the query excludes is not
marked. The result is a list of plain-text pieces with a flag, never HTML: the template and the script each
put the pieces into the page as text (autoescaped, ``textContent``), so OCR text cannot become markup.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from search.analyzer import Span, words
from search.index import QuerySyntaxError
from search.query import Highlight, highlight_for, parse


@dataclass(frozen=True)
class Piece:
    """A run of the page text; ``marked`` when it is a word the search looked for."""

    text: str
    marked: bool


def marked_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Start and end offsets, in the NFC form of ``text``, of the words ``query`` looks for.

    A query that does not parse marks nothing: the viewer still shows the page.
    """
    try:
        highlight = highlight_for(parse(query))
    except QuerySyntaxError:
        return []
    if not (highlight.exact or highlight.exact_prefixes):
        return []
    return [(span.start, span.end) for span in _spans(text, highlight)]


def _spans(text: str, highlight: Highlight) -> list[Span]:
    found: list[Span] = []
    for word in words(text):
        # An identifier matched whole is marked whole; otherwise each matching syllable on its own.
        candidates = [word.whole] if word.is_compound and highlight.matches(word.whole.token) else word.parts
        found.extend(span for span in candidates if highlight.matches(span.token))
    return found


def pieces(text: str, query: str) -> list[Piece]:
    """``text`` (as NFC) cut into plain and marked pieces; one plain piece when nothing is marked."""
    display = unicodedata.normalize("NFC", text)
    result: list[Piece] = []
    cursor = 0
    for start, end in marked_spans(display, query) if query.strip() else []:
        if start > cursor:
            result.append(Piece(display[cursor:start], False))
        result.append(Piece(display[start:end], True))
        cursor = end
    if cursor < len(display) or not result:
        result.append(Piece(display[cursor:], False))
    return result
