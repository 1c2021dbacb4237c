"""The archive copy of a dossier: the original's pages untouched, an invisible OCR text layer on top, PDF/A-2b.

Circular 05/2025/TT-BNV asks scanned archives for PDF/A; people ask of a scan that its text can be searched,
selected and copied. So the copy is the original file with three additions:

- on each page, after its own content (wrapped in q/Q so its graphics state cannot leak), a content stream of
  invisible text (rendering mode 3) with the OCR words at their boxes. The words are stored in pixels of the
  upright image; one matrix per page maps those pixels onto the page as stored, through the turn OCR undid
  (``Page.rotation``), the page's own /Rotate and its MediaBox (what poppler rendered for OCR);
- the font of that text: Tesseract's GlyphLessFont (``pdf.ttf``, one empty glyph 500 units wide), embedded as a
  Type0/CIDFontType2 font with Identity-H encoding: the codes are the UTF-16 units of the text and ToUnicode
  maps them back, so any Vietnamese letter is written without a font that draws it;
- the PDF/A-2b identification: XMP metadata with ``pdfaid:part=2``, ``pdfaid:conformance=B`` (kept in step
  with the document information dictionary) and an sRGB output intent.

Streams of the original (the page images above all) are written as they are: no decoding, no recompression.
The one change to the original's own objects: the /Interpolate display hint some scanners set on an image,
which PDF/A forbids, is turned off. The output is byte-for-byte reproducible from the same inputs (fixed ICC
date, deterministic /ID), so a worker killed after storing it and run again stores the same object, not a
second one. Whether the copy conforms to PDF/A beyond its identification depends on the original: scans as
scanners and img2pdf write them pass pikepdf's validator; constructs PDF/A forbids in an odd original (LZW
streams, Type 3 fonts, actions) are kept, since changing them would change the original's content.
"""

from __future__ import annotations

import glob
import math
import os
import unicodedata
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import ImageCms

# [text, confidence, [x0, y0, x1, y1]] in pixels of the upright page image: how Page.words stores a word.
StoredWord = Sequence

FONT_RESOURCE_PREFIX = "HosoOCR"
GLYPH_WIDTH = 0.5  # the GlyphLessFont's one glyph, in text space units (500/1000 em)
_ICC_FIXED_DATE = bytes.fromhex("07e800010001000000000000")  # 2024-01-01 00:00:00, see _srgb_profile
_FONT_FILE_PATTERNS = (
    "{tessdata}/pdf.ttf",
    "/usr/share/tesseract-ocr/*/tessdata/pdf.ttf",
    "/usr/share/tessdata/pdf.ttf",
    "/usr/local/share/tessdata/pdf.ttf",
)


def archive_pdf_key(sha256: str) -> str:
    """Where an archive copy lives in the object store: beside the originals, under its own SHA-256."""
    return f"derived/{sha256[:2]}/{sha256}.pdf"


class ArchivePdfError(RuntimeError):
    """The archive copy cannot be made here: Tesseract's GlyphLessFont is not installed."""


@dataclass(frozen=True)
class TextLayerPage:
    """What the text layer of one page is made from: the facts OCR stored for it."""

    page_number: int  # 1-based
    width_px: int  # of the upright image the boxes refer to
    height_px: int
    rotation: int  # how far the stored content was turned clockwise; OCR turned it back by this much
    words: Sequence[StoredWord]
    skew: float = 0.0  # degrees the upright content was tilted counter-clockwise; OCR read it straightened


def write_archive_pdf(original: Path, pages: Iterable[TextLayerPage], target: Path, title: str) -> None:
    """Write the archive copy of ``original`` to ``target``: text layers for ``pages``, PDF/A-2b identification."""
    with pikepdf.open(original) as pdf:
        font = _glyphless_font(pdf)
        for layer in pages:
            if layer.words and layer.width_px and layer.height_px:
                _add_text_layer(pdf, pdf.pages[layer.page_number - 1], layer, font)
        _turn_off_interpolation(pdf)
        _identify_as_pdfa_2b(pdf, title)
        pdf.save(
            target,
            # Leave every stream of the original as it is stored: the page images are the record.
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            compress_streams=False,
            recompress_flate=False,
            deterministic_id=True,
            force_version="1.7",
        )


