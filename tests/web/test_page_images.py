"""Page thumbnails and viewer images: drawn from the stored PDF one page at a time, turned upright, kept as
derived objects (the original untouched), cached by the browser with an ETag, and never shown outside scope."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pdf2image.exceptions import PDFPopplerTimeoutError
from PIL import Image, ImageStat

from archive.models import Dossier, Page
from archive.runtime import Runtime
from archive.storage import file_sha256, original_key
from archive.web import page_images
from ingest.intake import pages_pdf_key
from tests.web.helpers import login, plant_dossier

# A portrait page (A4 proportions at 100 dpi) whose top-left quarter is black: where the black lands after
# rendering tells which way the image was turned.
PAGE_SIZE = (827, 1169)


def marked_page() -> Image.Image:
    image = Image.new("L", PAGE_SIZE, 255)
    image.paste(0, (0, 0, PAGE_SIZE[0] // 2, PAGE_SIZE[1] // 2))
    return image


def store_scan(runtime: Runtime, tmp_path: Path, dossier_id: str, pages: int = 2) -> str:
    """Store a real PDF of ``pages`` marked pages as the dossier's original; returns its SHA-256."""
    frames = []
    for _ in range(pages):
        frame = io.BytesIO()
        marked_page().save(frame, "PNG", dpi=(100, 100))
        frames.append(frame.getvalue())
    pdf_path = tmp_path / "scan.pdf"
    pdf_path.write_bytes(img2pdf.convert(frames))
    sha256 = file_sha256(pdf_path)
    runtime.store.put_file(original_key(sha256), pdf_path)
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        dossier.original_sha256 = sha256
        session.commit()
    return sha256


def set_rotation(runtime: Runtime, dossier_id: str, page_number: int, rotation: int, status: str = "done") -> None:
    with runtime.sessions() as session:
        page = session.query(Page).filter_by(dossier_id=dossier_id, page_number=page_number).one()
        page.rotation, page.status = rotation, status
        session.commit()


def dark_corner(png: bytes) -> tuple[bool, bool]:
    """(top, left) of the darkest quarter of the image."""
    image = Image.open(io.BytesIO(png)).convert("L")
    half_w, half_h = image.width // 2, image.height // 2
    quarters = {
        (top, left): (
            0 if left else half_w,
            0 if top else half_h,
            half_w if left else image.width,
            half_h if top else image.height,
        )
        for top in (True, False)
        for left in (True, False)
    }
    return min(quarters, key=lambda corner: ImageStat.Stat(image.crop(quarters[corner])).mean[0])


@pytest.fixture
def scanned(runtime: Runtime, tmp_path: Path) -> str:
    dossier_id = plant_dossier(runtime, "LCI-D1", "21/LCI", ["bìa", "trang hai"])
    store_scan(runtime, tmp_path, dossier_id)
    return dossier_id


def test_thumbnail_and_viewer_image_are_pngs_of_the_right_width(client: FlaskClient, scanned: str) -> None:
    login(client, "canbo")
    for path, width in ((f"/dossiers/{scanned}/pages/1/thumb.png", 160), (f"/dossiers/{scanned}/pages/2.png", 1400)):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/png"
        image = Image.open(io.BytesIO(response.data))
        assert image.width == width
        assert abs(image.height / image.width - PAGE_SIZE[1] / PAGE_SIZE[0]) < 0.02
        assert image.mode == "L"  # a grey scan is stored with one channel
        assert dark_corner(response.data) == (True, True)
        assert "private" in response.headers["Cache-Control"] and response.headers["ETag"]


@pytest.mark.parametrize(
    ("rotation", "corner", "portrait"),
    [(180, (False, False), True), (90, (False, True), False), (270, (True, False), False)],
)
def test_the_detected_rotation_is_applied(
    client: FlaskClient, runtime: Runtime, scanned: str, rotation: int, corner: tuple[bool, bool], portrait: bool
) -> None:
    """OCR found the content turned clockwise by ``rotation``; the image is turned back (as ocr.orientation.upright)."""
    set_rotation(runtime, scanned, 1, rotation)
    login(client, "canbo")
    png = client.get(f"/dossiers/{scanned}/pages/1/thumb.png").data
    image = Image.open(io.BytesIO(png))
    assert image.width == 160
    assert (image.height > image.width) == portrait
    assert dark_corner(png) == corner


