"""Page images for the dossier page: a thumbnail for the grid and a larger image for the viewer.

The worker stores each page's thumbnail as it reads the page (``ocr/thumbnail.py``). Anything missing (a page
still waiting, the viewer size, a dossier read before thumbnails were made) is rendered on first request from
the dossier's pages source (the original PDF, or the pages PDF intake made from an image upload) by poppler,
one page per call, turned upright by the rotation OCR detected, then kept as a derived object beside the
original (``derived/ab/<sha>/thumb-160/3-r180.png``, ``archive/page_image_keys.py``). The original is never
touched. The key holds the width and the rotation: a page still waiting for OCR is drawn as scanned
(rotation 0) and drawn again, under a new key, once its rotation is known; a new size is a new folder. Stale
objects are small and harmless; nothing reads them again.

Rendering is bounded: at most ``RENDERS_AT_ONCE`` pdftoppm processes per web process (a grid of 300
lazy thumbnails must not fork 300 of them), each with a timeout; a request that cannot get a turn in
time is answered 503 with Retry-After, which the browser's next scroll retries.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
import threading
from pathlib import Path

import numpy as np
from flask import Blueprint, send_file
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPopplerTimeoutError
from PIL import Image
from werkzeug.exceptions import NotFound, ServiceUnavailable
from werkzeug.wrappers import Response

from archive.models import Dossier, Page
from archive.page_image_keys import THUMBNAIL, VIEWER, ImageKind, image_key
from archive.storage import ObjectStore, StorageError
from archive.web import context
from archive.web.dossier_page import page_of
from archive.web.scope import dossier_in_scope
from ingest.intake import pages_source_key
from ocr.orientation import upright

log = logging.getLogger(__name__)

bp = Blueprint("page_images", __name__)

RENDERS_AT_ONCE = 2
RENDER_TIMEOUT_S = 30
RETRY_AFTER_S = 5
# Finished pages keep their rotation: the browser may keep their image a day. A pending page's rotation is
# not known yet, so its image is revalidated (the ETag names the rotation) on every view.
FINISHED_MAX_AGE_S = 24 * 3600

_render_slots = threading.BoundedSemaphore(RENDERS_AT_ONCE)


def render_png(pdf_path: Path, page_number: int, rotation: int, width_px: int) -> bytes:
    """One page of the PDF as PNG, ``width_px`` wide once turned upright by ``rotation``.

    The page is scaled by poppler, so the full-resolution scan is never held in memory; a page turned by
    90 or 270 degrees is scaled on its height, which becomes its width. Scans that are grey (most are)
    are stored as one channel: a third of the size.
    """
    turned_sideways = rotation % 180 == 90
    size = (None, width_px) if turned_sideways else (width_px, None)
    (image,) = convert_from_path(
        pdf_path, first_page=page_number, last_page=page_number, size=size, fmt="ppm", timeout=RENDER_TIMEOUT_S
    )
    image = upright(image, rotation % 360)
    if _is_grey(image):
        image = image.convert("L")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _is_grey(image: Image.Image) -> bool:
    pixels = np.asarray(image.convert("RGB"))
    return bool((pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all())


def cached_page_image(store: ObjectStore, temp_dir: Path, dossier: Dossier, page: Page, kind: ImageKind) -> str:
    """The store key of the page's image, rendered and stored first when it is not there yet."""
    key = image_key(dossier.original_sha256, kind, page.page_number, page.rotation)
    if store.exists(key):
        return key
    if not _render_slots.acquire(timeout=RENDER_TIMEOUT_S):
        raise _busy("All page renderers stayed busy; try again shortly.")
    try:
        if not store.exists(key):  # another request may have stored it while this one waited
            _store_bytes(store, temp_dir, key, _render(store, dossier, page, kind))
    finally:
        _render_slots.release()
    return key


def _render(store: ObjectStore, dossier: Dossier, page: Page, kind: ImageKind) -> bytes:
    """The page drawn from the dossier's pages source; 404 when nothing is stored, 503 when poppler is too slow."""
    try:
        with store.local_path(pages_source_key(store, dossier.original_sha256)) as source:
            return render_png(Path(source), page.page_number, page.rotation, kind.width_px)
    except StorageError as missing:
        raise NotFound(f"Dossier {dossier.id!r} has no stored pages to draw: {missing}") from None
    except PDFPopplerTimeoutError:
        log.error("page %d of dossier %s took over %d s to draw", page.page_number, dossier.id, RENDER_TIMEOUT_S)
        raise _busy(f"Page {page.page_number} could not be drawn in time.") from None


def _store_bytes(store: ObjectStore, temp_dir: Path, key: str, data: bytes) -> None:
    """Write-once store of rendered bytes; a concurrent render that stored first (same page) is kept."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=temp_dir, prefix="page-image-", suffix=".png") as temp:
        temp.write(data)
        temp.flush()
        try:
            store.put_file(key, Path(temp.name))
        except StorageError:
            if not store.exists(key):
                raise
            log.info("page image %s was stored by another request first; keeping that one", key)


def _busy(detail: str) -> ServiceUnavailable:
    return ServiceUnavailable(detail, retry_after=RETRY_AFTER_S)


def page_image_response(dossier_id: str, page_number: int, kind: ImageKind) -> Response:
    """The image of one page of a dossier in the user's units; 404 for another unit's or a missing page."""
    session = context.db()
    dossier = dossier_in_scope(session, context.current_user(), dossier_id)
    page = page_of(session, dossier, page_number)
    runtime = context.runtime()
    key = cached_page_image(runtime.store, runtime.settings.temp_dir, dossier, page, kind)
    finished = page.status != "pending"
    response = send_file(
        runtime.store.open(key),
        mimetype="image/png",
        etag=hashlib.sha256(key.encode()).hexdigest()[:32],
        max_age=FINISHED_MAX_AGE_S if finished else None,
        conditional=True,
    )
    # Private: the image belongs to one unit's dossier and must not be kept by a shared proxy.
    response.cache_control.private = True
    response.cache_control.public = False
    if not finished:
        response.cache_control.no_cache = True
    return response


@bp.get("/dossiers/<dossier_id>/pages/<int:page_number>/thumb.png")
def thumbnail(dossier_id: str, page_number: int) -> Response:
    return page_image_response(dossier_id, page_number, THUMBNAIL)


@bp.get("/dossiers/<dossier_id>/pages/<int:page_number>.png")
def page_image(dossier_id: str, page_number: int) -> Response:
    return page_image_response(dossier_id, page_number, VIEWER)
