"""The small picture of a page for the dossier grid, made from the image OCR has just read.

The worker holds the page upright and straightened at full resolution anyway; shrinking it costs a few
milliseconds, while drawing it again later in the web app costs a poppler run (150-250 ms, and one of few
render slots) per page when an archivist first opens a 300-page dossier.
"""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_WIDTH_PX = 160


def thumbnail_png(image: Image.Image, width_px: int = THUMBNAIL_WIDTH_PX) -> bytes:
    """``image`` scaled to ``width_px`` wide (aspect kept), grey, as PNG bytes."""
    height_px = max(1, round(image.height * width_px / image.width))
    small = image.convert("L").resize((width_px, height_px), Image.Resampling.BOX)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=False)
    return out.getvalue()
