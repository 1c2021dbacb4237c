"""Which way the text lines of a scan run, how far they are tilted, and straightening them.

Both questions are answered from projection profiles of the ink: when the page is cut into thin
strips along the text lines, strips alternate between full (a line) and empty (the gap between
lines), so the profile of ink per strip is sharp; across the lines, or at a wrong angle, it is flat.
The sharpness (sum of squared strip counts) peaks at the lines' true angle. Working on the ink pixel
coordinates of a page reduced to about 100 dpi, one angle costs a histogram of some ten thousand
points, so the whole search takes a few milliseconds: much less than one OCR pass, which is why the
orientation check starts here (a page whose lines run vertically is turned by 90 or 270 degrees).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# Resolution the profiles are computed on: a text line is still several strips high.
_PROFILE_DPI = 100.0
# Larger blobs are not characters (a 14 pt capital with its accent is about 6 mm high).
_CHARACTER_MM = 8.0
# Smaller blobs are specks, accents or the dots of a dotted leader: a row of dots, evenly spaced,
# makes a sharp profile across the line.
_DOT_MM = 0.6
# Thinner blobs are pieces of frames and rules broken up by thresholding (and a few letters such as
# "l" and "1", which the profile can spare): lined up, they make a sharp profile of their own.
_MIN_BLOB_ASPECT = 0.25
# Scanned skew is small; beyond this, the page was placed crooked on purpose and is not "skew".
MAX_SKEW_DEGREES = 5.0
# Below this a rotation would only blur the image: Tesseract reads text tilted this little as well.
MIN_CORRECTED_DEGREES = 0.2
# The angle search: coarse over the whole range, then fine around the best coarse angle.
_COARSE_STEP = 0.25
_FINE_STEP = 0.025
# Fewer ink pixels than this is no text to measure.
_MIN_INK_POINTS = 100
# Lines are called vertical when the best column profile is this much sharper than the best row
# profile. Horizontal text gives row/column sharpness ratios far above 1, turned text far below.
_VERTICAL_RATIO = 1.0


def _ink_points(image: Image.Image, dpi: float) -> np.ndarray:
    """(x, y) of the ink pixels, float, on the page reduced to about _PROFILE_DPI."""
    scale = min(1.0, _PROFILE_DPI / dpi)
    gray = np.asarray(image.convert("L"))
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _threshold, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # Only character-sized blobs: frames, table rules, edge shadows and seals are long or large and
    # would make a sharp profile of their own (a cover's frame has as much ink as its text).
    count, labels, stats, _centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    px_per_mm = dpi * scale / 25.4
    sides = stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]]
    longest_side, shortest_side = sides.max(axis=1), sides.min(axis=1)
    keep = (
        (longest_side <= _CHARACTER_MM * px_per_mm)
        & (longest_side >= _DOT_MM * px_per_mm)
        & (shortest_side >= longest_side * _MIN_BLOB_ASPECT)
    )
    keep[0] = False  # the background
    y, x = np.nonzero(keep[labels])
    return np.stack([x, y], axis=1).astype(np.float64)


def _sharpness(along: np.ndarray, across: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Profile sharpness for each angle (degrees): strips follow `along` tilted by the angle."""
    scores = np.empty(len(angles))
    for index, angle in enumerate(angles):
        strip = np.round(across + along * np.tan(np.radians(angle))).astype(np.int64)
        counts = np.bincount(strip - strip.min())
        steps = np.diff(counts)
        scores[index] = float(np.dot(steps, steps))
    return scores


def _coarse_angle(along: np.ndarray, across: np.ndarray) -> tuple[float, float]:
    """(angle in degrees, sharpness) of the sharpest profile, in steps of _COARSE_STEP."""
    angles = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 1e-9, _COARSE_STEP)
    scores = _sharpness(along, across, angles)
    best = int(np.argmax(scores))
    return float(angles[best]), float(scores[best])


def _fine_angle(along: np.ndarray, across: np.ndarray, coarse: float) -> float:
    angles = np.arange(coarse - _COARSE_STEP, coarse + _COARSE_STEP + 1e-9, _FINE_STEP)
    return float(angles[int(np.argmax(_sharpness(along, across, angles)))])


@dataclass(frozen=True)
class TextLines:
    """How the text lines of a page image run: `vertical` (the content is turned by 90 or 270
    degrees), else `skew`, how far they are turned counter-clockwise from level, in degrees."""

    vertical: bool
    skew: float


def measure_lines(image: Image.Image, dpi: float) -> TextLines:
    """Direction and skew of the text lines; a page without text measures level."""
    points = _ink_points(image, dpi)
    if len(points) < _MIN_INK_POINTS:
        return TextLines(vertical=False, skew=0.0)
    # A line turned counter-clockwise by a rises to the right: y + x·tan(a) is constant along it.
    row_angle, row_sharpness = _coarse_angle(points[:, 0], points[:, 1])
    _column_angle, column_sharpness = _coarse_angle(points[:, 1], points[:, 0])
    if column_sharpness > row_sharpness * _VERTICAL_RATIO:
        return TextLines(vertical=True, skew=0.0)
    return TextLines(vertical=False, skew=round(_fine_angle(points[:, 0], points[:, 1], row_angle), 2))


def lines_run_vertically(image: Image.Image, dpi: float) -> bool:
    """True when the text lines run top to bottom: the content is turned by 90 or 270 degrees."""
    return measure_lines(image, dpi).vertical


def find_skew(image: Image.Image, dpi: float) -> float:
    """How far the (upright) text lines are turned counter-clockwise, in degrees; 0.0 without text."""
    points = _ink_points(image, dpi)
    if len(points) < _MIN_INK_POINTS:
        return 0.0
    row_angle, _sharpness_there = _coarse_angle(points[:, 0], points[:, 1])
    return round(_fine_angle(points[:, 0], points[:, 1], row_angle), 2)


def straighten(image: Image.Image, skew: float) -> Image.Image:
    """`image` turned back by `skew` degrees, same size, uncovered corners white."""
    if abs(skew) < MIN_CORRECTED_DEGREES:
        return image
    gray = np.asarray(image.convert("L"))
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), -skew, 1.0)
    turned = cv2.warpAffine(
        gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    return Image.fromarray(turned)
