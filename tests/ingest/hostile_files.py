"""Hostile and broken files the intake tests make themselves: what a careless scanner, a broken mail gateway
or an attacker can send, each with the outcomes intake may give it.

Every case builds its bytes from nothing but the libraries the project already uses (pikepdf, Pillow, img2pdf,
hand-written PDF and TIFF structures), so the suite needs no fixture files. ``outcomes`` holds ``ACCEPTED`` or
documented refusal codes (docs/ingest.md, "Refusals"); where the outcome depends on how far qpdf can recover
a file (a PDF cut at some offset) it holds both. ``expected_name`` is what a hostile file name must be shown
as once accepted.
"""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image

from tests.ingest.intake_files import blank_pdf, png_header_only

ACCEPTED = "accepted"
# A PDF cut somewhere: qpdf recovers the pages it still finds, or nothing can be read.
CUT_PDF_OUTCOMES = frozenset({ACCEPTED, "unreadable_pdf", "no_pages"})


@dataclass(frozen=True)
class Hostile:
    """One hostile file: how to make it, the name it is sent under, and what intake may answer."""

    case_id: str
    make: Callable[[], bytes]
    outcomes: frozenset[str]
    filename: str = "scan.pdf"
    # Settings the case is run under (e.g. a small HOSO_MAX_PAGES): field names of ``Settings``.
    limits: dict[str, int] = field(default_factory=dict)
    # What an accepted file's name must be stored and shown as; None: not checked.
    expected_name: str | None = None
    # True when accepting must not decode any pixel (a decompression bomb's header).
    header_only: bool = False
    # What the HTTP API may answer when it differs from intake's (the multipart parser saw the name first).
    api_refusals: frozenset[str] = frozenset()

    @property
    def api_outcomes(self) -> frozenset[str]:
        return self.outcomes | self.api_refusals

    def write(self, directory: Path) -> Path:
        """The file, written in ``directory`` under a plain name (the hostile name is sent, never used on disk)."""
        path = directory / f"{self.case_id}.bin"
        path.write_bytes(self.make())
        return path


# --- building blocks -------------------------------------------------------------------------------------------


def raw_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF written by hand: object n is ``objects[n - 1]``, object 1 the catalog, with a correct xref table,
    so that only what the case puts in the objects is hostile."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
A4_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def one_page_pdf(page: bytes = A4_PAGE, *extra: bytes) -> bytes:
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, *extra])


@cache
def scan_pdf() -> bytes:
    """A small real scan-like PDF (three grey images by img2pdf, as a scanner writes them), cut by the cases."""
    pages = []
    for shade in (60, 120, 200):
        buffer = io.BytesIO()
        Image.new("L", (200, 280), shade).save(buffer, format="PNG", dpi=(100, 100))
        pages.append(buffer.getvalue())
    return img2pdf.convert(pages)


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 180, 160)).save(buffer, format="JPEG", dpi=(150, 150))
    return buffer.getvalue()


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (120, 160), 90).save(buffer, format="PNG")
    return buffer.getvalue()


def small_tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 80), 128).save(buffer, format="TIFF", dpi=(200, 200))
    return buffer.getvalue()


def garbage(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def with_pikepdf(change: Callable[[pikepdf.Pdf], None], pages: int = 1) -> Callable[[], bytes]:
    """A blank PDF of ``pages`` pages changed by ``change`` (JavaScript, an attachment) and saved by pikepdf."""

    def make() -> bytes:
        with pikepdf.open(io.BytesIO(blank_pdf(pages))) as pdf:
            change(pdf)
            out = io.BytesIO()
            pdf.save(out)
        return out.getvalue()

    return make


def javascript_action(code: str = "app.alert('pwned');") -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript, JS=pikepdf.String(code))


def _open_action_js(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = javascript_action()


def _names_javascript(pdf: pikepdf.Pdf) -> None:
    tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("init"), pdf.make_indirect(javascript_action())]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=tree)


def _page_open_js(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=javascript_action())


def _link_js(pdf: pikepdf.Pdf) -> None:
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100], A=javascript_action()
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))


