"""Line direction and skew from projection profiles, on synthetic pages of known tilt (no OCR)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.deskew import MIN_CORRECTED_DEGREES, find_skew, lines_run_vertically, straighten

DPI = 200.0


def text_page(tilt: float = 0.0) -> Image.Image:
    """An A4 page at 200 dpi with 30 lines of 11 pt-sized text, turned counter-clockwise by `tilt` degrees."""
    page = np.full((2339, 1654), 255, np.uint8)
    words = "QUYET DINH kiem tra viec chap hanh phap luat trong san xuat kinh doanh hang hoa"
    for line in range(30):
        cv2.putText(page, words[line % 7 :], (170, 300 + line * 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    # A frame, as on a cover: long thin blobs that must not steer the profiles.
    cv2.rectangle(page, (100, 100), (1554, 2239), 0, 3)
    return Image.fromarray(page).rotate(tilt, resample=Image.Resampling.BILINEAR, fillcolor=255)


@pytest.mark.parametrize("tilt", [-1.4, -0.5, 0.0, 0.3, 1.2])
def test_skew_is_measured_within_a_tenth_of_a_degree(tilt: float) -> None:
    assert find_skew(text_page(tilt), DPI) == pytest.approx(tilt, abs=0.1)


def test_straightened_page_measures_no_skew() -> None:
    tilted = text_page(1.2)
    straight = straighten(tilted, find_skew(tilted, DPI))
    assert straight.size == tilted.size
    assert abs(find_skew(straight, DPI)) < 0.1


def test_small_skew_is_left_alone() -> None:
    page = text_page(0.0)
    assert straighten(page, MIN_CORRECTED_DEGREES / 2) is page


@pytest.mark.parametrize("turn", [90, 270])
def test_lines_running_down_the_image_are_told_apart(turn: int) -> None:
    assert not lines_run_vertically(text_page(0.7), DPI)
    assert lines_run_vertically(text_page(0.7).rotate(turn, expand=True), DPI)
    assert not lines_run_vertically(text_page(0.7).rotate(180, expand=True), DPI)


def test_empty_page_has_no_skew() -> None:
    empty = Image.new("L", (1654, 2339), 255)
    assert find_skew(empty, DPI) == 0.0
    assert not lines_run_vertically(empty, DPI)
