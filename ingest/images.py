"""Scanned images (multi-page TIFF, JPEG, PNG) to a PDF of the same pixels, one page per frame.

No pixel changes, so OCR and the archive copy see exactly what the scanner produced. A JPEG or PNG file
is embedded as it is by img2pdf. A TIFF is taken frame by frame, so memory holds one decoded frame and
not the whole file (img2pdf alone reads the whole file and builds the whole PDF in memory): bilevel
frames are written as CCITT G4, the fax compression of scanners, and others as PNG data, both lossless;
batches of frames go to temp PDFs that are merged page by page at the end.

Frames are measured from their headers only (Pillow opens lazily), so a decompression bomb is refused
before a single pixel is decoded. Pillow's own bomb guard is lifted while hoso reads and converts: hoso
applies its own limit (``HOSO_MAX_PAGE_MPIXELS``) first, and Pillow's fixed one (179 Mpx) would otherwise
refuse pages that hoso's setting allows. The lift is process-wide: it is counted under a lock and undone
when the last conversion ends.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image

from ingest.errors import IngestError, PageTooLarge, TooManyPages, UnreadableImage
from ingest.sniff import MediaType

# QLTT dossiers are A4 (Decree 30/2020 on administrative documents): an image that does not say its
# resolution, or says 72/96 dpi as cameras and screen tools do, is taken to be an A4 sheet on its long side.
A4_LONG_SIDE_INCHES = 297 / 25.4
# Below this a declared resolution is a software default, not a scanner's.
MIN_CREDIBLE_DPI = 100.0
# Above this a declared resolution is damage: scanners stop at 4800 dpi optical, 19200 interpolated.
MAX_CREDIBLE_DPI = 20000.0
POINTS_PER_INCH = 72.0
# TIFF frames converted per temp PDF: bounds both memory (one batch of compressed frames) and the number
# of temp PDFs open at once while merging (2000 pages: 250 files).
FRAMES_PER_BATCH = 8
_PNG_MODES = {"L", "LA", "P", "RGB", "RGBA", "I", "I;16"}
# The most pixels a PNG may have when img2pdf must decode it to make the pages PDF during the upload (an
# interlaced or transparent PNG, or a palette with an ICC profile; a plain PNG's data is copied as it is).
# Past this, a tiny file costs a web worker much time and memory: a 281 KB interlaced grey PNG of
# 17000 x 17000 px took 31 s and 309 MB to accept (three times the memory in colour). A4 at 600 dpi is 35 Mpx.
MAX_DECODED_PNG_PIXELS = 50_000_000

_PILLOW_LIMIT_LOCK = threading.Lock()
# How many conversions run with Pillow's guard lifted, and the guard to put back after the last one.
_lifted_by = 0
_pillow_limit: int | None = Image.MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class Frame:
    """One page of an image file, as its header describes it (a TIFF frame's size is the upright one: below)."""

    width_px: int
    height_px: int
    dpi: tuple[float, float]

    @property
    def pixels(self) -> int:
        return self.width_px * self.height_px

    @property
    def page_size_pt(self) -> tuple[float, float]:
        return self.width_px / self.dpi[0] * POINTS_PER_INCH, self.height_px / self.dpi[1] * POINTS_PER_INCH


@contextmanager
def _hoso_pixel_limit() -> Iterator[None]:
    """Pillow's guard lifted while hoso converts; counted, so concurrent uploads do not wait for each other."""
    global _lifted_by, _pillow_limit
    with _PILLOW_LIMIT_LOCK:
        if _lifted_by == 0:
            _pillow_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _lifted_by += 1
    try:
        yield
    finally:
        with _PILLOW_LIMIT_LOCK:
            _lifted_by -= 1
            if _lifted_by == 0:
                Image.MAX_IMAGE_PIXELS = _pillow_limit


def page_dpi(width_px: int, height_px: int, declared: tuple[float, float] | None) -> tuple[float, float]:
    """The resolution a page is laid out at: the declared one when credible, else an A4 long side.

    A resolution that is no number pair (a TIFF's 0/0 rational, which Pillow cannot even compare) or beyond
    any scanner's is not credible either: the scan is kept, laid out as A4.
    """
    try:
        x_dpi, y_dpi = (float(value) for value in declared or (0.0, 0.0))
    except (TypeError, ValueError, ZeroDivisionError):
        x_dpi = y_dpi = 0.0
    if MIN_CREDIBLE_DPI <= min(x_dpi, y_dpi) and max(x_dpi, y_dpi) <= MAX_CREDIBLE_DPI:
        return x_dpi, y_dpi
    inferred = max(width_px, height_px) / A4_LONG_SIDE_INCHES
    return inferred, inferred


def read_frames(path: Path, max_pages: int, max_page_pixels: int, all_frames: bool = True) -> list[Frame]:
    """Every frame's size and resolution from the headers, refusing too many frames or too large a frame.

    ``all_frames=False`` reads the first frame only: a JPEG or PNG is one page, whatever else it holds
    (the second picture of a camera's MPO file, the frames of an animated PNG).

    Any exception while parsing is a refusal (``unreadable_image``), not only the OSError, ValueError and
    SyntaxError Pillow documents: on hostile headers its plugins also raise TypeError ("Missing dimensions"),
    KeyError and others (found by bench/fuzz_intake.py), and an upload must never end in a server error.
    """
    frames: list[Frame] = []
    try:
        with _hoso_pixel_limit(), Image.open(path) as image:
            while True:
                if image.width < 1 or image.height < 1:
                    raise UnreadableImage(f"Page {len(frames) + 1} is {image.width} x {image.height} pixels: no image.")
                frame = Frame(image.width, image.height, page_dpi(image.width, image.height, image.info.get("dpi")))
                if frame.pixels > max_page_pixels:
                    raise PageTooLarge(
                        f"Page {len(frames) + 1} is {frame.width_px} x {frame.height_px} pixels "
                        f"({frame.pixels / 1e6:.0f} Mpx), more than the limit of {max_page_pixels / 1e6:.0f} Mpx "
                        "(HOSO_MAX_PAGE_MPIXELS)."
                    )
                frames.append(frame)
                if not all_frames:
                    return frames
                if len(frames) > max_pages:
                    raise TooManyPages(f"The image has more than {max_pages} pages, the limit (HOSO_MAX_PAGES).")
                try:
                    image.seek(len(frames))
                except EOFError:
                    return frames
    except IngestError:
        raise
    except Exception as broken:  # noqa: BLE001 - any failure to parse a header means unreadable (docstring)
        raise UnreadableImage(f"The image is damaged and cannot be read: {_without_path(broken, path)}") from broken


def _without_path(error: BaseException, path: Path) -> str:
    """Pillow's message without the temp file it names ("cannot identify image file '/…/upload-x'")."""
    return str(error).replace(f" '{path}'", "").replace(str(path), "the file")


def _layout(frames: list[Frame]) -> Callable[[int, int, tuple[float, float]], tuple[float, float, float, float]]:
    """An img2pdf layout giving each page, in order, the size of its frame's sheet, the image filling it."""
    page_sizes = iter([frame.page_size_pt for frame in frames])

    def layout(_width_px: int, _height_px: int, _dpi: tuple[float, float]) -> tuple[float, float, float, float]:
        width_pt, height_pt = next(page_sizes)
        return width_pt, height_pt, width_pt, height_pt

    return layout


def _lossless_frame(image: Image.Image) -> bytes:
    """The current frame as a one-image file that img2pdf embeds without changing a pixel.

    Pillow (13) turns a TIFF frame upright as its Orientation tag says while decoding it (right angles and
    mirrors only move pixels), and gives the frame's upright size from its header already: the page is laid
    out upright and the tag is gone from what is embedded, so nothing turns it a second time.

    Modes PNG cannot hold (CMYK, Lab, float) are converted to RGB: the pages PDF is a derived copy, the
    original keeps the scanner's pixels, and refusing a readable scan would help no one.
    """
    out = io.BytesIO()
    icc_profile = image.info.get("icc_profile")
    if image.mode not in _PNG_MODES | {"1"}:
        image = image.convert("RGB")
    if image.mode == "1":
        image.save(out, format="TIFF", compression="group4")
    else:
        # zlib level 1: five times faster than the default 6 on a grey A4 page, for 13% more bytes.
        image.save(out, format="PNG", compress_level=1, icc_profile=icc_profile)
    return out.getvalue()


def _blank_frame(frame: Frame) -> bytes:
    """A white bilevel page of the frame's size, standing in for a frame whose pixels cannot be decoded."""
    out = io.BytesIO()
    Image.new("1", (frame.width_px, frame.height_px), 1).save(out, format="TIFF", compression="group4")
    return out.getvalue()


def _convert(images: list[str] | list[bytes], layout: Callable, target: Path, first_frame_only: bool) -> None:
    with target.open("wb") as out:
        img2pdf.convert(
            images,
            outputstream=out,
            layout_fun=layout,
            rotation=img2pdf.Rotation.ifvalid,
            nodate=True,
            first_frame_only=first_frame_only,
        )


def _tiff_to_pdf(path: Path, frames: list[Frame], target: Path) -> list[int]:
    """Convert frame by frame; returns the (1-based) frames whose pixels could not be decoded, which are
    written as blank pages so that page numbers stay those of the frames."""
    layout = _layout(frames)
    batches: list[Path] = []
    unreadable: list[int] = []
    try:
        with Image.open(path) as tiff:
            for start in range(0, len(frames), FRAMES_PER_BATCH):
                frame_files = []
                for number in range(start, min(start + FRAMES_PER_BATCH, len(frames))):
                    try:
                        tiff.seek(number)
                        frame_files.append(_lossless_frame(tiff))
                    except Exception:  # noqa: BLE001 - a damaged strip or tile, whatever Pillow raises: that page only
                        unreadable.append(number + 1)
                        frame_files.append(_blank_frame(frames[number]))
                batches.append(target.with_name(f"{target.name}.{len(batches)}"))
                _convert(frame_files, layout, batches[-1], first_frame_only=False)
                del frame_files
        with ExitStack() as open_batches, pikepdf.new() as merged:
            for batch in batches:
                merged.pages.extend(open_batches.enter_context(pikepdf.open(batch)).pages)
            merged.save(target, deterministic_id=True)
    finally:
        for batch in batches:
            batch.unlink(missing_ok=True)
    return unreadable


def _png_is_decoded(path: Path) -> bool:
    """Whether img2pdf decodes this PNG rather than copying its data (its rules, read from Pillow's header)."""
    with _hoso_pixel_limit(), Image.open(path) as image:
        info = image.info
        return (
            bool(info.get("interlace"))
            or image.mode in ("RGBA", "LA", "PA")
            or "transparency" in info
            or (image.mode == "P" and "icc_profile" in info)
        )


def image_to_pdf(path: Path, media_type: MediaType, frames: list[Frame], target: Path) -> list[int]:
    """Write the PDF of ``path`` to ``target``: one page per frame, each page as large as the scanned sheet
    and shown upright as the frame's Orientation tag says. Returns the frames (1-based) that could not be
    decoded and stand as blank pages (a TIFF's only; a JPEG or PNG that cannot be decoded is refused).

    A TIFF's frames are turned upright pixel by pixel (they are decoded anyway); a JPEG or PNG is embedded as
    it is, and img2pdf turns its page with /Rotate as its EXIF orientation says (a mirrored orientation,
    which no scanner or camera writes, is ignored).
    The output is deterministic (no dates), so the same image always gives the same PDF bytes.
    """
    unreadable: list[int] = []
    try:
        if media_type == "png" and frames[0].pixels > MAX_DECODED_PNG_PIXELS and _png_is_decoded(path):
            raise PageTooLarge(
                f"The PNG is {frames[0].width_px} x {frames[0].height_px} pixels and interlaced or transparent, so "
                f"it would be decoded during the upload: more than {MAX_DECODED_PNG_PIXELS // 1_000_000} Mpx. Save "
                "it as a plain (non-interlaced, opaque) PNG or a TIFF and upload it again."
            )
        with _hoso_pixel_limit():
            if media_type == "tiff":
                unreadable = _tiff_to_pdf(path, frames, target)
            else:
                _convert([str(path)], _layout(frames), target, first_frame_only=True)
        with pikepdf.open(target) as pdf:
            page_count = len(pdf.pages)
    except IngestError:
        raise
    except img2pdf.PdfTooLargeError as too_large:
        target.unlink(missing_ok=True)
        raise PageTooLarge(f"The page would be larger than a PDF page can be (200 inches): {too_large}") from too_large
    except Exception as broken:  # noqa: BLE001 - img2pdf raises bare Exception ("invalid png: ...") among others
        target.unlink(missing_ok=True)
        raise UnreadableImage(f"The image cannot be converted to PDF: {_without_path(broken, path)}") from broken
    if page_count != len(frames):
        target.unlink(missing_ok=True)
        raise UnreadableImage(f"The image has {len(frames)} frames but only {page_count} could be converted.")
    return unreadable