def upright_to_page_matrix(
    mediabox: Sequence[float], page_rotate: int, width_px: int, height_px: int, rotation: int
) -> tuple[float, float, float, float, float, float]:
    """The PDF matrix (a b c d e f) from upright-image pixels, origin bottom left and y up, to user space.

    Three corners of the upright image are followed back to the page: upright pixels to the rendered image
    (turned clockwise by ``rotation`` again), rendered pixels to points on the page as displayed, displayed
    points to user space (undoing /Rotate within the MediaBox).
    """
    x0, x1 = sorted((float(mediabox[0]), float(mediabox[2])))
    y0, y1 = sorted((float(mediabox[1]), float(mediabox[3])))
    page_rotate, rotation = page_rotate % 360, rotation % 360
    shown_w, shown_h = (y1 - y0, x1 - x0) if page_rotate in (90, 270) else (x1 - x0, y1 - y0)
    raster_w, raster_h = (height_px, width_px) if rotation in (90, 270) else (width_px, height_px)

    def to_user(x: float, y: float) -> tuple[float, float]:
        raster_x, raster_y = _upright_to_raster(x, y, width_px, height_px, rotation)
        shown_x, shown_y = raster_x * shown_w / raster_w, raster_y * shown_h / raster_h
        return _shown_to_user(shown_x, shown_y, (x0, y0, x1, y1), page_rotate)

    origin = to_user(0, height_px)  # the upright image's bottom-left corner
    right = to_user(width_px, height_px)
    top = to_user(0, 0)
    return (
        (right[0] - origin[0]) / width_px,
        (right[1] - origin[1]) / width_px,
        (top[0] - origin[0]) / height_px,
        (top[1] - origin[1]) / height_px,
        origin[0],
        origin[1],
    )


def _straight_to_upright(x: float, y: float, width: int, height: int, skew: float) -> tuple[float, float]:
    """A point of the straightened image (y down) in the upright one, where the lines rise by ``skew`` degrees."""
    if not skew:
        return x, y
    centre_x, centre_y = width / 2, height / 2
    cos, sin = math.cos(math.radians(skew)), math.sin(math.radians(skew))
    return (
        centre_x + cos * (x - centre_x) + sin * (y - centre_y),
        centre_y - sin * (x - centre_x) + cos * (y - centre_y),
    )


def _upright_to_raster(x: float, y: float, width: int, height: int, rotation: int) -> tuple[float, float]:
    """A point of the upright image (y down) in the image as rendered, whose content is turned clockwise."""
    if rotation == 90:
        return height - y, x
    if rotation == 180:
        return width - x, height - y
    if rotation == 270:
        return y, width - x
    return x, y


def _shown_to_user(x: float, y: float, box: tuple[float, float, float, float], page_rotate: int) -> tuple[float, float]:
    """A point of the page as displayed (points, y down from its top-left) in user space; /Rotate turns clockwise."""
    x0, y0, x1, y1 = box
    if page_rotate == 90:
        return x0 + y, y0 + x
    if page_rotate == 180:
        return x1 - x, y0 + y
    if page_rotate == 270:
        return x1 - y, y1 - x
    return x0 + x, y1 - y


def lines_of(words: Sequence[StoredWord]) -> list[list[StoredWord]]:
    """Split words in reading order into lines: a word starts a new line when it does not continue the last
    word to its right at about the same height (a wrap back to the left, or a jump to another column)."""
    lines: list[list[StoredWord]] = []
    for word in words:
        if not str(word[0]).strip():
            continue
        if lines and _continues(lines[-1][-1][2], word[2]):
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _continues(previous: Sequence[float], box: Sequence[float]) -> bool:
    overlap = min(previous[3], box[3]) - max(previous[1], box[1])
    smaller = min(previous[3] - previous[1], box[3] - box[1])
    return box[0] > previous[0] and overlap > 0.5 * max(smaller, 1)


def text_layer_operators(layer: TextLayerPage, font_name: str) -> bytes:
    """The content stream operators drawing the page's words invisibly, in upright-image pixels (y up).

    One horizontal baseline and size per line, so text extraction keeps each line together; each word but
    the last of its line carries a trailing space and reaches to the next word, so words stay apart when
    extracted. When OCR read a straightened image, each line is put back where it lies on the tilted scan
    (its words' left edges turned back by the skew, its baseline at their mean height) but kept horizontal:
    tilted text would break the lines apart for text extraction, and a few degrees of tilt move a line's
    ends by less than its height.
    """
    out = ["BT", "3 Tr"]
    for line in lines_of(layer.words):
        top = min(word[2][1] for word in line)
        bottom = max(word[2][3] for word in line)
        size = max(bottom - top, 1)
        lefts = [_straight_to_upright(word[2][0], bottom, layer.width_px, layer.height_px, layer.skew) for word in line]
        right = _straight_to_upright(line[-1][2][2], bottom, layer.width_px, layer.height_px, layer.skew)[0]
        baseline = layer.height_px - sum(y for _x, y in lefts) / len(lefts)
        out.append(f"/{font_name} {_number(size)} Tf")
        for index, word in enumerate(line):
            text = unicodedata.normalize("NFC", str(word[0]).strip())
            end = right
            if index + 1 < len(line):
                text += " "
                end = lefts[index + 1][0]
            scale = 100 * max(end - lefts[index][0], 1) / (len(text) * GLYPH_WIDTH * size)
            out.append(f"{_number(scale)} Tz 1 0 0 1 {_number(lefts[index][0])} {_number(baseline)} Tm")
            out.append(f"<{text.encode('utf-16-be').hex()}> Tj")
    out.append("ET")
    return "\n".join(out).encode("ascii")


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _add_text_layer(pdf: pikepdf.Pdf, page: pikepdf.Page, layer: TextLayerPage, font: Dictionary) -> None:
    font_name = page.add_resource(font, Name.Font, name=_free_font_name(page))
    matrix = upright_to_page_matrix(
        [float(value) for value in page.mediabox],
        int(page.obj.get(Name.Rotate, 0)),
        layer.width_px,
        layer.height_px,
        layer.rotation,
    )
    operators = text_layer_operators(layer, str(font_name).lstrip("/"))
    content = b"Q\nq\n" + " ".join(_number(value) for value in matrix).encode() + b" cm\n" + operators + b"\nQ\n"
    page.contents_add(_flate_stream(pdf, b"q\n"), prepend=True)
    page.contents_add(_flate_stream(pdf, content))


