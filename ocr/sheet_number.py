"""The sheet number (bút lục) written or stamped in the top-right corner of a document sheet.

Numbers are stamped or handwritten above the national header, sometimes with leading zeros ("007")
or a letter suffix for a sheet inserted later ("6a"). Tesseract alone reads a worn zero as 6, 3 or
9 and a hand "1" as nothing, and finds numbers in any corner ink, so reading goes in three steps:

1. `ocr.mark.find_blobs`: blobs of ink that stay inside the corner and have a number's size
   (header and body lines run out of it, shadows touch the paper edge);
2. `ocr.mark.split_glyphs` and `ocr.digits`: each blob cut into glyphs, each glyph classified as a
   digit, a suffix letter a-d or "other" by our own classifier; a blob is a number only when every
   glyph is a digit, except possibly a last suffix letter, each with a clear margin;
3. Tesseract reads a clean, tight, binary crop of the chosen blob as a second opinion. When it reads
   the same number the confidence is high, otherwise the classifier's reading stands with a low
   confidence, for a person to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ocr.digits import CLASSES, OTHER, class_probabilities
from ocr.mark import (
    Blob,
    Corner,
    Glyph,
    corner_of,
    find_corner_blobs,
    glyph_features,
    ink_union,
    may_be_one_glyph,
    merged,
    split_glyphs,
)
from ocr.tesseract import read_words

_SHEET_NUMBER = re.compile(r"0*([1-9][0-9]{0,5})([a-z]?)")
# Characters OCR confuses with digits in numbers.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "Q": "0", "l": "1", "I": "1", "|": "1", "i": "1"})
_TESSERACT_CONFIG = "--psm 7 -c tessedit_char_whitelist=0123456789abcd"
# A number has at most 6 digits and a suffix; more glyphs is a line of text.
_MAX_GLYPHS = 7
# Below this probability for its class, a glyph makes the blob no number at all. Chosen on
# generated dossiers (seeds 7002, 7003): 0.6 -> 0.45 turned 4 worn stamps from None into right reads
# and invented no number on their 27 unnumbered pages.
MIN_GLYPH_PROBABILITY = 0.45
# Confidence when the classifier and Tesseract agree / disagree, scaled by the classifier's own.
_AGREED, _DISAGREED = (0.5, 0.5), (0.0, 0.45)
# The highest confidence of a number with an unread blob beside it on its line (a digit may be lost).
_BESIDE_UNREAD = 0.45


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


@dataclass(frozen=True)
class MarkReading:
    """What the classifier read in one blob: the number and the lowest glyph probability."""

    blob: Blob
    number: str
    glyph_confidence: float


def _weakest_glyph(probabilities: np.ndarray) -> float:
    """How sure the least certain glyph is of being some digit or suffix letter (not "other")."""
    return float(probabilities[:, : len(CLASSES) - 1].max(axis=1).min())


def _rejoin_broken_glyphs(glyphs: list[Glyph]) -> tuple[list[Glyph], np.ndarray]:
    """Glyphs and their class probabilities, after joining neighbours that fit in one glyph's width
    whenever the join makes the weakest glyph surer: a worn stamped zero falls apart into "(" and ")",
    each of which is no good digit, while the two "1"s of "11" are each a good digit on their own."""
    probabilities = class_probabilities(glyph_features(glyphs))
    tallest = max(glyph.box[3] - glyph.box[1] for glyph in glyphs)
    joined = True
    while joined and len(glyphs) > 1:
        joined = False
        for index in range(len(glyphs) - 1):
            if not may_be_one_glyph(glyphs[index], glyphs[index + 1], tallest):
                continue
            trial = [*glyphs[:index], merged(glyphs[index], glyphs[index + 1]), *glyphs[index + 2 :]]
            trial_probabilities = class_probabilities(glyph_features(trial))
            if _weakest_glyph(trial_probabilities) > _weakest_glyph(probabilities):
                glyphs, probabilities, joined = trial, trial_probabilities, True
                break
    return glyphs, probabilities


def classify_blob(blob: Blob) -> MarkReading | None:
    """The blob read glyph by glyph, or None when it is not a sheet number."""
    glyphs = split_glyphs(blob.ink)
    if not 0 < len(glyphs) <= _MAX_GLYPHS + 2:
        return None
    glyphs, probabilities = _rejoin_broken_glyphs(glyphs)
    if len(glyphs) > _MAX_GLYPHS:
        return None
    best = probabilities.argmax(axis=1)
    text = "".join(CLASSES[index] for index in best)
    if OTHER in text:
        return None
    confidence = float(probabilities[np.arange(len(best)), best].min())
    number = normalise_sheet_number(text)
    if number is None or confidence < MIN_GLYPH_PROBABILITY:
        return None
    return MarkReading(blob=blob, number=number, glyph_confidence=round(confidence, 3))


def tesseract_reading(blob: Blob) -> str | None:
    """Tesseract's reading of the blob's ink alone: binary, 40 px high, on a white margin."""
    ink = Image.fromarray(((1 - blob.ink) * 255).astype(np.uint8))
    height = 40
    ink = ink.resize((max(1, round(ink.width * height / ink.height)), height), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (ink.width + height, ink.height + height), 255)
    canvas.paste(ink, (height // 2, height // 2))
    words = read_words(canvas, config=_TESSERACT_CONFIG, lang="eng")
    return normalise_sheet_number("".join(word.text for word, _line in words)) if words else None


def read_sheet_number(upright_image: Image.Image) -> tuple[str | None, float | None]:
    """(normalised sheet number, confidence 0..1) from the top-right corner, or (None, None)."""
    return read_corner(corner_of(np.asarray(upright_image.convert("L"))))


def read_corner(corner: Corner) -> tuple[str | None, float | None]:
    """`read_sheet_number` on a corner already cut from its page."""
    blobs = find_corner_blobs(corner)
    readings = _joined_neighbours([reading for blob in blobs if (reading := classify_blob(blob)) is not None])
    if not readings:
        return None, None
    chosen = max(readings, key=lambda reading: reading.glyph_confidence)
    base, share = _AGREED if tesseract_reading(chosen.blob) == chosen.number else _DISAGREED
    confidence = base + share * chosen.glyph_confidence
    if any(_beside(blob, chosen.blob) for blob in blobs if not _within(blob, chosen.blob)):
        confidence = min(confidence, _BESIDE_UNREAD)
    return chosen.number, round(confidence, 3)


def _beside(blob: Blob, mark: Blob) -> bool:
    """True when `blob` sits on the mark's line, at least half its height, less than one mark height
    to its left or right: a digit of the same number that fell into a blob of its own."""
    height = mark.box[3] - mark.box[1]
    overlap = min(blob.box[3], mark.box[3]) - max(blob.box[1], mark.box[1])
    gap = max(blob.box[0], mark.box[0]) - min(blob.box[2], mark.box[2])
    return (
        overlap >= 0.5 * min(height, blob.box[3] - blob.box[1])
        and gap < height
        and (blob.box[3] - blob.box[1] >= 0.5 * height)
    )


def _within(blob: Blob, mark: Blob) -> bool:
    x0, y0, x1, y1 = blob.box
    return x0 >= mark.box[0] and y0 >= mark.box[1] and x1 <= mark.box[2] and y1 <= mark.box[3]


def _joined_neighbours(readings: list[MarkReading]) -> list[MarkReading]:
    """Numbers read in blobs side by side on one line joined into one ("3" and "7" of a handwritten
    "37" written far apart): taking either alone loses a digit with full confidence."""
    ordered = sorted(readings, key=lambda reading: reading.blob.box[0])
    joined: list[MarkReading] = []
    for reading in ordered:
        previous = joined[-1] if joined else None
        if previous is not None and previous.number.isdigit() and _beside(reading.blob, previous.blob):
            joined[-1] = MarkReading(
                blob=Blob(*ink_union(previous.blob, reading.blob)),
                number=previous.number + reading.number,
                glyph_confidence=min(previous.glyph_confidence, reading.glyph_confidence),
            )
        else:
            joined.append(reading)
    return joined