def _chained_js(pdf: pikepdf.Pdf) -> None:
    """JavaScript hidden as the /Next of a harmless GoTo action."""
    go_to = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[pdf.pages[0].obj, pikepdf.Name.Fit], Next=javascript_action())
    pdf.Root.OpenAction = go_to


def _launch(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))


def _embedded_file(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 not a scan", mime_type="x/exe")


def _file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    spec = pikepdf.AttachedFileSpec(pdf, b"payload", filename="payload.bin")
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[0, 0, 20, 20], FS=spec.obj
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annotation)]))


def _go_to(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])


def _uri_link(pdf: pikepdf.Pdf) -> None:
    action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/"))
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100], A=action)
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))


def deep_pages_tree(depth: int) -> bytes:
    """/Pages nodes nested ``depth`` deep with one page at the bottom."""
    objects = [CATALOG]
    for level in range(depth):
        number = 2 + level
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % (1 + depth))
    return raw_pdf(objects)


def deep_nesting(depth: int, open_bracket: bytes = b"[", close_bracket: bytes = b"]") -> bytes:
    nested = open_bracket * depth + close_bracket * depth
    if open_bracket == b"<<":
        nested = b"<< /A " * depth + b"1" + b" >>" * depth
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Deep " + nested + b" >>"
    return one_page_pdf(page)


