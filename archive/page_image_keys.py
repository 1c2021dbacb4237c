"""Where page images live in the object store, shared by the worker (which stores each page's thumbnail as it
reads the page) and the web app (which serves them, and draws any that are missing)."""

from __future__ import annotations

from dataclasses import dataclass

from archive.storage import original_key
from ocr.thumbnail import THUMBNAIL_WIDTH_PX


@dataclass(frozen=True)
class ImageKind:
    """One size of page image: its folder name in the store and its width after turning upright."""

    name: str
    width_px: int


THUMBNAIL = ImageKind("thumb", THUMBNAIL_WIDTH_PX)
# Wide enough to read handwriting at 1366x768 when zoomed in, small enough to send in a second or two.
VIEWER = ImageKind("page", 1400)


def image_key(original_sha256: str, kind: ImageKind, page_number: int, rotation: int) -> str:
    """Where a page image is kept: beside the original's other derived objects; the key names the width and the
    rotation, so a page drawn before its rotation was known is drawn again under a new key."""
    folder = original_key(original_sha256).replace("originals/", "derived/", 1)
    return f"{folder}/{kind.name}-{kind.width_px}/{page_number}-r{rotation % 360}.png"
