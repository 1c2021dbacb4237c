"""Which way up a scanned page is, straightening it, and reading it: without a second full pass per page.

Tesseract's orientation detection (OSD) costs about as much as reading the page, and nearly every
page is stored upright, so hoso does not ask OSD first. Instead:

1. The projection profiles of the ink (ocr/deskew.py, milliseconds) tell whether the text lines run
   across or down the image. Lines running down mean 90 or 270 degrees: OSD picks which.
2. The page is straightened and read at that first guess (0 for lines running across).
3. The reading is judged: upright text reads as confidently recognised words; upside-down or
   sideways text reads as few, short, doubtful ones. A reading that looks like text is the answer.
   Only a doubtful one (a turned page, or a poor scan) pays for OSD and a second reading, and the
   better of the two readings is kept, so a wrong OSD answer cannot make a page worse.

When OSD cannot decide (sparse pages), the candidates are compared by reading the page at half size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from ocr.deskew import find_skew, measure_lines, straighten
from ocr.facts import Word
from ocr.tesseract import LANGUAGES, LineKey, detect_orientation, read_words

ROTATIONS = (0, 90, 180, 270)
# OSD confidence from which its answer is taken as is. On the dev corpus wrong or doubtful answers
# came with confidence below 2; correct ones on full text pages mostly score above 5.
OSD_MIN_CONFIDENCE = 2.0
# A word counts as well read from this confidence and length (short fragments are what garbage
# readings are made of).
_GOOD_WORD_CONFIDENCE = 0.6
_GOOD_WORD_LETTERS = 3
# A reading looks like upright text when this share of its words are well read, and the page has at
# least this many well-read words (fewer: the page is too sparse to judge, so it is checked).
GOOD_WORD_SHARE = 0.5
MIN_GOOD_WORDS = 4
# Candidates are compared on the page reduced by this factor when OSD cannot decide.
_COMPARE_SCALE = 0.5


@dataclass(frozen=True)
class UprightReading:
    """A page read upright: its words refer to `image`, the stored image turned by `rotation` and
    straightened by `skew`."""

    rotation: int
    skew: float
    image: Image.Image
    words: list[tuple[Word, LineKey]] = field(repr=False)

    @property
    def score(self) -> float:
        return reading_score(self.words)


def upright(image: Image.Image, rotation: int) -> Image.Image:
    """Turn content that was stored turned clockwise by `rotation` back to upright."""
    return image.rotate(rotation, expand=True) if rotation % 360 else image


def _good_words(words: list[tuple[Word, LineKey]]) -> list[Word]:
    """Confidently read words that lie across the image. Tesseract's layout analysis reads a block of
    text it finds running vertically on its own, so a page turned a quarter too far can still give
    well-read words; their boxes are then taller than wide, and they must not vouch for the rotation."""
    return [
        word
        for word, _line in words
        if word.confidence >= _GOOD_WORD_CONFIDENCE
        and sum(char.isalnum() for char in word.text) >= _GOOD_WORD_LETTERS
        and word.box[2] - word.box[0] >= word.box[3] - word.box[1]
    ]


def reading_score(words: list[tuple[Word, LineKey]]) -> float:
    """How much confidently read text a reading holds: the summed confidence of its well-read words."""
    return sum(word.confidence for word in _good_words(words))


def looks_like_text(words: list[tuple[Word, LineKey]]) -> bool:
    """True when a reading is plainly of upright text: enough words, most of them well read."""
    good = len(_good_words(words))
    return good >= MIN_GOOD_WORDS and good >= GOOD_WORD_SHARE * len(words)


class _Page:
    """One stored page image and what has been learnt about its orientation (OSD runs at most once)."""

    def __init__(self, image: Image.Image, dpi: float, lang: str) -> None:
        self.image, self.dpi, self.lang = image, dpi, lang
        self._osd: tuple[int, float] | None = None
        self._osd_asked = False

    def osd(self) -> tuple[int, float] | None:
        if not self._osd_asked:
            self._osd, self._osd_asked = detect_orientation(self.image, self.dpi), True
        return self._osd

    def read(self, rotation: int, skew: float | None = None) -> UprightReading:
        """Read the page turned by `rotation` and straightened (by `skew` when it is already known)."""
        turned = upright(self.image, rotation)
        skew = find_skew(turned, self.dpi) if skew is None else skew
        straight = straighten(turned, skew)
        return UprightReading(rotation, skew, straight, read_words(straight, lang=self.lang, dpi=self.dpi))

    def _compare_score(self, rotation: int) -> float:
        turned = upright(self.image, rotation)
        size = (max(1, int(turned.width * _COMPARE_SCALE)), max(1, int(turned.height * _COMPARE_SCALE)))
        small = turned.resize(size, Image.Resampling.BOX)
        return reading_score(read_words(small, lang=self.lang, dpi=self.dpi * _COMPARE_SCALE))

    def choose(self, candidates: tuple[int, ...]) -> int:
        """OSD's answer when it is confident and among `candidates`, else the best half-size reading."""
        osd = self.osd()
        if osd is not None and osd[1] >= OSD_MIN_CONFIDENCE and osd[0] in candidates:
            return osd[0]
        return max(candidates, key=self._compare_score)


def read_upright(image: Image.Image, dpi: float, lang: str = LANGUAGES) -> UprightReading:
    """Find how `image` (a page with content) is turned and skewed, and read it upright and straight."""
    page = _Page(image, dpi, lang)
    lines = measure_lines(image, dpi)
    first_rotation = page.choose((90, 270)) if lines.vertical else 0
    first = page.read(first_rotation, None if lines.vertical else lines.skew)
    if looks_like_text(first.words):
        return first
    second_rotation = page.choose(ROTATIONS)
    if second_rotation == first_rotation:
        return first
    second = page.read(second_rotation)
    return second if second.score > first.score else first
