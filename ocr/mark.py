"""Where the sheet-number mark is in the top-right corner, and the glyphs it is made of.

The number is stamped or written on its own, above or beside the national header. Text lines of
the header and body run out of the corner to the left or down; scanner shadows and staples touch
the paper edge. So ink in the corner is grouped into blobs (ink closer than a few millimetres is one
blob: the digits of one number and the broken strokes of a worn stamp, not two text lines) and only
blobs that stay inside the corner and have the size of a handwritten or stamped number are kept.

A blob is then cut into glyphs by connected components (pieces above each other, such as the dot
inside a dotted zero or the broken ring of a worn stamp, are one glyph), and glyphs far wider than
high (touching digits) are cut again at the emptiest ink columns. Each glyph becomes a fixed-size
bitmap plus its size and position relative to the tallest glyph of the blob, which is what tells a
suffix "a" from a zero. Training (`ocr/train_digits.py`) uses the same functions, so the classifier
sees glyphs cut exactly as they are at reading time.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The corner searched, as shares of the upright page: right of LEFT, above BOTTOM. Numbers are put
# 6-30 mm from the right edge and 4-20 mm from the top; the margin allows for 6-digit
# numbering-machine stamps, rotation and skew.
CORNER_LEFT = 0.6
CORNER_BOTTOM = 0.13
# Blob sizes in millimetres of paper: a number is about 3-12 mm tall.
_MIN_HEIGHT_MM = 2.2
_MAX_HEIGHT_MM = 18.0
_MAX_WIDTH_MM = 75.0
# Ink closer than this (horizontally, vertically) joins one blob.
_JOIN_MM = (3.0, 0.8)
_SPECK_MM = 0.4
# Side of the square bitmap a glyph is scaled into.
GLYPH_SIZE = 20
# Extra features after the bitmap: height, width, top and bottom relative to the tallest glyph.
GLYPH_EXTRA = 4
FEATURE_LENGTH = GLYPH_SIZE * GLYPH_SIZE + GLYPH_EXTRA


@dataclass(frozen=True)
class Blob:
    """A candidate mark: its box in page pixels and its ink (1 = ink) inside that box."""

    box: tuple[int, int, int, int]
    ink: np.ndarray


def page_px_per_mm(width: int, height: int) -> float:
    """Pixels per millimetre of an A4 page image, portrait or landscape."""
    return min(width, height) / 210.0


def ink_of(gray: np.ndarray) -> np.ndarray:
    """1 where a pixel is ink: darker than 0.6 x the paper level (the 90th percentile). Coloured and
    grey stamps and pencil-grey handwriting are all well below that on white or yellowed paper."""
    paper = float(np.percentile(gray, 90))
    return (gray < paper * 0.6).astype(np.uint8)


def _drop_specks(ink: np.ndarray, speck: int) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = (stats[1:, cv2.CC_STAT_WIDTH] > speck) | (stats[1:, cv2.CC_STAT_HEIGHT] > speck)
    return keep[labels].astype(np.uint8)


@dataclass(frozen=True)
class Corner:
    """The top-right corner of an upright page: its gray pixels, its left edge on the page, and the
    page's scale. Everything the reader needs, so that corners can be cut once and read many times
    (`bench/sheet_crops.py` tunes the reader on cached corners instead of whole pages)."""

    gray: np.ndarray
    left: int
    px_per_mm: float


def corner_of(gray_page: np.ndarray) -> Corner:
    """The corner of an upright grayscale page that the sheet number is looked for in."""
    page_height, page_width = gray_page.shape
    left, bottom = int(page_width * CORNER_LEFT), int(page_height * CORNER_BOTTOM)
    return Corner(gray=gray_page[:bottom, left:], left=left, px_per_mm=page_px_per_mm(page_width, page_height))


def find_blobs(gray_page: np.ndarray) -> list[Blob]:
    """Candidate marks in the top-right corner of an upright grayscale page, top first."""
    return find_corner_blobs(corner_of(gray_page))


def find_corner_blobs(corner_cut: Corner) -> list[Blob]:
    """Candidate marks in a page's corner, top first; boxes are in page pixels."""
    corner, left, px_per_mm = corner_cut.gray, corner_cut.left, corner_cut.px_per_mm
    ink = _drop_specks(ink_of(corner), max(1, int(_SPECK_MM * px_per_mm)))
    join_x, join_y = (max(1, int(share * px_per_mm)) for share in _JOIN_MM)
    joined = cv2.dilate(ink, np.ones((join_y, join_x), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    height, width = ink.shape
    # The sheet number is put above the first text line or level with it, never below: blobs whose
    # middle is more than 3 mm under that line's top are dates, numbers and words of the text.
    lowest_middle = _first_text_top(stats, px_per_mm) + 3 * px_per_mm
    pieces: list[tuple[list[int], tuple[int, int, int, int]]] = []
    for index in range(1, count):
        x, y, w, h = (int(value) for value in stats[index, :4])
        # Within 1 mm of the corner's left edge counts as running out: a header line may start just inside.
        runs_out = x <= px_per_mm or y + h >= height
        at_paper_edge = x + w >= width or y <= 0
        if not (runs_out or at_paper_edge or y + h / 2 > lowest_middle):
            pieces.append(([index], (x, y, x + w, y + h)))
    blobs = []
    for indices, (x0, y0, x1, y1) in _stack_pieces(pieces, 1.5 * px_per_mm):
        # The dilation grows a blob by the join size; measure the ink itself.
        own = ink[y0:y1, x0:x1] * np.isin(labels[y0:y1, x0:x1], indices)
        ys, xs = np.nonzero(own)
        if len(xs) == 0:
            continue
        top, low, start, end = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        if not _MIN_HEIGHT_MM * px_per_mm <= low - top <= _MAX_HEIGHT_MM * px_per_mm:
            continue
        if end - start > _MAX_WIDTH_MM * px_per_mm:
            continue
        box = (x0 + start, y0 + top, x0 + end, y0 + low)
        blobs.append(_refined(corner, own[top:low, start:end].astype(np.uint8), box, left, px_per_mm))
    return sorted(blobs, key=lambda blob: blob.box[1])


def _stack_pieces(
    pieces: list[tuple[list[int], tuple[int, int, int, int]]], gap: float
) -> list[tuple[list[int], tuple[int, int, int, int]]]:
    """Join blobs stacked one above the other (ink columns overlapping by half the narrower, less
    than `gap` apart, neither more than 4 times as wide as the other): a worn stamp can break a digit
    into a top and a bottom half, each too small to be taken for a number on its own, while a number
    just above a header line is not part of the line."""
    stacked = list(pieces)
    joined = True
    while joined:
        joined = False
        for first in range(len(stacked)):
            for second in range(first + 1, len(stacked)):
                (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) = stacked[first], stacked[second]
                overlap = min(ax1, bx1) - max(ax0, bx0)
                apart = max(ay0, by0) - min(ay1, by1)
                narrow, wide = sorted((ax1 - ax0, bx1 - bx0))
                if overlap >= 0.5 * narrow and apart < gap and wide <= 4 * narrow:
                    box = (min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1))
                    stacked[first] = (a + b, box)
                    del stacked[second]
                    joined = True
                    break
            if joined:
                break
    return stacked


def _first_text_top(stats: np.ndarray, px_per_mm: float) -> int:
    """Top of the topmost text line or table that runs out of the corner to the left (the national
    header's first line, or the first body line or table of a continuation page). A band starting in the
    top millimetre is the scanner's shadow of the paper edge, not text: taking it for the first line
    dropped every mark under it."""
    tops = [int(y) for x, y, w, _h, _area in stats[1:] if x <= px_per_mm and y >= px_per_mm and w >= 20 * px_per_mm]
    return min(tops, default=1 << 30)


def _refined(corner: np.ndarray, seed: np.ndarray, box: tuple[int, int, int, int], left: int, px_per_mm: float) -> Blob:
    """The blob's ink thresholded on its own: a worn or faint stamp is much lighter than the text
    the corner threshold is set for, so the threshold between its ink and the paper around it is
    found by Otsu's method (never stricter than the corner's, never above 0.85 x paper), gaps under
    0.2 mm are closed, and only ink touching the detected blob is kept."""
    x0, y0, x1, y1 = box
    margin = max(2, (y1 - y0) // 4)
    top, low = max(0, y0 - margin), min(corner.shape[0], y1 + margin)
    start, end = max(0, x0 - margin), min(corner.shape[1], x1 + margin)
    region = corner[top:low, start:end]
    paper = float(np.percentile(region, 90))
    otsu, _ = cv2.threshold(region, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = min(max(otsu, paper * 0.6), paper * 0.85)
    close = max(1, round(0.2 * px_per_mm))
    ink: np.ndarray = cv2.morphologyEx(
        (region < threshold).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((close, close), np.uint8)
    )
    anchor = np.zeros_like(ink)
    anchor[y0 - top : y1 - top, x0 - start : x1 - start] = seed
    _count, labels = cv2.connectedComponents(ink, connectivity=8)
    touching = np.unique(labels[(anchor > 0) & (ink > 0)])
    ink = np.isin(labels, touching[touching > 0]).astype(np.uint8)
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return Blob(box=(left + x0, y0, left + x1, y1), ink=seed.astype(np.uint8))
    ry0, ry1, rx0, rx1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    box = (left + start + rx0, top + ry0, left + start + rx1, top + ry1)
    return Blob(box=box, ink=ink[ry0:ry1, rx0:rx1])


@dataclass(frozen=True)
class Glyph:
    """One glyph of a blob: its box inside the blob's ink and its own ink."""

    box: tuple[int, int, int, int]
    ink: np.ndarray


def _groups_by_column(stats: np.ndarray, min_size: float, full_height: float) -> list[list[int]]:
    """Component indices grouped when their ink columns overlap: by 40 % of the narrower when one of
    them is a piece (shorter than `full_height`), by 70 % when both are whole glyphs (slanted
    handwritten digits may overlap a little without being one glyph)."""
    order = sorted(
        (index for index in range(1, len(stats)) if max(stats[index, 2], stats[index, 3]) >= min_size),
        key=lambda index: stats[index, 0],
    )
    groups: list[list[int]] = []
    spans: list[tuple[int, int]] = []
    for index in order:
        x0, x1 = int(stats[index, 0]), int(stats[index, 0] + stats[index, 2])
        if spans:
            g0, g1 = spans[-1]
            overlap = min(g1, x1) - max(g0, x0)
            whole = stats[index, 3] >= full_height and max(stats[other, 3] for other in groups[-1]) >= full_height
            if overlap >= (0.7 if whole else 0.4) * min(g1 - g0, x1 - x0):
                groups[-1].append(index)
                spans[-1] = (min(g0, x0), max(g1, x1))
                continue
        groups.append([index])
        spans.append((x0, x1))
    return groups


def _split_wide(glyph: Glyph, tallest: int) -> list[Glyph]:
    """Cut a glyph wider than the tallest glyph is high (touching digits; no single digit or suffix
    letter is that wide) at its emptiest columns near equal shares of the width."""
    x0, y0, x1, y1 = glyph.box
    width = x1 - x0
    if width <= 1.0 * tallest:
        return [glyph]
    pieces = max(2, round(width / (0.62 * tallest)))
    columns = glyph.ink.sum(axis=0)
    cuts = [0]
    for piece in range(1, pieces):
        centre = piece * width // pieces
        reach = max(1, width // (3 * pieces))
        low, high = max(cuts[-1] + 1, centre - reach), min(width - 1, centre + reach)
        cuts.append(low + int(np.argmin(columns[low:high])) if high > low else centre)
    cuts.append(width)
    result = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        part = glyph.ink[:, start:end]
        ys = np.nonzero(part.any(axis=1))[0]
        if len(ys) == 0:
            continue
        top, bottom = int(ys[0]), int(ys[-1]) + 1
        result.append(Glyph(box=(x0 + start, y0 + top, x0 + end, y0 + bottom), ink=part[top:bottom]))
    return result


def split_glyphs(ink: np.ndarray) -> list[Glyph]:
    """The glyphs of a blob's ink, left to right."""
    height = ink.shape[0]
    close = max(1, round(0.03 * height))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    glyphs = []
    for group in _groups_by_column(stats, min_size=0.15 * height, full_height=0.6 * height):
        x0 = min(int(stats[index, 0]) for index in group)
        y0 = min(int(stats[index, 1]) for index in group)
        x1 = max(int(stats[index, 0] + stats[index, 2]) for index in group)
        y1 = max(int(stats[index, 1] + stats[index, 3]) for index in group)
        own = np.isin(labels[y0:y1, x0:x1], group).astype(np.uint8)
        glyphs.append(Glyph(box=(x0, y0, x1, y1), ink=own))
    if not glyphs:
        return []
    tallest = max(glyph.box[3] - glyph.box[1] for glyph in glyphs)
    glyphs = _join_pieces(glyphs, tallest)
    return [piece for glyph in glyphs for piece in _split_wide(glyph, tallest)]


def _join_pieces(glyphs: list[Glyph], tallest: int) -> list[Glyph]:
    """Join a short piece (under 0.6 x the tallest glyph: the worn right side of a stamped zero) to
    its left neighbour when both together are no wider than one glyph and the gap is small. A suffix
    letter is taller than that, and a digit beside it makes the pair too wide."""
    joined = [glyphs[0]]
    for glyph in glyphs[1:]:
        previous = joined[-1]
        short = min(glyph.box[3] - glyph.box[1], previous.box[3] - previous.box[1]) < 0.6 * tallest
        if short and may_be_one_glyph(previous, glyph, tallest):
            joined[-1] = merged(previous, glyph)
        else:
            joined.append(glyph)
    return joined


def may_be_one_glyph(left: Glyph, right: Glyph, tallest: int) -> bool:
    """True when two neighbouring glyphs together are no wider than one glyph, with a small gap."""
    width = max(left.box[2], right.box[2]) - left.box[0]
    return width <= 0.85 * tallest and right.box[0] - left.box[2] <= 0.15 * tallest


def merged(left: Glyph, right: Glyph) -> Glyph:
    """One glyph holding the ink of both."""
    return Glyph(*ink_union(left, right))


def ink_union(left: Glyph | Blob, right: Glyph | Blob) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The box around two inked boxes (glyphs in a blob, or blobs on a page) and their ink in it."""
    x0, x1 = min(left.box[0], right.box[0]), max(left.box[2], right.box[2])
    y0, y1 = min(left.box[1], right.box[1]), max(left.box[3], right.box[3])
    ink = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for part in (left, right):
        px0, py0, px1, py1 = part.box
        ink[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] |= part.ink
    return (x0, y0, x1, y1), ink


def glyph_features(glyphs: list[Glyph]) -> np.ndarray:
    """One row per glyph: its ink scaled into a GLYPH_SIZE square (aspect kept, centred), then its
    height, width, top and bottom relative to the tallest glyph (a suffix "a" is shorter than a 0)."""
    if not glyphs:
        return np.zeros((0, FEATURE_LENGTH), np.float32)
    tallest = max(glyph.box[3] - glyph.box[1] for glyph in glyphs)
    reference = max(glyphs, key=lambda glyph: glyph.box[3] - glyph.box[1])
    rows = []
    for glyph in glyphs:
        rows.append(
            np.concatenate(
                [
                    glyph_bitmap(glyph.ink).ravel(),
                    [
                        (glyph.box[3] - glyph.box[1]) / tallest,
                        (glyph.box[2] - glyph.box[0]) / tallest,
                        (glyph.box[1] - reference.box[1]) / tallest,
                        (glyph.box[3] - reference.box[3]) / tallest,
                    ],
                ]
            )
        )
    return np.asarray(rows, np.float32)


def glyph_bitmap(ink: np.ndarray) -> np.ndarray:
    """The glyph's ink (1 = ink) scaled so its longer side fills GLYPH_SIZE, centred, values 0..1."""
    height, width = ink.shape
    scale = (GLYPH_SIZE - 2) / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    small = cv2.resize(ink.astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_AREA)
    bitmap = np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.float32)
    top, left = (GLYPH_SIZE - new_h) // 2, (GLYPH_SIZE - new_w) // 2
    bitmap[top : top + new_h, left : left + new_w] = small
    return bitmap
