"""Scanned images are taken by their bytes, not their names, and become a PDF of exactly the same pixels,
each page as large as the scanned sheet; bombs and damaged images are refused before anything is stored."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from archive.models import Dossier
from archive.runtime import Runtime
from archive.storage import original_key
from ingest.conversion import convert_pages
from ingest.errors import PageTooLarge, TooManyPages, UnreadableImage
from ingest.images import A4_LONG_SIDE_INCHES, page_dpi, read_frames
from ingest.intake import pages_pdf_key, pages_pdf_pending, pages_source_key
from ingest.sniff import sniff
from tests.conftest import corpus_file
from tests.ingest.intake_files import assert_nothing_left, multipage_tiff, png_header_only, stored_objects
from tests.ingest.test_intake import submit_bytes, with_limits


def pages_pdf_of(runtime: Runtime, sha256: str) -> Path:
    path = runtime.settings.storage_dir / pages_pdf_key(sha256)
    assert pages_source_key(runtime.store, sha256) == pages_pdf_key(sha256)
    return path


def submit_tiff(runtime: Runtime, content: bytes, name: str = "scan.tif") -> Dossier:
    """Upload a TIFF, which is accepted before its pages PDF exists, then run the conversion job's work."""
    dossier, created = submit_bytes(runtime, content, name=name)
    assert created and pages_pdf_pending(runtime.store, dossier.original_sha256), "not converted in the request"
    assert stored_objects(runtime) == [original_key(dossier.original_sha256)]
    convert_pages(runtime, dossier.id)
    assert not pages_pdf_pending(runtime.store, dossier.original_sha256)
    return dossier


def filters(image: pikepdf.Stream) -> list[str]:
    value = image.Filter
    return [str(name) for name in value] if isinstance(value, pikepdf.Array) else [str(value)]


