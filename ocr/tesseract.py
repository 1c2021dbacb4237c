"""The one place that calls Tesseract: word boxes and confidences, and orientation detection.

Pages are read in parallel in separate worker processes, so each Tesseract run gets one thread
(OMP_THREAD_LIMIT=1, inherited by the tesseract subprocess pytesseract starts); several threads per
page would only fight over the same cores.
"""

from __future__ import annotations

import os
import re
import unicodedata

import pytesseract
from PIL import Image

from ocr.facts import Word

os.environ["OMP_THREAD_LIMIT"] = "1"

LANGUAGES = "vie+eng"

_OSD_ORIENTATION = re.compile(r"Orientation in degrees:\s*(\d+)")
_OSD_CONFIDENCE = re.compile(r"Orientation confidence:\s*([\d.]+)")


LineKey = tuple[int, int, int]


def read_words(image: Image.Image, config: str = "--psm 3", lang: str = LANGUAGES) -> list[tuple[Word, LineKey]]:
    """Recognised words with their (block, paragraph, line) key, in Tesseract's reading order."""
    data = pytesseract.image_to_data(image, lang=lang, config=config, output_type=pytesseract.Output.DICT)
    words = []
    for index, raw in enumerate(data["text"]):
        text = unicodedata.normalize("NFC", raw.strip())
        confidence = float(data["conf"][index])
        if not text or confidence < 0:
            continue
        left, top = int(data["left"][index]), int(data["top"][index])
        box = (left, top, left + int(data["width"][index]), top + int(data["height"][index]))
        line_key = (int(data["block_num"][index]), int(data["par_num"][index]), int(data["line_num"][index]))
        words.append((Word(text, round(confidence / 100.0, 3), box), line_key))
    return words


def detect_orientation(image: Image.Image) -> tuple[int, float] | None:
    """Tesseract OSD: (orientation in degrees, confidence), or None when OSD cannot decide."""
    try:
        report = pytesseract.image_to_osd(image)
    except pytesseract.TesseractError:
        return None
    orientation = _OSD_ORIENTATION.search(report)
    confidence = _OSD_CONFIDENCE.search(report)
    if not orientation or not confidence:
        return None
    return int(orientation.group(1)) % 360, float(confidence.group(1))
