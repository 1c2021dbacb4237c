"""Receiving a file: stream it to disk while hashing, sniff the real type, check it is a sound, bounded scan.

The whole file is never held in memory: uploads are spooled in chunks to ``$HOSO_HOME/tmp`` (the web app
writes multipart parts straight into a ``Spool``). The uploaded bytes are the original and are never
changed; when the pages must be read from something else (an image converted to PDF, a damaged PDF that
pikepdf repaired), intake also makes that "pages PDF", which is stored as a derived object. On any refusal
every temp file is removed before the error leaves this module.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pikepdf

from archive.config import Settings
from archive.storage import ObjectStore, original_key
from ingest.errors import (
    ActiveContent,
    EmptyFile,
    EncryptedPdf,
    FileTooLarge,
    IngestError,
    NoPages,
    PageTooLarge,
    TooManyPages,
    UnreadablePdf,
    UnsupportedType,
)
from ingest.images import image_to_pdf, read_frames
from ingest.sniff import SNIFF_BYTES, MediaType, describe, sniff

CHUNK_BYTES = 1024 * 1024
POINTS_PER_INCH = 72.0
# Dossier.original_filename is a VARCHAR(255): PostgreSQL counts characters and refuses a longer one.
MAX_NAME_CHARS = 255
# NFC Vietnamese needs no combining mark after a letter, decomposed (NFD) at most two (ồ = o + ̂ + ̀).
MAX_COMBINING_MARKS = 2


@dataclass(frozen=True)
class IntakeLimits:
    """What intake refuses beyond: bytes, pages, and pixels per page (as rasterised for OCR)."""

    max_bytes: int
    max_pages: int
    max_page_pixels: int
    ocr_dpi: int

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeLimits:
        return cls(settings.max_upload_bytes, settings.max_pages, settings.max_page_pixels, settings.ocr_dpi)


class Spool:
    """A temp file that hashes and counts what is written to it and refuses past ``max_bytes``.

    Readable and seekable like a file, so werkzeug can use it as the stream of an uploaded part; closing
    it removes the file. Refusing mid-stream removes it too, so an oversized upload leaves nothing behind.
    """

    def __init__(self, temp_dir: Path, max_bytes: int):
        temp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-")
        self.path = Path(name)
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._file = os.fdopen(fd, "w+b")

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes:
            self.close()
            raise FileTooLarge(
                f"The file is larger than the limit of {self.max_bytes // (1024 * 1024)} MiB (HOSO_MAX_UPLOAD_MB)."
            )
        self._digest.update(data)
        return self._file.write(data)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._file.readline(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """Close and remove the file; safe to call more than once."""
        self._file.close()
        self.path.unlink(missing_ok=True)


def spool(stream: IO[bytes], temp_dir: Path, max_bytes: int) -> Spool:
    """Copy ``stream`` to a ``Spool`` chunk by chunk; refuse past ``max_bytes`` without reading further."""
    spooled = Spool(temp_dir, max_bytes)
    try:
        while chunk := stream.read(CHUNK_BYTES):
            spooled.write(chunk)
        spooled.flush()
    except BaseException:
        spooled.close()
        raise
    return spooled


@dataclass(frozen=True)
class ReceivedFile:
    """A file spooled to disk and checked, ready to be stored; the caller calls ``discard`` when done."""

    spool: Spool
    filename: str
    media_type: MediaType
    page_count: int
    # The PDF the pages are read from when the original is not itself a sound PDF, else None (also for a
    # TIFF, whose pages PDF the worker makes: see ``converted_by_worker``).
    pages_pdf: Path | None

    @property
    def path(self) -> Path:
        """The uploaded bytes, unchanged: what is stored as the original."""
        return self.spool.path

    @property
    def sha256(self) -> str:
        return self.spool.sha256

    @property
    def size_bytes(self) -> int:
        return self.spool.size

    def discard(self) -> None:
        self.spool.close()
        if self.pages_pdf is not None:
            self.pages_pdf.unlink(missing_ok=True)


def pages_pdf_key(sha256: str) -> str:
    """Where the pages PDF of an original lives: a derived object named after the original it was made from."""
    return original_key(sha256).replace("originals/", "derived/", 1) + "/pages.pdf"


def converted_by_worker(media_type: MediaType) -> bool:
    """Whether the pages PDF is made by a queued job rather than during the upload: a TIFF's frames are decoded
    and compressed again one by one (a 40-page grey TIFF takes half a minute), a JPEG or PNG is embedded as it
    is and a repaired PDF is copied, in a fraction of that."""
    return media_type == "tiff"


def pages_pdf_pending(store: ObjectStore, sha256: str) -> bool:
    """True while the original needs a pages PDF that its conversion job has not stored yet."""
    if store.exists(pages_pdf_key(sha256)):
        return False
    with store.open(original_key(sha256)) as original:
        media_type = sniff(original.read(SNIFF_BYTES))
    return media_type is not None and converted_by_worker(media_type)


def pages_source_key(store: ObjectStore, sha256: str) -> str:
    """The object whose pages are rasterised: the pages PDF when intake made one, else the original itself."""
    derived = pages_pdf_key(sha256)
    return derived if store.exists(derived) else original_key(sha256)


def display_name(uploaded_name: str) -> str:
    """The name an upload is recorded and shown under: its last path part, in NFC, without what can hide or
    fake text on a screen or break a database, and at most ``MAX_NAME_CHARS`` long, keeping the extension.

    The name is never used as a path (objects are stored under their SHA-256), but it is shown in pages and
    reports: control characters (NUL, which PostgreSQL refuses in text; CR, LF, escapes), bidirectional
    overrides and zero-width characters ("hoadon\\u202efdp.exe" shows as "hoadonexe.pdf"), lone surrogates
    (not encodable) and stacks of combining marks that draw over neighbouring lines are removed.
    """
    base = uploaded_name.replace("\\", "/").rsplit("/", 1)[-1]
    kept: list[str] = []
    marks = 0
    for character in unicodedata.normalize("NFC", base):
        category = unicodedata.category(character)
        if category in ("Cc", "Cf", "Cs") and character != "\u200d":  # ZWJ joins emoji sequences
            continue
        marks = marks + 1 if category.startswith("M") else 0
        if marks <= MAX_COMBINING_MARKS:
            kept.append(character)
    name = "".join(kept).strip()
    if name.strip(".") == "":
        return ""
    if len(name) > MAX_NAME_CHARS:
        _, dot, extension = name.rpartition(".")
        keep = f".{extension}" if dot and len(extension) <= 8 else ""
        name = name[: MAX_NAME_CHARS - len(keep)].rstrip(" .") + keep
    return name


def _without_path(message: str, path: Path) -> str:
    """An error message of qpdf or Pillow without the temp file it names, which means nothing to the sender."""
    return message.replace(f"{path}: ", "").replace(f" '{path}'", "").replace(str(path), "the file")


# What in a PDF runs code or carries other files (PDF 2.0, 12.6 Actions and 7.11 File specifications).
_ACTIVE_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/EmbeddedFiles": "embedded files",
    "/EF": "an embedded file",
    "/XFA": "an XFA form",
}
_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a launch action",
    "/RichMediaExecute": "a rich media action",
}
_ACTIVE_TYPES = {
    "/EmbeddedFile": "an embedded file",
    "/FileAttachment": "a file attachment",
    "/RichMedia": "rich media",
}


def active_content(pdf: pikepdf.Pdf) -> str | None:
    """What of the document can run or carries files, or None: every object reachable from the trailer is
    looked at once (references are followed by object number, so a cycle ends), without decoding any stream.

    Wherever it hides (an /OpenAction, a page's /AA, a link, the /Next of a harmless action, the /Names tree):
    a reader reaches it only through the trailer, so an orphan object is not looked at.
    """
    seen: set[tuple[int, int]] = set()
    pending: list[pikepdf.Object] = [pdf.trailer]
    while pending:
        item = pending.pop()
        if not isinstance(item, pikepdf.Object):  # numbers, booleans and null come back as Python values
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        if isinstance(item, pikepdf.Stream):
            item = item.stream_dict
        if isinstance(item, pikepdf.Dictionary):
            for key, name in _ACTIVE_KEYS.items():
                if key in item:
                    return name
            for key, table in (("/S", _ACTIVE_ACTIONS), ("/Type", _ACTIVE_TYPES), ("/Subtype", _ACTIVE_TYPES)):
                value = item.get(key)
                if isinstance(value, pikepdf.Name) and str(value) in table:
                    return table[str(value)]
            pending.extend(item.values())
        elif isinstance(item, pikepdf.Array):
            pending.extend(item)
    return None


def _check_page_sizes(pdf: pikepdf.Pdf, limits: IntakeLimits) -> None:
    """Refuse a page whose raster at the OCR resolution exceeds the pixel limit (a page size bomb).

    The media box bounds what poppler renders (it draws the crop box, which lies inside it) and, like
    poppler, ignores /UserUnit.
    """
    for number, page in enumerate(pdf.pages, start=1):
        x0, y0, x1, y1 = (float(value) for value in page.mediabox)
        width_in, height_in = abs(x1 - x0) / POINTS_PER_INCH, abs(y1 - y0) / POINTS_PER_INCH
        pixels = width_in * limits.ocr_dpi * height_in * limits.ocr_dpi
        if math.isnan(pixels):  # an infinite side by a zero one: no page a rasteriser can draw
            raise PageTooLarge(f"Page {number} has no finite size: its media box is {width_in} x {height_in} inches.")
        if pixels > limits.max_page_pixels:
            raise PageTooLarge(
                f"Page {number} is {width_in:.0f} x {height_in:.0f} inches: at {limits.ocr_dpi} dpi (HOSO_OCR_DPI) "
                f"that is {pixels / 1e6:.0f} Mpx, more than the limit of {limits.max_page_pixels / 1e6:.0f} Mpx "
                "(HOSO_MAX_PAGE_MPIXELS)."
            )


def check_pdf(path: Path, limits: IntakeLimits, repaired: Path) -> tuple[int, bool]:
    """The page count of a readable PDF and whether it needed repair (then written to ``repaired``).

    qpdf reconstructs a damaged cross-reference table or a truncated trailer and says so in warnings;
    poppler often cannot read such a file at all, so its pages are read from a repaired copy, a new PDF
    holding the recovered pages.
    """
    try:
        with pikepdf.open(path) as pdf:
            page_count = len(pdf.pages)
            if page_count == 0:
                raise NoPages("The PDF has no pages.")
            if page_count > limits.max_pages:
                raise TooManyPages(
                    f"The PDF has {page_count} pages, more than the limit of {limits.max_pages} (HOSO_MAX_PAGES)."
                )
            _check_page_sizes(pdf, limits)
            if (active := active_content(pdf)) is not None:
                raise ActiveContent(
                    f"The PDF holds {active}, which a scan never does. Print it to a new PDF or export the scan "
                    "again from the scanner software, then upload that file."
                )
            if not pdf.get_warnings():
                return page_count, False
            # Only the pages go into the copy: a recovered trailer can be incomplete (qpdf then writes one
            # without /Size, damaged again), and nothing but the pages is read from it.
            with pikepdf.new() as pages_only:
                pages_only.pages.extend(pdf.pages)
                pages_only.save(repaired, deterministic_id=True)
            return page_count, True
    except pikepdf.PasswordError as locked:
        raise EncryptedPdf() from locked
    except IngestError:
        raise
    except Exception as broken:  # noqa: BLE001 - qpdf and pikepdf raise PdfError, ValueError, TypeError, RecursionError…
        repaired.unlink(missing_ok=True)
        raise UnreadablePdf(f"The PDF is damaged and cannot be read: {_without_path(str(broken), path)}") from broken


def _pages_of(spooled: Spool, limits: IntakeLimits, pages_pdf: Path) -> tuple[MediaType, int, Path | None]:
    """The real type, the page count and the pages PDF (written to ``pages_pdf`` if needed) of a spooled file."""
    if spooled.size == 0:
        raise EmptyFile()
    with spooled.path.open("rb") as head_stream:
        head = head_stream.read(SNIFF_BYTES)
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedType(f"The file is {describe(head)}, not a PDF or a TIFF, JPEG or PNG image.")
    if media_type == "pdf":
        page_count, needed_repair = check_pdf(spooled.path, limits, pages_pdf)
        return media_type, page_count, pages_pdf if needed_repair else None
    frames = read_frames(spooled.path, limits.max_pages, limits.max_page_pixels, all_frames=media_type == "tiff")
    if converted_by_worker(media_type):
        return media_type, len(frames), None
    image_to_pdf(spooled.path, media_type, frames, pages_pdf)
    return media_type, len(frames), pages_pdf


def receive(stream: IO[bytes] | Spool, filename: str, temp_dir: Path, limits: IntakeLimits) -> ReceivedFile:
    """Spool (unless the web app already did), sniff and check one upload; an ``IngestError`` refuses it."""
    spooled = stream if isinstance(stream, Spool) else spool(stream, temp_dir, limits.max_bytes)
    pages_pdf_path = spooled.path.with_name(spooled.path.name + ".pages.pdf")
    try:
        spooled.flush()
        media_type, page_count, pages_pdf = _pages_of(spooled, limits, pages_pdf_path)
    except BaseException:
        spooled.close()
        pages_pdf_path.unlink(missing_ok=True)
        raise
    return ReceivedFile(spooled, display_name(filename), media_type, page_count, pages_pdf)
