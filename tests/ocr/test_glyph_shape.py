"""Leading zeros recognised by shape, without Tesseract: synthetic ink masks drawn with cv2."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.sheet_number import first_glyph_end, leading_zeros_cut, zero_likeness

HEIGHT = 60


def _canvas(width: int) -> np.ndarray:
    return np.zeros((HEIGHT + 20, width), np.uint8)


def _ring(mask: np.ndarray, x: int, broken: bool = False, dotted: bool = False) -> None:
    """A zero 0.7 x HEIGHT wide at x; `broken`: most of its right side worn away, as in "(:"."""
    center, axes = (x + 21, 10 + HEIGHT // 2), (21, HEIGHT // 2)
    if broken:
        cv2.ellipse(mask, center, axes, 0, 60, 300, 1, 6)  # the left arc, "("
        cv2.ellipse(mask, center, axes, 0, -40, -15, 1, 6)  # two worn pieces on the right, ":"
        cv2.ellipse(mask, center, axes, 0, 15, 40, 1, 6)
    else:
        cv2.ellipse(mask, center, axes, 0, 0, 360, 1, 6)
    if dotted:
        cv2.circle(mask, center, 5, 1, -1)


def _one(mask: np.ndarray, x: int) -> None:
    cv2.line(mask, (x + 14, 10), (x + 14, 10 + HEIGHT), 1, 7)
    cv2.line(mask, (x + 14, 10), (x + 4, 20), 1, 6)
    cv2.line(mask, (x + 2, 10 + HEIGHT), (x + 26, 10 + HEIGHT), 1, 6)


def _eight(mask: np.ndarray, x: int) -> None:
    cv2.ellipse(mask, (x + 20, 10 + HEIGHT // 4), (15, HEIGHT // 4), 0, 0, 360, 1, 6)
    cv2.ellipse(mask, (x + 20, 10 + 3 * HEIGHT // 4), (19, HEIGHT // 4), 0, 0, 360, 1, 6)


def _six(mask: np.ndarray, x: int) -> None:
    cv2.ellipse(mask, (x + 20, 10 + 2 * HEIGHT // 3), (18, HEIGHT // 3), 0, 0, 360, 1, 6)
    cv2.ellipse(mask, (x + 38, 10 + HEIGHT // 2), (36, HEIGHT // 2), 0, 180, 280, 1, 6)


def test_closed_broken_and_dotted_rings_are_zeros() -> None:
    for kwargs in ({}, {"broken": True}, {"dotted": True}):
        mask = _canvas(60)
        _ring(mask, 5, **kwargs)
        assert zero_likeness(mask, HEIGHT + 6) >= 0.5, kwargs


def test_other_digits_are_not_zeros() -> None:
    for draw in (_one, _eight, _six):
        mask = _canvas(60)
        draw(mask, 5)
        assert zero_likeness(mask, HEIGHT + 6) == 0.0, draw.__name__


def test_a_single_glyph_is_not_cut() -> None:
    mask = _canvas(60)
    _ring(mask, 5)
    assert first_glyph_end(mask[8:-8, 3:-8]) is None


def test_broken_zero_before_six_is_stripped() -> None:
    # "06" of a worn stamp: Tesseract reads the broken ring as another 6 ("66").
    mask = _canvas(120)
    _ring(mask, 5, broken=True)
    _six(mask, 60)
    zeros, start = leading_zeros_cut(mask)
    assert zeros == 1
    assert 45 <= start <= 62


def test_two_leading_zeros_are_stripped_but_never_the_last_glyph() -> None:
    mask = _canvas(170)
    _ring(mask, 5)
    _ring(mask, 60, dotted=True)
    _one(mask, 120)
    zeros, start = leading_zeros_cut(mask)
    assert zeros == 2 and start >= 110
    only_zeros = _canvas(120)
    _ring(only_zeros, 5)
    _ring(only_zeros, 60)
    assert leading_zeros_cut(only_zeros)[0] == 1


def test_ten_and_eighteen_keep_their_leading_digit() -> None:
    for draw in (_one, _eight):
        mask = _canvas(120)
        draw(mask, 5)
        _ring(mask, 60)
        assert leading_zeros_cut(mask)[0] == 0, draw.__name__
