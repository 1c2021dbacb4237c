"""Snippets: a short window of the page text around the query's words, HTML-escaped, matches in <mark>.

Built here from the stored text rather than by the engine, because the engine would only highlight one
of the two indexed forms (exact or folded) and would not know the page text is untrusted OCR output.
Every character of page text is escaped before it reaches the HTML.
"""

import html
import re
import unicodedata

from search.analyzer import Span, words
from search.query import Highlight

SNIPPET_CHARS = 240
_CONTEXT_BEFORE = SNIPPET_CHARS // 4
_WHITESPACE = re.compile(r"\s+")


def build_snippet(text: str, highlight: Highlight, max_chars: int = SNIPPET_CHARS) -> str:
    """HTML for the best window of `text`: the one holding the most distinct matched words."""
    display = unicodedata.normalize("NFC", text)
    matches = _matched_spans(display, highlight)
    if not matches:
        end = _cut_back(display, min(len(display), max_chars), floor=0)
        return _render(display, 0, end, [])
    anchor = matches[_best_window(matches, max_chars)]
    start = _cut_forward(display, max(0, anchor.start - _CONTEXT_BEFORE), ceiling=anchor.start)
    end = _cut_back(display, min(len(display), start + max_chars), floor=anchor.end)
    return _render(display, start, end, [span for span in matches if start <= span.start and span.end <= end])


def _matched_spans(display: str, highlight: Highlight) -> list[Span]:
    spans: list[Span] = []
    for word in words(display):
        if word.is_compound and highlight.matches(word.whole.token):
            spans.append(word.whole)
        else:
            spans.extend(part for part in word.parts if highlight.matches(part.token))
    return spans


def _best_window(matches: list[Span], max_chars: int) -> int:
    """Index of the match that starts the window with the most distinct matched tokens."""
    best, best_count = 0, 0
    for first, span in enumerate(matches):
        inside = {other.token for other in matches[first:] if other.end - span.start <= max_chars}
        if len(inside) > best_count:
            best, best_count = first, len(inside)
    return best


def _cut_forward(display: str, position: int, ceiling: int) -> int:
    """Move a window start forward to a word boundary, never past `ceiling`."""
    if position == 0 or display[position - 1].isspace():
        return position
    boundary = _WHITESPACE.search(display, position, ceiling)
    return boundary.end() if boundary else position


def _cut_back(display: str, position: int, floor: int) -> int:
    """Move a window end back to a word boundary, never before `floor`."""
    if position >= len(display) or display[position].isspace():
        return position
    boundary = max((m.start() for m in _WHITESPACE.finditer(display, floor, position)), default=None)
    return boundary if boundary is not None else position


def _render(display: str, start: int, end: int, marks: list[Span]) -> str:
    pieces = ["…"] if start > 0 else []
    cursor = start
    for span in marks:
        pieces.append(_escape(display[cursor : span.start]))
        pieces.append(f"<mark>{_escape(display[span.start : span.end])}</mark>")
        cursor = span.end
    pieces.append(_escape(display[cursor:end]))
    if end < len(display):
        pieces.append("…")
    return "".join(pieces).strip()


def _escape(text: str) -> str:
    return html.escape(_WHITESPACE.sub(" ", text), quote=True)
