"""Small files the intake tests make themselves, and the check that a refusal left nothing anywhere."""

from __future__ import annotations

import io
import struct
import zlib

import img2pdf
import pikepdf
from PIL import Image
from sqlalchemy import func, select

from archive.models import Case, Dossier, Page
from archive.runtime import Runtime


def blank_pdf(pages: int, size_pt: tuple[float, float] = (595, 842)) -> bytes:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page(page_size=size_pt)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def truncated_pdf() -> bytes:
    """A 3-page PDF cut in half: qpdf rebuilds its cross-reference table, poppler cannot open it."""
    whole = blank_pdf(3)
    return whole[: len(whole) // 2]


def image_pdf() -> bytes:
    """A one-page scan-like PDF: a small grey PIL image wrapped by img2pdf."""
    image = Image.new("L", (300, 420), 200)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(150, 150))
    return img2pdf.convert(buffer.getvalue())


def multipage_tiff(sizes: list[tuple[int, int]], dpi: int = 300, compression: str = "tiff_lzw") -> bytes:
    """A multi-page TIFF, one frame per size, each frame a different grey so frames can be told apart;
    bilevel frames with a black bar for the fax compressions (group4)."""
    if compression == "group4":
        frames = [Image.new("1", size, 1) for size in sizes]
        for frame in frames:
            frame.paste(0, (0, 0, frame.width // 2, 10))
    else:
        frames = [Image.new("L", size, 40 * number) for number, size in enumerate(sizes)]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], dpi=(dpi, dpi), compression=compression)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels and holds none: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def stored_objects(runtime: Runtime) -> list[str]:
    root = runtime.settings.storage_dir
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def assert_nothing_left(runtime: Runtime) -> None:
    """No dossier, page or case row, no stored object, no temp file."""
    with runtime.sessions() as session:
        for model in (Dossier, Page, Case):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    assert stored_objects(runtime) == []
    assert list(runtime.settings.temp_dir.iterdir()) == []
