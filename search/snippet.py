"""Snippets: a short window of the page text around the query's words, HTML-escaped, matches in <mark>.

Built here from the stored text rather than by the engine, because the engine would only highlight one
of the two indexed forms (exact or folded) and would not know the page text is untrusted OCR output.
Every character of page text is escaped before it reaches the HTML.

A result page shows up to sixty snippets, so the page is not analysed word by word: its letters are
folded by one `str.translate` (length-preserving), a regular expression of the folded query words finds
where matches can be, and only the chosen window is analysed by `search.analyzer` to mark exactly the
words the query looked for.
"""

import html
import re
import unicodedata
from functools import lru_cache

from search.analyzer import Span, fold, words
from search.query import Highlight

SNIPPET_CHARS = 240
_CONTEXT_BEFORE = SNIPPET_CHARS // 4
_WHITESPACE = re.compile(r"\s+")
# Latin (with Vietnamese), Greek and Cyrillic letters: enough for the text hoso sees.
_FOLDABLE_RANGES = ((0x00C0, 0x0250), (0x0370, 0x0530), (0x1E00, 0x1F00))


def build_snippet(text: str, highlight: Highlight, max_chars: int = SNIPPET_CHARS) -> str:
    """HTML for the best window of `text`: the one holding the most distinct matched words."""
    display = unicodedata.normalize("NFC", text)
    candidates = _candidate_spans(display, highlight)
    if not candidates:
        end = _cut_back(display, min(len(display), max_chars), floor=0)
        return _render(display, 0, end, [])
    anchor = candidates[_best_window(candidates, max_chars)]
    start = _cut_forward(display, max(0, anchor.start - _CONTEXT_BEFORE), ceiling=anchor.start)
    end = _cut_back(display, min(len(display), start + max_chars), floor=anchor.end)
    marks = [
        Span(span.token, start + span.start, start + span.end) for span in _matched_spans(display[start:end], highlight)
    ]
    return _render(display, start, end, marks)


def _candidate_spans(display: str, highlight: Highlight) -> list[Span]:
    """Where the query's words may be: folded-form matches, a superset of what `_matched_spans` marks."""
    pattern = _folded_pattern(highlight)
    if pattern is None:
        return []
    folded = display.translate(_fold_table())
    return [Span(match.group(), match.start(), match.end()) for match in pattern.finditer(folded)]


@lru_cache(maxsize=256)
def _folded_pattern(highlight: Highlight) -> re.Pattern[str] | None:
    whole_words = sorted(highlight.folded, key=len, reverse=True)
    alternatives = [re.escape(token) + r"(?![^\W_])" for token in whole_words]
    alternatives += [re.escape(prefix) + r"[^\W_]*" for prefix in highlight.folded_prefixes]
    if not alternatives:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + ")")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Each letter that folds to one other character (Ễ -> e, Đ -> d, A -> a), for `str.translate`."""
    table = {}
    for low, high in ((0x41, 0x5B), *_FOLDABLE_RANGES):
        for code in range(low, high):
            folded = fold(chr(code))
            if len(folded) == 1 and folded != chr(code):
                table[code] = folded
    return table


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
