"""The sheet number (bút lục) written or stamped in the top-right corner of a document sheet.

Numbers are stamped or handwritten above the national header, sometimes with leading zeros ("007")
or a letter suffix for a sheet inserted later ("6a"). Reading the whole page would mix them up with
header and body text, so the corner is searched on its own: ink is grouped into blobs, blobs that
belong to text lines (they run out of the corner to the left or down) or that touch the paper edge
(shadows, staples) are dropped, and each remaining blob is read on its own as a single line with a
digits-and-suffix whitelist. The most confident reading that looks like a sheet number wins.

Leading zeros of worn stamps ("06", "007") are the hard part: Tesseract reads a broken ring as 6, 3
or 9 ("06" -> "66"). So before reading, the blob is cut into its leading glyph and the rest (the
first empty ink column after 0.55 x the glyph height), and a leading glyph shaped like a zero is
recognised by shape, not by Tesseract: in most of its middle rows there is ink at both the left and
the right edge with paper between (a ring, also when the top or bottom is worn away), in some of its
middle columns ink at top and bottom with paper between, and no "waist" (rows with ink in the
middle but none at the left edge: 1, 2, 3, 7) and not two holes one above the other (8). Zeros
are stripped this way one by one (never the last glyph) and only the rest is read by Tesseract.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
from PIL import Image

from ocr.tesseract import read_words

# The corner searched, as shares of the upright page: right of LEFT, above BOTTOM. On the dev
# corpus numbers sit within x 0.83-0.98 and y 0.01-0.08 of the page; the margin allows for a
# larger skew, other positions and 6-digit numbering-machine stamps.
CORNER_LEFT = 0.62
CORNER_BOTTOM = 0.12
# Blob sizes in millimetres of paper: a digit is about 4-11 mm tall.
_MIN_HEIGHT_MM = 2.5
_MAX_HEIGHT_MM = 16.0
_MAX_WIDTH_MM = 60.0
# Ink closer than this (horizontally, vertically) joins one blob: the digits of one number and the
# broken strokes of a worn stamp, but not the next text line.
_JOIN_MM = (3.0, 0.8)
_SPECK_MM = 0.5
_READ_CONFIG = "--psm 7 -c tessedit_char_whitelist=0123456789ab"
_SHEET_NUMBER = re.compile(r"0*([1-9][0-9]{0,5})([a-z]?)")
# Characters OCR confuses with digits in numbers.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "Q": "0", "l": "1", "I": "1", "|": "1", "i": "1"})


def normalise_sheet_number(raw: str) -> str | None:
    """ "007" -> "7", "06a" -> "6a", "12A" -> "12a"; None for anything that is not a sheet number."""
    compact = re.sub(r"[\s.,'`]", "", raw)
    if not compact:
        return None
    digits, suffix = compact[:-1], compact[-1]
    if suffix.isalpha() and digits and suffix.lower() not in "oliq":
        compact = digits.translate(_DIGIT_LOOKALIKES) + suffix.lower()
    else:
        compact = compact.translate(_DIGIT_LOOKALIKES)
    match = _SHEET_NUMBER.fullmatch(compact)
    return match.group(1) + match.group(2) if match else None


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    paper = float(np.percentile(gray, 90))
    return (gray < paper * 0.6).astype(np.uint8)


def _candidate_boxes(ink: np.ndarray, px_per_mm: float, touches_paper_top: bool) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of blobs in the corner crop that may be a sheet number, top first."""
    speck = max(1, int(_SPECK_MM * px_per_mm))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = (stats[1:, cv2.CC_STAT_WIDTH] > speck) | (stats[1:, cv2.CC_STAT_HEIGHT] > speck)
    ink = keep[labels].astype(np.uint8)
    join_x, join_y = (max(1, int(share * px_per_mm)) for share in _JOIN_MM)
    joined = cv2.dilate(ink, np.ones((join_y, join_x), np.uint8))
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    height, width = ink.shape
    boxes = []
    for x, y, w, h, _area in stats[1:]:
        runs_out = x <= 0 or y + h >= height
        at_paper_edge = x + w >= width or (touches_paper_top and y <= 0)
        real_h = h - join_y
        if runs_out or at_paper_edge:
            continue
        if not (_MIN_HEIGHT_MM * px_per_mm <= real_h <= _MAX_HEIGHT_MM * px_per_mm):
            continue
        if w - join_x > _MAX_WIDTH_MM * px_per_mm:
            continue
        boxes.append((int(x), int(y), int(x + w), int(y + h)))
    return sorted(boxes, key=lambda box: box[1])