def many_pages_pdf(count: int) -> bytes:
    """``count`` tiny pages: a 10-point square each, no content."""
    kids = b" ".join(b"%d 0 R" % (3 + n) for n in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Resources << >> >>"
    return raw_pdf([CATALOG, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count] + [page] * count)


def tiff_bytes(entries: list[tuple[int, int, int, int]], data: bytes = b"\x80" * 64, next_ifd: int = 0) -> bytes:
    """A little-endian TIFF with one IFD of ``(tag, type, count, value)`` entries, placed after 8 bytes of
    header and followed by ``data``; StripOffsets (273) should point at ``data_offset(entries)``."""
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in sorted(entries):
        ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", next_ifd)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + data


def data_offset(entry_count: int) -> int:
    return 8 + 2 + 12 * entry_count + 4


SHORT, LONG = 3, 4


def tiff_header_of_size(width: int, height: int, **override: int) -> bytes:
    """An 8-bit grey, uncompressed TIFF claiming ``width`` x ``height`` pixels and holding 64 bytes of them."""
    tags = {256: width, 257: height, 258: 8, 259: 1, 262: 1, 273: 0, 277: 1, 278: height, 279: 64}
    tags.update({int(tag.removeprefix("tag")): value for tag, value in override.items()})
    tags[273] = data_offset(len(tags))
    return tiff_bytes(
        [(tag, LONG if tag in (256, 257, 273, 278, 279) else SHORT, 1, value) for tag, value in tags.items()]
    )


def tiff_ifd_loop() -> bytes:
    """A TIFF whose IFD names itself as the next one: a reader that follows it never ends."""
    tags = {256: 16, 257: 16, 258: 8, 259: 1, 262: 1, 273: 0, 277: 1, 278: 16, 279: 256}
    tags[273] = data_offset(len(tags))
    entries = [(tag, LONG if tag in (256, 257, 273, 278, 279) else SHORT, 1, value) for tag, value in tags.items()]
    return tiff_bytes(entries, data=b"\x80" * 256, next_ifd=8)


def jpeg_header_of_size(width: int, height: int) -> bytes:
    """A baseline JPEG header (SOI, APP0, SOF0) declaring ``width`` x ``height`` and no scan data."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x01\x00\x96\x00\x96\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def interlaced_png(width: int, height: int) -> bytes:
    """A grey Adam7-interlaced PNG of zeros: a few hundred KB that img2pdf must decode whole to embed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    compressor, data = zlib.compressobj(9), bytearray()
    for x0, y0, dx, dy in passes:
        pass_width, pass_height = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if pass_width and pass_height:
            data += compressor.compress(b"\x00" * (pass_width + 1) * pass_height)
    data += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", bytes(data)) + chunk(b"IEND", b"")


def zip_with(name: str, content: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def windows_exe() -> bytes:
    """The start of a Windows program: the DOS stub and a PE header."""
    return b"MZ\x90\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode.\r\n" + b"PE\x00\x00" + b"\x00" * 200


# --- the cases -------------------------------------------------------------------------------------------------


def _cut(fraction: float | None = None, offset: int | None = None) -> Callable[[], bytes]:
    def make() -> bytes:
        whole = scan_pdf()
        end = offset if offset is not None else int(len(whole) * (fraction or 0))
        return whole[:end]

    return make


def _truncations() -> list[Hostile]:
    cases = [Hostile("cut-at-5-bytes", _cut(offset=5), frozenset({"unreadable_pdf"}))]
    cases += [Hostile(f"cut-at-{offset}-bytes", _cut(offset=offset), CUT_PDF_OUTCOMES) for offset in (9, 16, 64, 200)]
    fractions = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99)
    cases += [Hostile(f"cut-at-{round(f * 100)}-percent", _cut(fraction=f), CUT_PDF_OUTCOMES) for f in fractions]
    cases.append(Hostile("cut-last-byte", lambda: scan_pdf()[:-1], frozenset({ACCEPTED})))
    return cases


def _garbage() -> list[Hostile]:
    unreadable = frozenset({"unreadable_pdf"})
    return [
        Hostile("zero-bytes", lambda: b"", frozenset({"empty_file"})),
        Hostile("pdf-header-on-1k-garbage", lambda: b"%PDF-1.7\n" + garbage(1024, 1), unreadable),
        Hostile("pdf-header-on-64k-garbage", lambda: b"%PDF-1.4\n" + garbage(65536, 2), unreadable),
        Hostile(
            "pdf-header-after-junk",
            lambda: garbage(900, 3).replace(b"%", b"_") + b"%PDF-1.7\n" + garbage(999, 4),
            unreadable,
        ),
        Hostile("pdf-header-past-the-first-kib", lambda: b" " * 1100 + blank_pdf(1), frozenset({"unsupported_type"})),
        Hostile("random-bytes", lambda: garbage(4096, 5).replace(b"%PDF-", b"%PDX-"), frozenset({"unsupported_type"})),
        Hostile("pdf-with-only-a-trailer", lambda: b"%PDF-1.7\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n", unreadable),
        Hostile("pdf-with-zero-pages", lambda: blank_pdf(0), frozenset({"no_pages"})),
    ]


def _wrong_names() -> list[Hostile]:
    return [
        Hostile("jpeg-named-pdf", small_jpeg, frozenset({ACCEPTED}), filename="scan.pdf"),
        Hostile("png-named-jpg", small_png, frozenset({ACCEPTED}), filename="scan.jpg"),
        Hostile("pdf-named-tif", lambda: blank_pdf(2), frozenset({ACCEPTED}), filename="scan.tif"),
        Hostile("tiff-named-pdf", small_tiff, frozenset({ACCEPTED}), filename="scan.pdf"),
        Hostile("exe-named-pdf", windows_exe, frozenset({"unsupported_type"})),
        Hostile("zip-named-pdf", lambda: zip_with("note.txt", b"hello" * 100), frozenset({"unsupported_type"})),
        # A ZIP whose stored member is a PDF: "%PDF-" appears in the first KiB, but the file is a ZIP.
        Hostile(
            "zip-holding-a-pdf-named-pdf",
            lambda: zip_with("scan.pdf", blank_pdf(1), compression=zipfile.ZIP_STORED),
            frozenset({"unsupported_type"}),
        ),
        Hostile("elf-named-pdf", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 200, frozenset({"unsupported_type"})),
        Hostile("html-named-pdf", lambda: b"<html><script>alert(1)</script></html>", frozenset({"unsupported_type"})),
    ]


def _structures() -> list[Hostile]:
    readable_or_not = frozenset({ACCEPTED, "unreadable_pdf"})
    return [
        Hostile(
            "pages-tree-lists-itself",
            lambda: raw_pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>", A4_PAGE]),
            readable_or_not,
        ),
        Hostile(
            "pages-tree-cycle-of-two",
            lambda: raw_pdf(
                [
                    CATALOG,
                    b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
                    A4_PAGE,
                    b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
                ]
            ),
            readable_or_not,
        ),
        Hostile(
            "page-is-its-own-kid",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /Kids [3 0 R] /MediaBox [0 0 595 842] >>"),
            readable_or_not,
        ),
        Hostile("pages-tree-5000-deep", lambda: deep_pages_tree(5000), readable_or_not),
        # qpdf stops parsing past 500 levels: the page object is lost, and with it the only page.
        Hostile("arrays-100000-deep", lambda: deep_nesting(100_000), readable_or_not | {"no_pages"}),
        Hostile("dictionaries-20000-deep", lambda: deep_nesting(20_000, b"<<", b">>"), readable_or_not | {"no_pages"}),
        Hostile(
            "mediabox-refers-to-itself",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox 4 0 R >>", b"4 0 R"),
            frozenset({ACCEPTED, "unreadable_pdf"}),
        ),
        Hostile(
            "mediabox-of-strings",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [(a) (b) (c) (d)] >>"),
            readable_or_not,
        ),
        Hostile(
            "mediabox-too-short",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0] >>"),
            readable_or_not,
        ),
        Hostile(
            "mediabox-huge",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99999999 99999999] >>"),
            frozenset({"page_too_large"}),
        ),
        Hostile(
            "mediabox-of-400-digits",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + b"9" * 400 + b".5 1] >>"),
            frozenset({"page_too_large"}),
        ),
        Hostile(
            "mediabox-infinite-by-zero",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + b"9" * 400 + b".5 0] >>"),
            frozenset({"page_too_large"}),
        ),
        Hostile(
            "mediabox-exponent",
            lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1e308 1e308] >>"),
            readable_or_not,
        ),
        Hostile("mediabox-missing", lambda: one_page_pdf(b"<< /Type /Page /Parent 2 0 R >>"), readable_or_not),
        Hostile(
            "xref-prev-loop", lambda: one_page_pdf().replace(b"/Root 1 0 R", b"/Root 1 0 R /Prev 9"), readable_or_not
        ),
        Hostile(
            "root-not-a-dictionary",
            lambda: raw_pdf([b"[1 2 3]", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
            frozenset({"unreadable_pdf", "no_pages"}),
        ),
        Hostile(
            "huge-object-count-in-object-stream",
            lambda: one_page_pdf(
                A4_PAGE, b"<< /Type /ObjStm /N 2000000000 /First 1 /Length 2 >>\nstream\n1 \nendstream"
            ),
            readable_or_not,
        ),
        Hostile(
            "stream-length-huge",
            lambda: one_page_pdf(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                b"<< /Length 99999999999 >>\nstream\nBT ET\nendstream",
            ),
            readable_or_not,
        ),
    ]


def _page_counts() -> list[Hostile]:
    ten_thousand = cache(lambda: many_pages_pdf(10_000))
    return [
        Hostile("10000-pages-default-limit", ten_thousand, frozenset({"too_many_pages"})),
        Hostile("10000-pages-limit-100", ten_thousand, frozenset({"too_many_pages"}), limits={"max_pages": 100}),
        Hostile("10000-pages-within-limit", ten_thousand, frozenset({ACCEPTED}), limits={"max_pages": 10_000}),
    ]


def _images() -> list[Hostile]:
    bomb, unreadable = frozenset({"page_too_large"}), frozenset({"unreadable_image"})
    # Several frames, the second of them a bomb: the first frame is read, the second refused from its header.
    bomb_second = frozenset({"page_too_large", "unreadable_image"})
    return [
        Hostile("png-50000x50000", lambda: png_header_only(50_000, 50_000), bomb, header_only=True),
        Hostile("tiff-50000x50000", lambda: tiff_header_of_size(50_000, 50_000), bomb, header_only=True),
        Hostile("jpeg-65000x65000", lambda: jpeg_header_of_size(65_000, 65_000), bomb, header_only=True),
        Hostile(
            "tiff-4000000000x1", lambda: tiff_header_of_size(4_000_000_000, 1), bomb_second | bomb, header_only=True
        ),
        # Within the pixel limit, but decoded whole during the upload: refused past 50 Mpx.
        Hostile("png-interlaced-8000x8000", lambda: interlaced_png(8000, 8000), bomb, header_only=True),
        Hostile("png-interlaced-1000x1400", lambda: interlaced_png(1000, 1400), frozenset({ACCEPTED})),
        Hostile("png-of-zero-width", lambda: png_header_only(0, 100), unreadable, header_only=True),
        Hostile("tiff-of-zero-width", lambda: tiff_header_of_size(0, 100), unreadable, header_only=True),
        Hostile("tiff-header-only", lambda: b"II*\x00\x08\x00\x00\x00", unreadable),
        Hostile("tiff-ifd-past-the-end", lambda: b"II*\x00" + struct.pack("<I", 10_000_000) + b"\x00" * 32, unreadable),
        Hostile("tiff-ifd-of-65535-entries", lambda: b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 64, unreadable),
        Hostile("tiff-ifd-loop", tiff_ifd_loop, frozenset({ACCEPTED, "too_many_pages", "unreadable_image"})),
        Hostile(
            "tiff-unknown-compression",
            lambda: tiff_header_of_size(16, 16, tag259=60_000),
            frozenset({ACCEPTED, "unreadable_image"}),
        ),
        Hostile(
            "tiff-strips-past-the-end",
            lambda: tiff_header_of_size(16, 16, tag273=9_999_999),
            frozenset({ACCEPTED, "unreadable_image"}),
        ),
        Hostile(
            "tiff-bits-per-sample-3",
            lambda: tiff_header_of_size(16, 16, tag258=3),
            frozenset({ACCEPTED, "unreadable_image"}),
        ),
        Hostile(
            "tiff-cut-in-half",
            lambda: small_tiff()[: len(small_tiff()) // 2],
            frozenset({ACCEPTED, "unreadable_image"}),
        ),
        Hostile("png-bad-crc", lambda: small_png()[:29] + b"\x00\x00\x00\x00" + small_png()[33:], unreadable),
        Hostile("png-cut-in-half", lambda: small_png()[: len(small_png()) // 2], unreadable),
        Hostile(
            "jpeg-cut-in-half",
            lambda: small_jpeg()[: len(small_jpeg()) // 2],
            frozenset({ACCEPTED, "unreadable_image"}),
        ),
        Hostile("jpeg-soi-only", lambda: b"\xff\xd8\xff", unreadable),
    ]


def _active_content() -> list[Hostile]:
    refused, harmless = frozenset({"active_content"}), frozenset({ACCEPTED})
    return [
        Hostile("pdf-openaction-javascript", with_pikepdf(_open_action_js), refused),
        Hostile("pdf-names-javascript", with_pikepdf(_names_javascript), refused),
        Hostile("pdf-page-open-javascript", with_pikepdf(_page_open_js), refused),
        Hostile("pdf-link-javascript", with_pikepdf(_link_js), refused),
        Hostile("pdf-javascript-chained-after-goto", with_pikepdf(_chained_js), refused),
        Hostile("pdf-launch-action", with_pikepdf(_launch), refused),
        Hostile("pdf-embedded-file", with_pikepdf(_embedded_file), refused),
        Hostile("pdf-file-attachment-annotation", with_pikepdf(_file_attachment_annotation), refused),
        Hostile("pdf-openaction-goto", with_pikepdf(_go_to), harmless),
        Hostile("pdf-uri-link", with_pikepdf(_uri_link), harmless),
    ]


def _named(case_id: str, filename: str, expected_name: str) -> Hostile:
    # Each name case has its own bytes, so no case is answered as "the same original" of another.
    return Hostile(
        f"name-{case_id}",
        lambda: blank_pdf(1) + b"%" + case_id.encode() + b"\n",
        frozenset({ACCEPTED}),
        filename,
        expected_name=expected_name,
    )


LONG_NAME = "biên bản " * 1200 + ".pdf"


def _names() -> list[Hostile]:
    return [
        _named("dot-dot-slash", "../../../../etc/passwd.pdf", "passwd.pdf"),
        _named("dot-dot-backslash", "..\\..\\Windows\\System32\\scan.pdf", "scan.pdf"),
        _named("absolute-path", "/var/lib/hoso/hoso.db", "hoso.db"),
        _named("only-dots", "..", ""),
        _named("nul-byte", "scan.exe\x00.pdf", "scan.exe.pdf"),
        _named("control-characters", "scan\r\n\x1b[31mred\x07.pdf", "scan[31mred.pdf"),
        _named("very-long", LONG_NAME, (LONG_NAME[: 255 - 4].rstrip(" .") + ".pdf")),
        _named("rtl-override", "hoadon\u202efdp.exe", "hoadonfdp.exe"),
        _named("bidi-isolates-and-zero-width", "a\u2066b\u2069c\u200bd\ufeff.pdf", "abcd.pdf"),
        _named("combining-marks", "Ho\u0302\u0300" + "\u0301" * 300 + " so\u031b.pdf", "Hồ\u0301\u0301 sơ.pdf"),
        _named("emoji", "📄 biên bản 🇻🇳.pdf", "📄 biên bản 🇻🇳.pdf"),
        _named("decomposed-vietnamese", "Bie\u0302\u0301n ba\u0309n.pdf", "Biến bản.pdf"),
        # Sent to the API as the byte 0xFF: werkzeug cannot decode the part's headers and drops the whole body.
        dataclasses.replace(
            _named("lone-surrogate", "scan\udcff.pdf", "scan.pdf"), api_refusals=frozenset({"missing_file"})
        ),
    ]


def fuzz_seeds() -> dict[str, bytes]:
    """Small valid files of every accepted type, and structures hostile files play with: what
    bench/fuzz_intake.py and the mutation test start from."""

    def image_file(image: Image.Image, **options: object) -> bytes:
        out = io.BytesIO()
        image.save(out, **options)
        return out.getvalue()

    bilevel = Image.new("1", (64, 48), 1)
    with pikepdf.open(io.BytesIO(scan_pdf())) as pdf:
        object_streams = io.BytesIO()
        pdf.save(object_streams, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return {
        "scan.pdf": scan_pdf(),
        "object-streams.pdf": object_streams.getvalue(),
        "hand-written.pdf": one_page_pdf(),
        "ten-pages.pdf": many_pages_pdf(10),
        "javascript.pdf": with_pikepdf(_link_js)(),
        "attachment.pdf": with_pikepdf(_embedded_file)(),
        "grey.tif": small_tiff(),
        "g4-two-frames.tif": image_file(
            bilevel, format="TIFF", save_all=True, append_images=[bilevel], compression="group4"
        ),
        "colour-lzw.tif": image_file(Image.new("RGB", (20, 30), (9, 90, 200)), format="TIFF", compression="tiff_lzw"),
        "ifd-loop.tif": tiff_ifd_loop(),
        "grey.png": small_png(),
        "palette.png": image_file(Image.new("P", (40, 40), 3), format="PNG"),
        "rgb.png": image_file(Image.new("RGB", (40, 40), (1, 2, 3)), format="PNG"),
        "photo.jpg": small_jpeg(),
        "progressive.jpg": image_file(Image.new("L", (40, 60), 77), format="JPEG", progressive=True),
    }


def hostile_cases() -> list[Hostile]:
    """Every case, in a stable order; ``case_id`` is unique and is the test id."""
    cases = _truncations() + _garbage() + _wrong_names() + _structures() + _page_counts()
    cases += _images() + _active_content() + _names()
    assert len({case.case_id for case in cases}) == len(cases)
    return cases


def regression_files(directory: Path) -> list[Path]:
    """The fuzzer's crashers kept as regression cases (bench/fuzz_intake.py writes them there)."""
    return sorted(path for path in directory.glob("*") if path.is_file()) if directory.is_dir() else []
