"""A TIFF's pages PDF is made by a queued job, not in the upload request; its frames come out upright as the
TIFF Orientation tag says (a JPEG's EXIF orientation too), and a frame that cannot be decoded fails that
page only."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from archive.models import Dossier
from archive.runtime import Runtime
from ingest import pipeline
from ingest.conversion import convert_pages
from ingest.intake import pages_pdf_key, pages_pdf_pending
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import ground_truth, replayed_facts
from tests.ingest.test_intake import submit_bytes

BAR_PX = 20
ORIENTATION_TAG = 274  # TIFF and EXIF


def sheet_with_a_bar_on_the_left(mode: str = "L") -> Image.Image:
    """A landscape 300 x 200 px frame, light, with a dark bar along its left edge: where the bar ends up
    says how the frame was turned."""
    image = Image.new(mode, (300, 200), 255 if mode == "1" else 230)
    image.paste(0 if mode == "1" else 20, (0, 0, BAR_PX, 200))
    return image


def tiff_with_orientation(orientation: int, mode: str) -> bytes:
    out = io.BytesIO()
    compression = "group4" if mode == "1" else "tiff_lzw"
    sheet_with_a_bar_on_the_left(mode).save(
        out, format="TIFF", dpi=(200, 200), compression=compression, tiffinfo={ORIENTATION_TAG: orientation}
    )
    return out.getvalue()


def rendered_page(pdf: Path, dpi: int = 200) -> Image.Image:
    """The page as poppler draws it for OCR (honouring /Rotate), in grey."""
    drawn = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", str(pdf)], capture_output=True)
    assert drawn.returncode == 0, drawn.stderr
    return Image.open(io.BytesIO(drawn.stdout))


def dark_edge(image: Image.Image) -> str:
    """Which edge of the image carries the dark bar."""
    width, height = image.size
    strips = {
        "top": (0, 0, width, BAR_PX // 2),
        "bottom": (0, height - BAR_PX // 2, width, height),
        "left": (0, 0, BAR_PX // 2, height),
        "right": (width - BAR_PX // 2, 0, width, height),
    }
    means = {
        edge: sum(image.crop(box).get_flattened_data()) / ((box[2] - box[0]) * (box[3] - box[1]))
        for edge, box in strips.items()
    }
    return min(means, key=lambda edge: means[edge])


def stored(runtime: Runtime, key: str) -> Path:
    return runtime.settings.storage_dir / key


@pytest.mark.parametrize(
    ("orientation", "mode", "size", "bar"),
    [
        (1, "L", (300, 200), "left"),  # as stored
        (6, "L", (200, 300), "top"),  # "turn 90° clockwise to view": the left edge goes to the top
        (6, "1", (200, 300), "top"),  # a fax (G4) frame
        (3, "L", (300, 200), "right"),  # upside down
        (8, "L", (200, 300), "bottom"),  # "turn 90° counter-clockwise to view"
        (2, "L", (300, 200), "right"),  # mirrored left to right
    ],
)
def test_a_tiff_frame_is_turned_upright_as_its_orientation_tag_says(
    runtime: Runtime, orientation: int, mode: str, size: tuple[int, int], bar: str
) -> None:
    dossier, _created = submit_bytes(runtime, tiff_with_orientation(orientation, mode), name="scan.tif")
    convert_pages(runtime, dossier.id)
    pages_pdf = stored(runtime, pages_pdf_key(dossier.original_sha256))
    with pikepdf.open(pages_pdf) as pdf:
        page = pdf.pages[0]
        assert "/Rotate" not in page.obj, "the pixels themselves are upright"
        (embedded,) = page.get_images().values()
        pixels = pikepdf.PdfImage(embedded).as_pil_image().convert("L")
        assert pixels.size == size
        assert [round(float(value), 2) for value in page.mediabox[2:]] == [size[0] / 200 * 72, size[1] / 200 * 72]
    assert dark_edge(pixels) == bar
    assert dark_edge(rendered_page(pages_pdf)) == bar


def test_a_jpeg_s_exif_orientation_turns_its_page_and_keeps_its_bytes(runtime: Runtime) -> None:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    out = io.BytesIO()
    sheet_with_a_bar_on_the_left("RGB").save(out, format="JPEG", dpi=(200, 200), exif=exif.tobytes(), quality=95)
    dossier, _created = submit_bytes(runtime, out.getvalue(), name="photo.jpg")
    pages_pdf = stored(runtime, pages_pdf_key(dossier.original_sha256))
    with pikepdf.open(pages_pdf) as pdf:
        (embedded,) = pdf.pages[0].get_images().values()
        assert embedded.read_raw_bytes() == out.getvalue(), "the JPEG is embedded as it is"
        assert int(pdf.pages[0].obj.Rotate) == 90
    drawn = rendered_page(pages_pdf)
    assert drawn.size == (200, 300) and dark_edge(drawn) == "top"


def tiff_with_a_damaged_second_frame() -> bytes:
    frames = [Image.new("L", (200, 280), 60 * number) for number in range(3)]
    out = io.BytesIO()
    frames[0].save(
        out, format="TIFF", save_all=True, append_images=frames[1:], dpi=(100, 100), compression="tiff_adobe_deflate"
    )
    content = bytearray(out.getvalue())
    with Image.open(io.BytesIO(bytes(content))) as tiff:
        tiff.seek(1)
        offset, length = tiff.tag_v2[273][0], tiff.tag_v2[279][0]  # StripOffsets, StripByteCounts
    content[offset : offset + length] = b"\xff" * length  # the frame's zlib data destroyed, its directory kept
    return bytes(content)


def test_a_frame_that_cannot_be_decoded_fails_its_page_only(runtime: Runtime) -> None:
    dossier, created = submit_bytes(runtime, tiff_with_a_damaged_second_frame(), name="scan.tif")
    assert created and dossier.page_count == 3, "the frames' headers are sound: accepted"
    convert_pages(runtime, dossier.id)
    with runtime.sessions() as session:
        pages = session.get(Dossier, dossier.id).pages
        assert [(page.status, page.error_code) for page in pages] == [
            ("pending", None),
            ("failed", "page_unreadable"),
            ("pending", None),
        ]
    assert pipeline.pending_pages(runtime, dossier.id) == [1, 3]
    with pikepdf.open(stored(runtime, pages_pdf_key(dossier.original_sha256))) as pdf:
        assert len(pdf.pages) == 3, "a blank page stands for the damaged frame, so page numbers stay the frames'"
    assert list(runtime.settings.temp_dir.iterdir()) == []


def test_a_tiff_runs_through_the_queue_converted_by_a_job(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = ground_truth("dev-003")
    monkeypatch.setattr(pipeline, "read_page", lambda _pdf, page, _dpi=300: replayed_facts(truth, page))
    queue = JobQueue(runtime.settings)
    content = tiff_with_a_damaged_second_frame()
    dossier, _created = submit(runtime, queue, io.BytesIO(content), "scan.tif", "7/BB", "QNI-D1")
    assert pages_pdf_pending(runtime.store, dossier.original_sha256)
    assert queue.huey.pending_count() == 1, "one job, the conversion; the pages are queued by it"
    queue.huey.flush()
    queue.huey.immediate = True
    assert queue.requeue_unfinished() == 1, "a starting worker finds the conversion still to do"
    with runtime.sessions() as session:
        finished = session.get(Dossier, dossier.id)
        assert finished.status == "processed"
        assert [page.status for page in finished.pages] == ["done", "failed", "done"]
        assert "page_unreadable" in {finding["code"] for finding in finished.verify_report["findings"]}
