"""Snippets: a short window of the page text around the query's words, HTML-escaped, matches in <mark>.

Built here from the stored text rather than by the engine, because the engine would only highlight one
of the two indexed forms (exact or folded) and would not know the page text is untrusted OCR output.
Every character of page text is escaped before it reaches the HTML.

A result page shows up to sixty snippets, so the page is not analysed word by word. A regular expression
of the folded query words, each letter a class of every letter that folds to it (so the page text needs
no folding pass), finds where matches can be; that is a superset of the words the query looked for. In
the chosen window only the words holding such a candidate go through `search.analyzer` and
`Highlight.matches`, which decide exactly what is marked; the other words of the window cannot match.
"""

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from search.analyzer import WORD, Span, Word, fold, words
from search.query import Highlight

SNIPPET_CHARS = 240
_CONTEXT_BEFORE = SNIPPET_CHARS // 4
_WHITESPACE = re.compile(r"\s+")
_LAST_WHITESPACE = re.compile(r"\s+(?=\S*\Z)")  # searched with an end position: the last run before it
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
    """Where the query's words may be: folded-form matches (`token` is the match folded), a superset of
    what `_matched_spans` marks."""
    pattern = _display_pattern(highlight)
    if pattern is None:
        return []
    table = _fold_table()
    return [Span(match.group().translate(table), match.start(), match.end()) for match in pattern.finditer(display)]


@lru_cache(maxsize=256)
def _display_pattern(highlight: Highlight) -> re.Pattern[str] | None:
    """The folded query words as whole words (prefixes as word starts), for unfolded text: it matches
    `text` where the plain folded words would match `text.translate(_fold_table())`, at the same
    offsets, without translating the text (each letter is a class of every letter that folds to it).

    It starts with one class of every possible first letter, then checks the word boundary before it,
    then each alternative's first letter again: a pattern opening with a class lets the `re` engine skip
    ahead to those letters instead of trying every position.
    """
    alternatives = [(token, r"(?![^\W_])") for token in sorted(highlight.folded, key=len, reverse=True)]
    alternatives += [(prefix, r"[^\W_]*") for prefix in highlight.folded_prefixes]
    if not alternatives:
        return None
    first_letters = sorted({source for word, _ in alternatives for source in _letter_sources(word[0])})
    branches = [f"(?<={_letter_classes(word[0])}){_letter_classes(word[1:])}{end}" for word, end in alternatives]
    return re.compile(f"{_class_of(first_letters)}(?<![^\\W_][\\s\\S])(?:{'|'.join(branches)})")


def _letter_classes(folded: str) -> str:
    return "".join(_class_of(_letter_sources(char)) for char in folded)


@lru_cache(maxsize=1024)
def _letter_sources(char: str) -> tuple[str, ...]:
    """Every character `_fold_table` turns into `char`, and `char` itself unless the table changes it."""
    table = _fold_table()
    sources = [chr(source) for source, target in table.items() if target == char]
    return tuple(sources if ord(char) in table else [char, *sources])


def _class_of(chars: Sequence[str]) -> str:
    escaped = "".join(re.escape(char) for char in chars)
    return escaped if len(chars) == 1 else f"[{escaped}]"


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


def _matched_spans(window: str, highlight: Highlight) -> list[Span]:
    """The spans of `window` to mark: what `Highlight.matches` accepts among `words(window)`.

    When every character of the window folds alone as `_fold_table` folds it (all but exotic text), a word
    can match only where `_display_pattern` finds a candidate, so only the words holding one are analysed.
    """
    pattern = _display_pattern(highlight)
    if pattern is None or _unfoldable().search(window) or not unicodedata.is_normalized("NFC", window):
        return _spans_of(words(window), highlight)
    spans: list[Span] = []
    word_end = 0
    for candidate in pattern.finditer(window):
        if candidate.start() < word_end:
            continue  # in the word just analysed
        word = _word_at(window, candidate.start())
        word_end = word.end()
        found = _spans_of(words(word.group()), highlight)
        spans.extend(Span(span.token, word.start() + span.start, word.start() + span.end) for span in found)
    return spans


def _word_at(window: str, position: int) -> re.Match[str]:
    """The `WORD` holding the letter at `position`, as `WORD.finditer(window)` cuts it: a word never
    crosses whitespace, so cutting from the last whitespace before it gives the same words."""
    space = _LAST_WHITESPACE.search(window, 0, position)
    for word in WORD.finditer(window, space.end() if space else 0):
        if word.end() > position:
            return word
    raise ValueError(f"no word at {position}")  # unreachable: `position` holds a letter or digit


@lru_cache(maxsize=1)
def _unfoldable() -> re.Pattern[str]:
    """A character outside the scripts hoso folds, or one whose `fold` is not `_fold_table`'s one letter
    (a compatibility form such as Kelvin's K, a ligature such as ß that case-folds to two letters)."""
    table = _fold_table()
    simple = [
        char
        for low, high in (
            (0x00, 0x80),
            (0x80, 0x250),
            (0x370, 0x530),
            (0x1E00, 0x1F00),
            (0x2000, 0x20C0),
            (0x2100, 0x2150),
        )
        for char in map(chr, range(low, high))
        if not unicodedata.combining(char) and fold(char) == table.get(ord(char), char)
    ]
    return re.compile("[^" + "".join(re.escape(char) for char in simple) + "]")


def _spans_of(found: list[Word], highlight: Highlight) -> list[Span]:
    spans: list[Span] = []
    for word in found:
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
    boundary = _LAST_WHITESPACE.search(display, floor, position)
    return boundary.start() if boundary is not None else position


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