def _free_font_name(page: pikepdf.Page) -> Name:
    """/HosoOCR, or /HosoOCR2, 3… if the page already has a font of that name: the same name on every run."""
    taken = set(page.obj.get(Name.Resources, Dictionary()).get(Name.Font, Dictionary()).keys())
    candidates = (Name(f"/{FONT_RESOURCE_PREFIX}{suffix}") for suffix in ["", *range(2, len(taken) + 3)])
    return next(name for name in candidates if str(name) not in taken)


def _flate_stream(pdf: pikepdf.Pdf, data: bytes, **entries: object) -> pikepdf.Stream:
    """A stream compressed here, since the document is saved without compressing anything itself."""
    stream = pikepdf.Stream(pdf, zlib.compress(data, 9))
    stream[Name.Filter] = Name.FlateDecode
    for key, value in entries.items():
        stream[Name("/" + key)] = value
    return stream


def _glyphless_font(pdf: pikepdf.Pdf) -> Dictionary:
    """Tesseract's GlyphLessFont as a Type0 font over a CIDFontType2 with every CID drawn by its one glyph."""
    font_program = _font_file().read_bytes()
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name.GlyphLessFont,
        Flags=5,
        FontBBox=Array([0, 0, 500, 1000]),
        ItalicAngle=0,
        Ascent=1000,
        Descent=-1,
        CapHeight=1000,
        StemV=80,
        FontFile2=_flate_stream(pdf, font_program, Length1=len(font_program)),
    )
    cid_font = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=Name.GlyphLessFont,
        CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=int(GLYPH_WIDTH * 1000),
        CIDToGIDMap=_flate_stream(pdf, b"\x00\x01" * 65536),  # every code to glyph 1
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name.GlyphLessFont,
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([pdf.make_indirect(cid_font)]),
            ToUnicode=_flate_stream(pdf, _IDENTITY_TO_UNICODE),
        )
    )


_IDENTITY_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


@cache
def _font_file() -> Path:
    """Tesseract's pdf.ttf, installed with its language data (tesseract-ocr)."""
    tessdata = os.environ.get("TESSDATA_PREFIX", "/usr/share/tessdata").rstrip("/")
    for pattern in _FONT_FILE_PATTERNS:
        found = sorted(glob.glob(pattern.format(tessdata=tessdata)))
        if found:
            return Path(found[-1])
    raise ArchivePdfError("Tesseract's pdf.ttf (GlyphLessFont) was not found: install tesseract-ocr")


def _srgb_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS; its creation date is fixed so the output is reproducible."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = _ICC_FIXED_DATE
    return bytes(profile)


def _turn_off_interpolation(pdf: pikepdf.Pdf) -> None:
    """PDF/A forbids /Interpolate true, a display hint some scanners set; the image's data stays as it is."""
    for candidate in pdf.objects:  # images, their soft masks, images in forms and patterns alike
        if isinstance(candidate, pikepdf.Stream) and candidate.get(Name.Interpolate):
            candidate.Interpolate = False


def _identify_as_pdfa_2b(pdf: pikepdf.Pdf, title: str) -> None:
    """XMP with the PDF/A-2b identification, in step with the info dictionary, and an sRGB output intent."""
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as metadata:
        try:
            with warnings.catch_warnings():  # custom info keys have no XMP form; they stay in the info dictionary
                warnings.simplefilter("ignore", UserWarning)
                metadata.load_from_docinfo(pdf.docinfo)
        except (TypeError, ValueError):  # pikepdf trips over malformed keys: the XMP alone then makes the info
            del pdf.docinfo
        metadata["pdfaid:part"] = "2"
        metadata["pdfaid:conformance"] = "B"
        metadata["dc:title"] = title
        metadata["xmp:CreatorTool"] = "hoso"
    profile = _srgb_profile()
    pdf.Root.OutputIntents = Array(
        [
            Dictionary(
                Type=Name.OutputIntent,
                S=Name.GTS_PDFA1,
                OutputConditionIdentifier="sRGB",
                Info="sRGB IEC61966-2.1",
                RegistryName="http://www.color.org",
                DestOutputProfile=_flate_stream(pdf, profile, N=3),
            )
        ]
    )
