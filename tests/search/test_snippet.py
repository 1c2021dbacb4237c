"""Snippets: the fast paths of `search.snippet` must mark exactly what analysing every word would mark.

`build_snippet` finds candidates with a pattern run on the unfolded page and analyses only the words of
the window that hold one. These tests hold both shortcuts to their definitions: the pattern against
plain folded words searched in `text.translate(_fold_table())`, and the marked spans against
`Highlight.matches` applied to every word of the window, on Vietnamese text and on the exotic
characters (ß, Kelvin's K, İ, Greek with breathings, stray combining marks) that take the slow path.
"""

import random
import re
import unicodedata

import pytest

from search.analyzer import words
from search.query import Highlight, highlight_for, parse
from search.snippet import (
    _cut_back,
    _display_pattern,
    _fold_table,
    _matched_spans,
    _spans_of,
    build_snippet,
)

QUERIES = [
    "hàng giả",
    "hang gia",
    "quy*",
    "Đồng",
    "dong",
    '"cổ phần"',
    "hoà OR thuỷ",
    "194/qđ-kt",
    "0101234567",
    "0101234567-001",
    "ss",
    "ki*",
    "ist*",
    "αλφα",
    "kiểm tra NOT giả",
]
TEXTS = [
    "CÔNG TY TNHH Hàng Giả hàng giá HÀNG GIẢ hàng-giả hàng_giả, hàng.giả",
    "Quyết định số 194/QĐ-KT ngày 12/3/2024; 194/qd-kt; QUY ĐỊNH quý quỹ quy",
    "MST 0101234567-001 và 0101234567, chi nhánh 0101234567-002; ÐỒNG (eth) đồng dong Đông",
    "Hoà bình, hòa giải, thuỷ sản, thủy lợi, HOÀ, THUỶ",
    "Straße ss SS ß ẞ; \u212aelvin kilo; \u0130stanbul istanbul; x\u0303 y\u0301 ἀλφα αλφα",
    "Biên bản kiểm tra – “Công ty cổ phần” № 5 … cổ  phần\tcổ\nphần",
]


def _reference_pattern(highlight: Highlight) -> re.Pattern[str] | None:
    """The definition the display pattern must agree with: folded words, searched in folded text."""
    alternatives = [re.escape(token) + r"(?![^\W_])" for token in sorted(highlight.folded, key=len, reverse=True)]
    alternatives += [re.escape(prefix) + r"[^\W_]*" for prefix in highlight.folded_prefixes]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + ")") if alternatives else None


def _windows(text: str) -> list[str]:
    """The text, and slices of it at every start and a few lengths (windows may start inside a word)."""
    return [text] + [text[start : start + length] for start in range(len(text)) for length in (7, 23, 60)]


@pytest.mark.parametrize("query", QUERIES)
def test_display_pattern_finds_what_the_folded_pattern_finds_in_folded_text(query: str) -> None:
    highlight = highlight_for(parse(query))
    pattern, reference = _display_pattern(highlight), _reference_pattern(highlight)
    assert pattern is not None and reference is not None
    for text in TEXTS:
        display = unicodedata.normalize("NFC", text)
        expected = [match.span() for match in reference.finditer(display.translate(_fold_table()))]
        assert [match.span() for match in pattern.finditer(display)] == expected


@pytest.mark.parametrize("query", QUERIES)
def test_marked_spans_are_those_of_every_word_analysed(query: str) -> None:
    highlight = highlight_for(parse(query))
    for text in TEXTS:
        for window in _windows(unicodedata.normalize("NFC", text)):
            assert _matched_spans(window, highlight) == _spans_of(words(window), highlight), window


def test_marked_spans_agree_on_random_mixtures_of_tricky_characters() -> None:
    pieces = ["Hàng", "giả", "HOÀ", "thuỷ", "194/QĐ-KT", "0101234567-001", "ß", "\u212a", "\u0130", "ἀ", "x\u0303"]
    pieces += [" ", " ", "\n", "-", "/", ".", "_", "“", "”", "…"]
    generator = random.Random(5)
    highlights = [highlight_for(parse(query)) for query in QUERIES]
    for _ in range(300):
        window = unicodedata.normalize("NFC", "".join(generator.choice(pieces) for _ in range(20)))
        for highlight in highlights:
            assert _matched_spans(window, highlight) == _spans_of(words(window), highlight), window


def test_window_end_moves_back_to_the_last_whitespace_run() -> None:
    text = "một hai  ba\tbốn"
    assert _cut_back(text, 13, floor=0) == 11  # inside "bốn": back to the tab
    assert _cut_back(text, 10, floor=0) == 7  # inside "ba": back to the start of the double space
    assert _cut_back(text, 10, floor=9) == 10  # no whitespace after the floor: stays
    assert _cut_back(text, 3, floor=0) == 3  # already on whitespace


def test_snippet_marks_words_in_identifiers_and_across_case_and_diacritics() -> None:
    text = "Căn cứ Quyết định số 194/QĐ-KT; HÀNG GIẢ bị thu giữ, hàng giá rẻ."
    assert build_snippet(text, highlight_for(parse("194/qd-kt"))).count("<mark>194/QĐ-KT</mark>") == 1
    snippet = build_snippet(text, highlight_for(parse("hàng giả")))
    assert "<mark>HÀNG</mark> <mark>GIẢ</mark>" in snippet
    assert "<mark>hàng</mark> <mark>giá</mark> rẻ" in snippet  # folded, "giả" finds "giá" too
