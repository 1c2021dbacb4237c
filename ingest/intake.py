"""Receiving a file: stream it to disk while hashing, sniff the real type, check the PDF opens.

The whole file is never held in memory; the temp file lives next to the object store so that storing it is a
rename on the same file system. On any refusal the temp file is removed before the error leaves this module.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pikepdf

from ingest.errors import EmptyFile, EncryptedPdf, FileTooLarge, NoPages, TooManyPages, UnreadablePdf, UnsupportedType

CHUNK_BYTES = 1024 * 1024
PDF_MAGIC = b"%PDF-"
# PDF readers accept the header anywhere in the first KiB (Adobe's implementation note 13).
PDF_HEADER_WINDOW = 1024


@dataclass(frozen=True)
class ReceivedFile:
    """A file spooled to disk and checked, ready to be stored; the caller removes ``path`` when done."""

    path: Path
    sha256: str
    size_bytes: int
    page_count: int
    filename: str


def spool(stream: IO[bytes], temp_dir: Path, max_bytes: int) -> tuple[Path, str, int]:
    """Copy ``stream`` to a temp file while hashing; refuse past ``max_bytes`` without reading further."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(
                        f"The file is larger than the limit of {max_bytes // (1024 * 1024)} MiB (HOSO_MAX_UPLOAD_MB)."
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def _count_pdf_pages(path: Path) -> int:
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PasswordError as locked:
        raise EncryptedPdf() from locked
    except (pikepdf.PdfError, ValueError, RecursionError) as broken:
        raise UnreadablePdf(f"The PDF is damaged and cannot be read: {broken}") from broken


def check_pdf(path: Path, size: int, max_pages: int) -> int:
    """The number of pages of a readable PDF, or the intake error that refuses it."""
    if size == 0:
        raise EmptyFile()
    with path.open("rb") as head:
        if PDF_MAGIC not in head.read(PDF_HEADER_WINDOW):
            raise UnsupportedType("The file is not a PDF (no %PDF- header in its first KiB).")
    page_count = _count_pdf_pages(path)
    if page_count == 0:
        raise NoPages()
    if page_count > max_pages:
        raise TooManyPages(f"The PDF has {page_count} pages, more than the limit of {max_pages} (HOSO_MAX_PAGES).")
    return page_count


def receive(stream: IO[bytes], filename: str, temp_dir: Path, max_bytes: int, max_pages: int) -> ReceivedFile:
    path, sha256, size = spool(stream, temp_dir, max_bytes)
    try:
        page_count = check_pdf(path, size, max_pages)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ReceivedFile(path=path, sha256=sha256, size_bytes=size, page_count=page_count, filename=filename)
