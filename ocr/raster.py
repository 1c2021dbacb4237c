"""One PDF page as a grayscale image at a sensible resolution, and telling blank pages from pages with content.

Only the requested page is decoded, so a worker holds one page in memory. A scanned page is one image
drawn over the whole page: then the image itself is decoded (pikepdf and Pillow; 20-40 ms for a 300
dpi CCITT or JPEG page) instead of having poppler render the page (150-250 ms per page in pdftoppm,
and 5-7 s when it has to write PNG). Any other page, or a scan image drawn in any other way, is
rendered by `pdftoppm` to a PGM. Scans carry their own resolution: rendering above it only
interpolates, so the requested dpi is capped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pikepdf
from pdf2image import convert_from_path
from pikepdf.models.image import PdfImage
from PIL import Image

# Blank detection works on this resolution: enough for text strokes, cheap to filter.
_BLANK_DPI = 75.0
# Ignore this fraction of each edge: punch holes, staples, edge shadows and scanner borders live there.
_BLANK_MARGIN = 0.07
# A page is blank when less than this share of its inner area is ink after removing specks.
# Measured on the dev corpus: blank backs, with or without show-through, measure 0.0; the sparsest
# page with text (a back holding the last lines of a document) measures 0.0028.
BLANK_INK_SHARE = 0.0003
# A scan image "covers the page" when it is placed within this many points of the page box.
_PLACEMENT_TOLERANCE_PT = 1.0
_PDFTOPPM_TIMEOUT_S = 120


@dataclass(frozen=True)
class RenderedPage:
    """A page's grayscale pixels; `dpi` is pixels per inch of the page in `image`.

    `scan_dpi` is the resolution of the page's scan image as stored in the PDF (None for a page
    without an image): the resolution the team scanned at, whatever hoso rendered at.
    """

    image: Image.Image
    dpi: float
    scan_dpi: float | None


def count_pages(pdf_path: Path) -> int:
    """Number of pages in the PDF."""
    with pikepdf.open(pdf_path) as pdf:
        return len(pdf.pages)


def _page_long_inches(pdf_page: pikepdf.Page) -> float:
    x0, y0, x1, y1 = (float(value) for value in pdf_page.mediabox)
    return max(abs(x1 - x0), abs(y1 - y0)) / 72.0


def _scan_dpi(pdf_page: pikepdf.Page, long_inches: float) -> float | None:
    """Resolution of the largest image on the page, None when the page has no image."""
    resolutions = [
        max(int(image.get("/Width", 0)), int(image.get("/Height", 0))) / long_inches
        for image in pdf_page.get_images().values()
    ]
    return max(resolutions) if resolutions and long_inches else None


def _whole_page_scan(pdf_page: pikepdf.Page) -> pikepdf.Stream | None:
    """The image XObject when the page is exactly one plain image drawn over the whole page, upright.

    Anything else (page rotation, other drawing, masks, inverted or unusual colour spaces) is left to
    poppler, which draws every PDF right.
    """
    if int(pdf_page.obj.get("/Rotate", 0)) % 360:
        return None
    operations = [(str(item.operator), list(item.operands)) for item in pikepdf.parse_content_stream(pdf_page)]
    drawing = [(operator, operands) for operator, operands in operations if operator not in ("q", "Q")]
    if len(drawing) != 2 or drawing[0][0] != "cm" or drawing[1][0] != "Do":
        return None
    a, b, c, d, e, f = (float(value) for value in drawing[0][1])
    x0, y0, x1, y1 = (float(value) for value in pdf_page.mediabox)
    placed = (e, f, e + a, f + d)
    if (
        b
        or c
        or a <= 0
        or d <= 0
        or any(abs(p - q) > _PLACEMENT_TOLERANCE_PT for p, q in zip(placed, (x0, y0, x1, y1), strict=True))
    ):
        return None
    image = pdf_page.get_images().get(str(drawing[1][1][0]))
    if not isinstance(image, pikepdf.Stream) or any(
        key in image for key in ("/ImageMask", "/Mask", "/SMask", "/Decode")
    ):
        return None
    plain_colours = image.get("/ColorSpace") in ("/DeviceGray", "/DeviceRGB")
    if not plain_colours or int(image.get("/BitsPerComponent", 0)) not in (1, 8):
        return None
    return image


def _decode_scan(image: pikepdf.Stream) -> Image.Image | None:
    try:
        return PdfImage(image).as_pil_image().convert("L")
    except Exception:  # noqa: BLE001 - a filter or parameter pikepdf cannot decode: poppler renders the page
        return None


def _pdftoppm(pdf_path: Path, page: int, dpi: int) -> Image.Image:
    """Poppler's rendering of one page, as PGM through a pipe (PNG encoding costs seconds on noisy scans)."""
    (image,) = convert_from_path(
        pdf_path, dpi=dpi, first_page=page, last_page=page, grayscale=True, fmt="ppm", timeout=_PDFTOPPM_TIMEOUT_S
    )
    return image


def render_page(pdf_path: Path, page: int, dpi: int) -> RenderedPage:
    """The 1-based `page` in grayscale at `dpi`, or at the scan's own resolution when that is lower."""
    with pikepdf.open(pdf_path) as pdf:
        pdf_page = pdf.pages[page - 1]
        long_inches = _page_long_inches(pdf_page)
        scan_dpi = _scan_dpi(pdf_page, long_inches)
        scan = _whole_page_scan(pdf_page)
        image = _decode_scan(scan) if scan is not None else None
    if image is None:
        image = _pdftoppm(pdf_path, page, min(dpi, round(scan_dpi)) if scan_dpi else dpi)
    elif scan_dpi and scan_dpi > dpi * 1.05:
        scale = dpi / scan_dpi
        size = (round(image.width * scale), round(image.height * scale))
        image = Image.fromarray(cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA))
    return RenderedPage(image, max(image.size) / long_inches, round(scan_dpi, 2) if scan_dpi else None)


def ink_share(image: Image.Image, dpi: float) -> float:
    """Share of the inner page area covered by ink blobs larger than scanner specks."""
    scale = _BLANK_DPI / dpi
    small = image.convert("L").resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX
    )
    pixels = np.asarray(small)
    height, width = pixels.shape
    margin_y, margin_x = int(height * _BLANK_MARGIN), int(width * _BLANK_MARGIN)
    inner = pixels[margin_y : height - margin_y, margin_x : width - margin_x]
    paper = float(np.median(inner))
    ink = cv2.morphologyEx((inner < paper * 0.6).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return float(ink.mean()) if ink.size else 0.0


def is_blank(image: Image.Image, dpi: float) -> bool:
    """True for a page without content (a blank back, possibly with faint show-through)."""
    return ink_share(image, dpi) < BLANK_INK_SHARE
