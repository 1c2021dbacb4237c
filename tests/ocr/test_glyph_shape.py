"""Cutting a mark into glyphs (ocr.mark.split_glyphs, glyph_features): synthetic ink masks drawn with cv2."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.mark import FEATURE_LENGTH, GLYPH_SIZE, glyph_bitmap, glyph_features, split_glyphs

HEIGHT = 60


def _canvas(width: int) -> np.ndarray:
    return np.zeros((HEIGHT + 20, width), np.uint8)


def _ring(mask: np.ndarray, x: int, broken: bool = False, dotted: bool = False) -> None:
    """A zero 0.7 x HEIGHT wide at x; `broken`: its top and bottom right worn away, as in "()"."""
    center, axes = (x + 21, 10 + HEIGHT // 2), (21, HEIGHT // 2)
    if broken:
        cv2.ellipse(mask, center, axes, 0, 60, 300, 1, 6)  # the left arc, "("
        cv2.ellipse(mask, center, axes, 0, -30, 30, 1, 6)  # a worn piece on the right, ")"
    else:
        cv2.ellipse(mask, center, axes, 0, 0, 360, 1, 6)
    if dotted:
        cv2.circle(mask, center, 5, 1, -1)


def _one(mask: np.ndarray, x: int, slant: int = 0) -> None:
    cv2.line(mask, (x + 14 + slant, 10), (x + 14 - slant, 10 + HEIGHT), 1, 7)


def _six(mask: np.ndarray, x: int) -> None:
    cv2.ellipse(mask, (x + 20, 10 + 2 * HEIGHT // 3), (18, HEIGHT // 3), 0, 0, 360, 1, 6)
    cv2.ellipse(mask, (x + 38, 10 + HEIGHT // 2), (36, HEIGHT // 2), 0, 180, 280, 1, 6)


def _small_a(mask: np.ndarray, x: int) -> None:
    """A suffix letter: 0.6 x HEIGHT, sitting on the baseline."""
    cv2.ellipse(mask, (x + 14, 10 + HEIGHT - 12), (12, 12), 0, 0, 360, 1, 5)
    cv2.line(mask, (x + 27, 10 + HEIGHT - 36), (x + 27, 10 + HEIGHT), 1, 5)


def _trimmed(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def test_broken_and_dotted_zeros_stay_one_glyph() -> None:
    mask = _canvas(180)
    _ring(mask, 5, broken=True)
    _ring(mask, 60, dotted=True)
    _six(mask, 115)
    glyphs = split_glyphs(_trimmed(mask))
    assert len(glyphs) == 3
    assert [glyph.box[0] for glyph in glyphs] == sorted(glyph.box[0] for glyph in glyphs)


def test_touching_digits_are_cut_apart() -> None:
    mask = _canvas(100)
    _ring(mask, 5)
    _ring(mask, 45)  # the two rings share ink around x = 45-50
    glyphs = split_glyphs(_trimmed(mask))
    assert len(glyphs) == 2
    assert all(glyph.box[2] - glyph.box[0] < HEIGHT for glyph in glyphs)


def test_slanted_one_beside_a_zero_is_its_own_glyph() -> None:
    mask = _canvas(100)
    _one(mask, 5, slant=6)
    _ring(mask, 30)
    assert len(split_glyphs(_trimmed(mask))) == 2


def test_features_tell_a_short_suffix_from_a_full_height_digit() -> None:
    mask = _canvas(120)
    _one(mask, 5)
    _small_a(mask, 40)
    glyphs = split_glyphs(_trimmed(mask))
    features = glyph_features(glyphs)
    assert features.shape == (2, FEATURE_LENGTH)
    heights = features[:, GLYPH_SIZE * GLYPH_SIZE]
    bottoms = features[:, GLYPH_SIZE * GLYPH_SIZE + 3]
    assert heights[0] == 1.0 and heights[1] < 0.7
    assert abs(bottoms[1]) < 0.1  # sits on the baseline of the tallest glyph


def test_bitmap_keeps_the_aspect_of_a_thin_glyph() -> None:
    bitmap = glyph_bitmap(np.ones((60, 10), np.uint8))
    columns = np.nonzero(bitmap.sum(axis=0))[0]
    assert bitmap.shape == (GLYPH_SIZE, GLYPH_SIZE)
    assert len(columns) <= 5 and bitmap.max() <= 1.0