def test_rendered_images_are_stored_once_and_reused(
    client: FlaskClient, runtime: Runtime, scanned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, "canbo")
    with runtime.sessions() as session:
        sha256 = session.get(Dossier, scanned).original_sha256  # type: ignore[union-attr]
    key = page_images.image_key(sha256, page_images.THUMBNAIL, 2, 0)
    original_before = runtime.store.sha256(original_key(sha256))
    first = client.get(f"/dossiers/{scanned}/pages/2/thumb.png")
    assert first.status_code == 200 and runtime.store.exists(key)
    assert key.startswith(f"derived/{sha256[:2]}/{sha256}/thumb-160/")

    def no_rendering(*_args: object) -> bytes:
        raise AssertionError("the stored image should have been served")

    monkeypatch.setattr(page_images, "render_png", no_rendering)
    second = client.get(f"/dossiers/{scanned}/pages/2/thumb.png")
    assert second.status_code == 200 and second.data == first.data
    revalidated = client.get(f"/dossiers/{scanned}/pages/2/thumb.png", headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304
    assert runtime.store.sha256(original_key(sha256)) == original_before

    set_rotation(runtime, scanned, 2, 180)  # a new rotation is a new image, not the cached one
    monkeypatch.undo()
    turned = client.get(f"/dossiers/{scanned}/pages/2/thumb.png")
    assert turned.status_code == 200 and turned.headers["ETag"] != first.headers["ETag"]


def test_a_pending_page_is_drawn_but_revalidated(client: FlaskClient, runtime: Runtime, scanned: str) -> None:
    set_rotation(runtime, scanned, 1, 0, status="pending")
    login(client, "canbo")
    pending = client.get(f"/dossiers/{scanned}/pages/1/thumb.png")
    assert pending.status_code == 200 and "no-cache" in pending.headers["Cache-Control"]
    done = client.get(f"/dossiers/{scanned}/pages/2/thumb.png")
    assert "max-age=86400" in done.headers["Cache-Control"] and "no-cache" not in done.headers["Cache-Control"]


def test_out_of_scope_and_missing_pages_are_404(
    app: Flask, client: FlaskClient, runtime: Runtime, scanned: str
) -> None:
    other = plant_dossier(runtime, "QNI-D1", "22/QNI", ["bìa"])
    login(client, "canbo")
    for path in (
        f"/dossiers/{other}/pages/1/thumb.png",
        f"/dossiers/{other}/pages/1.png",
        f"/dossiers/{scanned}/pages/3/thumb.png",
        f"/dossiers/{scanned}/pages/0.png",
        "/dossiers/nope/pages/1.png",
    ):
        assert client.get(path).status_code == 404, path
    assert app.test_client().get(f"/dossiers/{scanned}/pages/1.png").status_code == 302  # the login guard


def test_an_image_upload_is_drawn_from_its_pages_pdf(client: FlaskClient, runtime: Runtime, tmp_path: Path) -> None:
    """A TIFF or JPEG original is never given to poppler: intake's pages PDF is the source."""
    dossier_id = plant_dossier(runtime, "LCI-D1", "23/LCI", ["bìa"])
    pdf_sha256 = store_scan(runtime, tmp_path, dossier_id, pages=1)
    tiff = tmp_path / "scan.tif"
    marked_page().save(tiff, "TIFF")
    tiff_sha256 = file_sha256(tiff)
    runtime.store.put_file(original_key(tiff_sha256), tiff)
    with runtime.store.local_path(original_key(pdf_sha256)) as pdf:
        runtime.store.put_file(pages_pdf_key(tiff_sha256), Path(pdf))
    with runtime.sessions() as session:
        session.get_one(Dossier, dossier_id).original_sha256 = tiff_sha256
        session.commit()
    login(client, "canbo")
    response = client.get(f"/dossiers/{dossier_id}/pages/1/thumb.png")
    assert response.status_code == 200 and dark_corner(response.data) == (True, True)
    assert runtime.store.exists(page_images.image_key(tiff_sha256, page_images.THUMBNAIL, 1, 0))


def test_rendering_is_bounded_and_a_busy_or_slow_render_is_a_503(
    client: FlaskClient, scanned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, "canbo")
    monkeypatch.setattr(page_images, "RENDER_TIMEOUT_S", 0.1)
    held = [page_images._render_slots.acquire(blocking=False) for _ in range(page_images.RENDERS_AT_ONCE)]
    try:
        assert all(held)
        assert client.get(f"/dossiers/{scanned}/pages/1/thumb.png").status_code == 503  # every renderer is busy
    finally:
        for _ in held:
            page_images._render_slots.release()

    def too_slow(*_args: object) -> bytes:
        raise PDFPopplerTimeoutError("pdftoppm ran past its timeout")

    monkeypatch.setattr(page_images, "render_png", too_slow)
    assert client.get(f"/dossiers/{scanned}/pages/1/thumb.png").status_code == 503
    monkeypatch.undo()
    assert client.get(f"/dossiers/{scanned}/pages/1/thumb.png").status_code == 200  # the slots were given back