def _glyph_ink(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Ink of a blob for shape tests: small gaps of worn strokes closed, specks dropped."""
    paper = float(np.percentile(gray, 90))
    size = max(1, round(0.25 * px_per_mm))
    ink = cv2.morphologyEx((gray < paper * 0.7).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(4.0, (0.3 * px_per_mm) ** 2)
    return keep[labels].astype(np.uint8)


def _trim(mask: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The mask cut to its ink's bounding box, and the x offset of the cut; None without ink."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], int(xs.min())


def first_glyph_end(mask: np.ndarray) -> int | None:
    """In a trimmed ink mask of a number, the column where the leading glyph ends; None when the mask
    holds one glyph only. The cut is the first empty column at least 0.55 x the height in (the
    pieces of a broken ring stay together), else the first empty one after 0.3 x the height, else
    the column with the least ink; the rest must look like at least one more glyph."""
    height, width = mask.shape
    if width < 0.9 * height:
        return None
    columns = mask.sum(axis=0)
    empty = [x for x in range(int(0.3 * height), min(width, height)) if columns[x] == 0]
    wide = [x for x in empty if x >= 0.55 * height]
    if wide:
        end = wide[0]
    elif empty:
        end = empty[0]
    else:
        low = int(0.5 * height)
        end = low + int(np.argmin(columns[low : min(width, height)]))
    rest = _trim(mask[:, end:])
    if rest is None or rest[0].shape[0] < 0.5 * height or rest[0].shape[1] < 0.2 * height:
        return None
    return end


def zero_likeness(glyph: np.ndarray, number_height: int) -> float:
    """0..1: how much the ink mask `glyph` looks like a (possibly worn, dotted or broken) zero."""
    size = max(1, round(0.03 * number_height))
    trimmed = _trim(cv2.morphologyEx(glyph, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8)))
    if trimmed is None:
        return 0.0
    shape = trimmed[0]
    height, width = shape.shape
    if height < 0.75 * number_height or not 0.45 <= width / height <= 1.0:
        return 0.0
    side, cap = max(1, int(0.3 * width)), max(1, int(0.3 * height))
    # An 8 is a ring too, but with two holes one above the other.
    count, _labels, stats, centroids = cv2.connectedComponentsWithStats((1 - shape).astype(np.uint8), connectivity=4)
    holes = [
        centroids[index][1]
        for index in range(1, count)
        if stats[index, cv2.CC_STAT_AREA] >= 0.02 * height * width
        and stats[index, cv2.CC_STAT_LEFT] > 0
        and stats[index, cv2.CC_STAT_TOP] > 0
        and stats[index, cv2.CC_STAT_LEFT] + stats[index, cv2.CC_STAT_WIDTH] < width
        and stats[index, cv2.CC_STAT_TOP] + stats[index, cv2.CC_STAT_HEIGHT] < height
    ]
    if len(holes) >= 2 and max(holes) - min(holes) > 0.25 * height:
        return 0.0
    waist = 0
    for y in range(int(0.3 * height), int(0.7 * height)):
        if shape[y, int(0.35 * width) : int(0.65 * width) + 1].any() and not shape[y, :side].any():
            waist += 1
    if waist >= max(2, 0.05 * height):
        return 0.0

    def two_sided(line: np.ndarray, edge: int) -> bool:
        ink = np.nonzero(line)[0]
        return bool(len(ink)) and ink[0] < edge and ink[-1] >= len(line) - edge and not line[ink[0] : ink[-1] + 1].all()

    rows = range(int(0.2 * height), int(0.8 * height))
    columns = range(int(0.3 * width), int(0.7 * width) + 1)
    ring_rows = sum(two_sided(shape[y], side) for y in rows) / max(1, len(rows))
    ring_columns = sum(two_sided(shape[:, x], cap) for x in columns) / max(1, len(columns))
    if ring_rows < 0.7 or ring_columns < 0.25:
        return 0.0
    return round((ring_rows + ring_columns) / 2, 3)


def leading_zeros_cut(mask: np.ndarray, threshold: float = 0.5) -> tuple[int, int]:
    """(number of leading zeros recognised by shape, x in `mask` where the rest of the number starts)."""
    trimmed = _trim(mask)
    if trimmed is None:
        return 0, 0
    rest, offset = trimmed
    number_height = rest.shape[0]
    zeros = 0
    while True:
        end = first_glyph_end(rest)
        if end is None or zero_likeness(rest[:, :end], number_height) < threshold:
            return zeros, offset
        zeros += 1
        cut = _trim(rest[:, end:])
        if cut is None:
            return zeros, offset
        rest, offset = cut[0], offset + end + cut[1]


def _variants(gray: np.ndarray, px_per_mm: float) -> list[Image.Image]:
    """The blob as grayscale, as binary and as binary with broken stamp strokes closed, each scaled
    to the text height Tesseract reads best and set on a white margin."""
    paper = float(np.percentile(gray, 90))
    ink = (gray < paper * 0.7).astype(np.uint8)
    close = max(1, int(0.4 * px_per_mm))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
    variants = []
    for pixels, height in ((gray, 32), ((1 - ink) * 255, 48), ((1 - closed) * 255, 32)):
        blob = Image.fromarray(pixels.astype(np.uint8))
        blob = blob.resize((max(1, round(blob.width * height / blob.height)), height), Image.Resampling.LANCZOS)
        canvas = Image.new("L", (blob.width + height, blob.height + height), 255)
        canvas.paste(blob, (height // 2, height // 2))
        variants.append(canvas)
    return variants


def _read_blob(gray: np.ndarray, px_per_mm: float) -> tuple[str | None, float]:
    """Leading zeros by shape, then the rest read by Tesseract (or the whole blob when the rest gives
    no number)."""
    zeros, start = leading_zeros_cut(_glyph_ink(gray, px_per_mm))
    if zeros:
        number, confidence = _read_ink(gray[:, max(0, start - 1) :], px_per_mm)
        if number is not None:
            return number, confidence
    return _read_ink(gray, px_per_mm)


def _read_ink(gray: np.ndarray, px_per_mm: float) -> tuple[str | None, float]:
    """Vote over the variants: the number read most confidently overall, with its mean confidence."""
    votes: dict[str, float] = {}
    variants = _variants(gray, px_per_mm)
    for variant in variants:
        words = [word for word, _line in read_words(variant, config=_READ_CONFIG, lang="eng")]
        number = normalise_sheet_number("".join(word.text for word in words)) if words else None
        if number is not None:
            votes[number] = votes.get(number, 0.0) + min(word.confidence for word in words)
    if not votes:
        return None, 0.0
    number = max(votes, key=lambda key: votes[key])
    return number, round(votes[number] / len(variants), 3)


def read_sheet_number(upright_image: Image.Image) -> tuple[str | None, float | None]:
    """(normalised sheet number, confidence 0..1) from the top-right corner, or (None, None)."""
    gray_page = upright_image.convert("L")
    px_per_mm = gray_page.width / 210.0 if gray_page.width < gray_page.height else gray_page.height / 210.0
    left = int(gray_page.width * CORNER_LEFT)
    corner = np.asarray(gray_page.crop((left, 0, gray_page.width, int(gray_page.height * CORNER_BOTTOM))))
    best: tuple[str | None, float | None] = (None, None)
    for box in _candidate_boxes(_ink_mask(corner), px_per_mm, touches_paper_top=True):
        x0, y0, x1, y1 = box
        number, confidence = _read_blob(corner[y0:y1, x0:x1], px_per_mm)
        if number is not None and (best[1] is None or confidence > best[1]):
            best = (number, confidence)
    return best
