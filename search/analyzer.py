"""The Vietnamese analyzer: one definition of "the same word" shared by indexing, querying and highlighting.

Scanned dossiers mix Unicode forms (NFC and NFD), the look-alike Ð (U+00D0) for Đ, old and new tone
placement (hòa/hoà, thủy/thuỷ) and users who type without diacritics. `normalise` erases the
differences that never change meaning; `fold` also drops the diacritics so "bien ban" finds "Biên bản".
`words` cuts text into syllables and keeps identifiers such as "194/QĐ-KT" or "0101234567-001" whole
as well, so they can be found exactly. Pure functions, no engine types.

Bump ANALYZER_VERSION whenever a change here would produce different tokens for the same text:
indexes built with another version are rebuilt.
"""

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

ANALYZER_VERSION = 1

_LOOKALIKE_D = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110", "\u0256": "\u0111"})
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = frozenset("aăâeêioôơuưy")
_MODIFIED_VOWELS = frozenset("ăâêôơư")
_VIETNAMESE_LETTERS = frozenset("abcdđeghiklmnopqrstuvxyăâêôơư") | frozenset("fjwz")
_SYLLABLE = re.compile(r"[^\W\d_]+")
# A word is a run of letters/digits; connectors inside it (194/QĐ-KT, 0101234567-001, 1.000) keep the
# whole run as one extra token besides its parts.
WORD = re.compile(r"[^\W_]+(?:[/\-._\u2010\u2011][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")
_CONNECTOR = re.compile(r"[/\-._\u2010\u2011]")


class Span(NamedTuple):
    """A normalised token and where it sits in the NFC form of the analysed text.

    Named tuples rather than dataclasses: a page makes hundreds of them, and indexing a million pages
    spends its time here (a frozen dataclass is several times slower to build).
    """

    token: str
    start: int
    end: int


class Word(NamedTuple):
    """A word of the text: `parts` are its syllables; `whole` differs from them only for identifiers."""

    whole: Span
    parts: tuple[Span, ...]

    @property
    def is_compound(self) -> bool:
        return len(self.parts) > 1


def normalise(text: str) -> str:
    """NFC, case-folded, Ð read as Đ, tone marks at one canonical place per syllable (hòa, thủy)."""
    lowered = unicodedata.normalize("NFC", text).translate(_LOOKALIKE_D).casefold()
    return unicodedata.normalize("NFC", _SYLLABLE.sub(lambda m: _canonical_tone(m.group()), lowered))


def fold(text: str) -> str:
    """`normalise`, then without diacritics and with đ as d: "Biên bản" -> "bien ban"."""
    return strip_marks(normalise(text))


@lru_cache(maxsize=131072)
def strip_marks(normalised: str) -> str:
    """Remove diacritics from text that is already normalised (cheaper than `fold`); cached, since
    indexing calls it for every token and a language has far fewer distinct tokens than a page has words."""
    bare = "".join(c for c in unicodedata.normalize("NFD", normalised) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.replace("đ", "d"))


def tokens(text: str) -> list[str]:
    """Normalised tokens: each syllable, and each identifier whole before its parts."""
    result: list[str] = []
    for word in words(text):
        if word.is_compound:
            result.append(word.whole.token)
        result.extend(part.token for part in word.parts)
    return result


def words(text: str) -> list[Word]:
    """The words of `text` with offsets into `unicodedata.normalize("NFC", text)`.

    The whole text is normalised once and tokens are sliced from it: every step of `normalise` works
    within a word, so this equals normalising word by word whenever no character changed length (the
    rare exceptions, such as "ß" case-folding to "ss", take the word-by-word path).
    """
    nfc = unicodedata.normalize("NFC", text)
    normalised = normalise(nfc)
    same_length = len(normalised) == len(nfc)

    def token(start: int, end: int) -> str:
        return normalised[start:end] if same_length else normalise(nfc[start:end])

    found: list[Word] = []
    for match in WORD.finditer(nfc):
        start, end = match.span()
        if _CONNECTOR.search(nfc, start, end) is None:  # most words: one syllable, no parts to find
            single = Span(token(start, end), start, end)
            found.append(Word(single, (single,)))
            continue
        parts = tuple(
            Span(token(start + part.start(), start + part.end()), start + part.start(), start + part.end())
            for part in _PART.finditer(match.group())
        )
        found.append(Word(Span(token(start, end), start, end), parts))
    return found


@lru_cache(maxsize=65536)
def _canonical_tone(syllable: str) -> str:
    """Put the tone mark of a lower-case Vietnamese syllable where the traditional rule puts it."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tone_marks = [c for c in decomposed if c in _TONE_MARKS]
    if len(tone_marks) != 1:
        return syllable
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    if not set(base) <= _VIETNAMESE_LETTERS:
        return syllable
    position = _tone_position(base)
    if position is None:
        return syllable
    return unicodedata.normalize("NFC", base[: position + 1] + tone_marks[0] + base[position + 1 :])


def _tone_position(base: str) -> int | None:
    """Index of the vowel that carries the tone in a toneless syllable (None if it has no vowel).

    A vowel with its own mark (ê, ơ, ư…) wins, the last one for ươ; a closed syllable puts it on the
    last vowel (hoàng, huỳnh); an open one on the first of two (hòa, thủy, mái) or the middle of three
    (ngoài). The u of qu and the i of gi before another vowel are consonants.
    """
    start = 2 if base[:2] in ("qu", "gi") and len(base) > 2 and base[2] in _VOWELS else 0
    first = next((i for i in range(start, len(base)) if base[i] in _VOWELS), None)
    if first is None:
        return None
    end = first
    while end < len(base) and base[end] in _VOWELS:
        end += 1
    modified = [i for i in range(first, end) if base[i] in _MODIFIED_VOWELS]
    if modified:
        return modified[-1]
    if end - first == 1:
        return first
    if end < len(base):
        return end - 1
    return first if end - first == 2 else first + 1