def page_sizes_pt(pdf_path: Path) -> list[tuple[float, float]]:
    with pikepdf.open(pdf_path) as pdf:
        return [(round(float(page.mediabox[2]), 2), round(float(page.mediabox[3]), 2)) for page in pdf.pages]


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"II*\x00\x08\x00", "tiff"),
        (b"MM\x00*\x00\x00", "tiff"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "png"),
        (b"%PDF-1.4\n", "pdf"),
        (b"\r\n" * 100 + b"%PDF-1.7", "pdf"),
        (b" " * 1100 + b"%PDF-1.7", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_bytes(head: bytes, media_type: str | None) -> None:
    assert sniff(head) == media_type


def test_multipage_tiff_becomes_one_pdf_page_per_frame_at_its_resolution(runtime: Runtime) -> None:
    sizes = [(600, 900), (1200, 800), (300, 300)]
    content = multipage_tiff(sizes, dpi=300)
    dossier = submit_tiff(runtime, content, name="148-QĐ-XPHC.tif")
    assert dossier.page_count == 3
    sha256 = dossier.original_sha256
    assert stored_objects(runtime) == sorted([original_key(sha256), pages_pdf_key(sha256)])
    assert (runtime.settings.storage_dir / original_key(sha256)).read_bytes() == content
    pages_pdf = pages_pdf_of(runtime, sha256)
    assert page_sizes_pt(pages_pdf) == [(w / 300 * 72, h / 300 * 72) for w, h in sizes]
    with pikepdf.open(pages_pdf) as pdf, Image.open(io.BytesIO(content)) as tiff:
        for number, page in enumerate(pdf.pages):
            tiff.seek(number)
            (embedded,) = page.get_images().values()
            pixels = pikepdf.PdfImage(embedded).as_pil_image()
            assert pixels.size == sizes[number] and pixels.tobytes() == tiff.tobytes(), "lossless, frame by frame"
    assert list(runtime.settings.temp_dir.iterdir()) == []


def test_a_fax_tiff_is_embedded_as_is_and_rasterised_at_its_resolution(runtime: Runtime) -> None:
    dossier = submit_tiff(runtime, multipage_tiff([(850, 1100)], dpi=100, compression="group4"))
    pages_pdf = pages_pdf_of(runtime, dossier.original_sha256)
    with pikepdf.open(pages_pdf) as pdf:
        (embedded,) = pdf.pages[0].get_images().values()
        assert filters(embedded) == ["/CCITTFaxDecode"], "bilevel scans keep their G4 data"
    # poppler, which rasterises the pages, renders the sheet at its scan resolution pixel for pixel.
    rendered = subprocess.run(["pdftoppm", "-r", "100", "-mono", str(pages_pdf)], capture_output=True, check=True)
    with Image.open(io.BytesIO(rendered.stdout)) as image:
        assert image.size == (850, 1100)


def test_a_jpeg_is_embedded_without_re_encoding(runtime: Runtime) -> None:
    content = corpus_file("real", "ocrmypdf", "baiona_cmyk.jpg").read_bytes()  # CMYK, 200 dpi declared
    dossier, created = submit_bytes(runtime, content, name="scan.pdf")  # the name lies; the bytes do not
    assert created and dossier.page_count == 1
    pages_pdf = pages_pdf_of(runtime, dossier.original_sha256)
    with pikepdf.open(pages_pdf) as pdf:
        (embedded,) = pdf.pages[0].get_images().values()
        assert filters(embedded) == ["/DCTDecode"] and embedded.read_raw_bytes() == content
    assert page_sizes_pt(pages_pdf) == [(round(640 / 200 * 72, 2), round(682 / 200 * 72, 2))]


def test_an_image_without_a_credible_resolution_is_laid_out_as_an_a4_sheet(runtime: Runtime) -> None:
    content = corpus_file("real", "ocrmypdf", "linn.png").read_bytes()  # 2550 x 3300 px, no resolution
    dossier, _ = submit_bytes(runtime, content)
    ((width_pt, height_pt),) = page_sizes_pt(pages_pdf_of(runtime, dossier.original_sha256))
    assert height_pt == pytest.approx(A4_LONG_SIDE_INCHES * 72, abs=0.01)
    assert width_pt == pytest.approx(2550 / 3300 * height_pt, abs=0.01)
    assert page_dpi(2480, 3508, (72.0, 72.0)) == pytest.approx((300, 300), abs=0.1), "72 dpi is a camera's default"
    assert page_dpi(1240, 1754, None) == pytest.approx((150, 150), abs=0.1), "a 150 dpi A4 scan stays 150 dpi"
    assert page_dpi(1240, 1754, (200.0, 200.0)) == (200.0, 200.0)


def test_a_real_small_tiff_is_accepted(runtime: Runtime) -> None:
    dossier = submit_tiff(runtime, corpus_file("real", "py-pdf-sample-files", "smile-lzw.tiff").read_bytes())
    assert dossier.page_count == 1
    assert page_sizes_pt(pages_pdf_of(runtime, dossier.original_sha256)) == [(3.84, 3.84)]  # 16 px at 300 dpi


def test_a_decompression_bomb_png_is_refused_from_its_header(runtime: Runtime) -> None:
    with pytest.raises(PageTooLarge) as refused:
        submit_bytes(runtime, png_header_only(100_000, 100_000))
    assert "100000 x 100000 pixels" in refused.value.detail and "HOSO_MAX_PAGE_MPIXELS" in refused.value.detail
    assert_nothing_left(runtime)


def test_hoso_s_pixel_limit_not_pillow_s_decides(tmp_path: Path) -> None:
    """Pillow refuses past 179 Mpx on its own; hoso's limit is a setting and may be higher or lower."""
    bomb = tmp_path / "big.png"
    bomb.write_bytes(png_header_only(15_000, 13_000))  # 195 Mpx
    assert [(frame.width_px, frame.height_px) for frame in read_frames(bomb, 10, 300_000_000)] == [(15_000, 13_000)]
    with pytest.raises(PageTooLarge):
        read_frames(bomb, 10, 100_000_000)
    assert Image.MAX_IMAGE_PIXELS is not None, "Pillow's own guard is back in place for everyone else"


def test_a_tiff_frame_over_the_pixel_limit_or_too_many_frames_is_refused(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(runtime, monkeypatch, max_page_pixels=500_000, max_pages=3)
    with pytest.raises(PageTooLarge) as refused:
        submit_bytes(runtime, multipage_tiff([(100, 100), (1000, 1000)]))
    assert "Page 2" in refused.value.detail
    with pytest.raises(TooManyPages):
        submit_bytes(runtime, multipage_tiff([(50, 50)] * 4))
    assert_nothing_left(runtime)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_damaged_tiff_is_refused(runtime: Runtime) -> None:
    content = multipage_tiff([(400, 400)], compression="tiff_lzw")
    damaged = content[:16] + b"\xff" * (len(content) - 16)  # header kept, directory and strips destroyed
    with pytest.raises(UnreadableImage) as refused:
        submit_bytes(runtime, damaged)
    assert refused.value.code == "unreadable_image" and refused.value.message_vi
    assert_nothing_left(runtime)


def test_a_cmyk_tiff_is_accepted_with_its_original_kept(runtime: Runtime) -> None:
    frames = [Image.new("CMYK", (100, 140), (0, 50, 100, 0)), Image.new("CMYK", (100, 140), (10, 0, 0, 0))]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))
    dossier = submit_tiff(runtime, out.getvalue())
    assert dossier.page_count == 2
    assert (runtime.settings.storage_dir / original_key(dossier.original_sha256)).read_bytes() == out.getvalue()
    assert len(page_sizes_pt(pages_pdf_of(runtime, dossier.original_sha256))) == 2
