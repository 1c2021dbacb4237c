"""What a file really is, from its first bytes: a scan is judged by its content, never by its name.

Scanner software and e-mail clients rename files freely (a TIFF saved as ``.pdf``, a ``.jpg`` that is a
PNG), so the extension is ignored. For files hoso refuses, the detail names what the file seems to be,
which is what the person at the scanner needs to know.
"""

from __future__ import annotations

from typing import Literal

MediaType = Literal["pdf", "tiff", "jpeg", "png"]

# Enough for every signature below and for a PDF header after leading junk.
SNIFF_BYTES = 1024
PDF_MAGIC = b"%PDF-"

# Signatures at offset 0 of the images hoso accepts.
_IMAGE_SIGNATURES: tuple[tuple[bytes, MediaType], ...] = (
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF, for scans past 4 GiB
    (b"MM\x00+", "tiff"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)

# What refused files most often are, to say so in the refusal.
_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel/OpenDocument file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc/.xls)"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
)


def sniff(head: bytes) -> MediaType | None:
    """The accepted type of a file whose first bytes are ``head``, or None when it is none of them.

    Image signatures are tested at offset 0 first; a PDF header counts anywhere in the first KiB, as PDF
    readers accept it there (Adobe's implementation note 13), after e.g. a mail gateway's leading junk, but not
    after another format's own signature: a ZIP or a program holding a PDF near its start is a polyglot, and
    qpdf would recover the PDF inside while the original stored and served is the ZIP.
    """
    for signature, media_type in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media_type
    if any(head.startswith(signature) for signature, _ in _KNOWN_OTHERS):
        return None
    if PDF_MAGIC in head[:SNIFF_BYTES]:
        return "pdf"
    return None


def describe(head: bytes) -> str:
    """A short English guess at what a refused file is, for the error detail."""
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "a HEIC photo"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    for signature, name in _KNOWN_OTHERS:
        if head.startswith(signature):
            return name
    sample = head[:SNIFF_BYTES]
    if sample and all(byte in b"\t\n\r" or 32 <= byte < 127 or byte >= 0x80 for byte in sample):
        return "a text file"
    return "of an unknown type"
