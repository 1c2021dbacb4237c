"""Which way up a scanned page is, and turning it upright.

Tesseract OSD answers quickly and is right when it is confident; on sparse or unusual pages it
fails or guesses. Then the page is read in each plausible orientation (a band of it, at reduced
size) and the orientation that gives the most confidently recognised words wins. Pages are assumed
portrait, so a landscape image is a candidate for 90/270 first and a portrait one for 0/180.
"""

from __future__ import annotations

from PIL import Image

from ocr.tesseract import detect_orientation, read_words

# OSD confidence from which its answer is taken as is. On the dev corpus wrong or doubtful answers
# came with confidence below 2; correct ones on full text pages mostly score above 5.
OSD_MIN_CONFIDENCE = 2.0
# The band read to compare orientations: a horizontal slice of the upright candidate, scaled down.
_BAND = (0.3, 0.6)
_BAND_SCALE = 0.5


def upright(image: Image.Image, rotation: int) -> Image.Image:
    """Turn content that was stored turned clockwise by `rotation` back to upright."""
    return image.rotate(rotation, expand=True) if rotation % 360 else image


def _reading_score(image: Image.Image, rotation: int) -> float:
    turned = upright(image, rotation)
    top, bottom = (int(turned.height * share) for share in _BAND)
    band = turned.crop((0, top, turned.width, bottom))
    band = band.resize((max(1, int(band.width * _BAND_SCALE)), max(1, int(band.height * _BAND_SCALE))))
    words = [word for word, _line in read_words(band, config="--psm 6")]
    return sum(word.confidence for word in words if word.confidence >= 0.6 and len(word.text) >= 3)


def find_rotation(image: Image.Image) -> int:
    """0, 90, 180 or 270: how far the page content is turned clockwise in `image`."""
    osd = detect_orientation(image)
    if osd is not None and osd[1] >= OSD_MIN_CONFIDENCE:
        return osd[0]
    candidates = [90, 270] if image.width > image.height else [0, 180]
    if osd is not None and osd[0] not in candidates:
        candidates.append(osd[0])
    return max(candidates, key=lambda rotation: _reading_score(image, rotation))
