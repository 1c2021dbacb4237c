"""The reading judge that decides whether a page needs an orientation check (pure, no OCR)."""

from __future__ import annotations

from PIL import Image

from ocr.facts import Word
from ocr.orientation import looks_like_text, reading_score, upright
from ocr.tesseract import LineKey


def reading(*words: tuple[str, float]) -> list[tuple[Word, LineKey]]:
    return [(Word(text, confidence, (0, 0, 1, 1)), (1, 1, 1)) for text, confidence in words]


UPRIGHT = reading(
    ("QUYẾT", 0.93), ("ĐỊNH", 0.95), ("Về", 0.96), ("việc", 0.94), ("kiểm", 0.91), ("tra", 0.97), ("Số:", 0.9)
)
# What Tesseract makes of upside-down Vietnamese: short fragments, doubtful letters.
UPSIDE_DOWN = reading(("ɥuıp", 0.31), ("'", 0.12), ("ọ", 0.45), ("ᴉʌ", 0.22), ("uễb", 0.58), ("ıɐ", 0.4), ("ɐɹʇ", 0.61))


def test_confident_words_look_like_text() -> None:
    assert looks_like_text(UPRIGHT)


def test_a_garbled_reading_does_not() -> None:
    assert not looks_like_text(UPSIDE_DOWN)


def test_too_few_words_to_judge_are_checked() -> None:
    assert not looks_like_text(reading(("Hạnh", 0.95), ("phúc", 0.94)))
    assert not looks_like_text([])


def test_score_counts_only_well_read_words() -> None:
    assert reading_score(UPSIDE_DOWN) == 0.61
    assert reading_score(UPRIGHT) > reading_score(UPSIDE_DOWN)


def test_upright_turns_back_counter_clockwise() -> None:
    stored = Image.new("L", (30, 20), 255)
    stored.putpixel((0, 0), 0)  # content turned 90° clockwise: this is the bottom-left of the upright page
    turned = upright(stored, 90)
    assert turned.size == (20, 30)
    assert turned.getpixel((0, 29)) == 0
    assert upright(stored, 0) is stored


def test_words_read_down_the_page_do_not_vouch_for_the_rotation() -> None:
    """Tesseract reads a vertical block on its own: a page turned a quarter too far (a sparse signature
    page, dev-003 page 8) gave well-read words in boxes taller than wide."""
    sideways = [(Word(word.text, word.confidence, (0, 0, 10, 40)), line) for word, line in UPRIGHT]
    assert looks_like_text(UPRIGHT)
    assert not looks_like_text(sideways)
    assert reading_score(sideways) == 0
