"""The archive copy: the original's page images untouched, the OCR words as invisible text where they were read,
PDF/A-2b identification, reproducible bytes, stored once beside the original.

Word boxes are made from the dev corpus' ground-truth lines (each line's box shared out among its words), so the
text layer is checked against known text and positions without running Tesseract.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from archive.models import Dossier
from archive.runtime import Runtime
from ingest import pipeline
from ingest.archive_pdf import TextLayerPage, archive_pdf_key, write_archive_pdf
from ingest.queue import JobQueue
from ingest.submit import submit
from ocr.facts import Word
from tests.conftest import corpus_file, ground_truth, pdf_excerpt, replayed_facts
from tests.ingest.intake_files import multipage_tiff
from tests.ingest.truth_words import facts_words, upright_size, words_from_truth

# dev-002: two upright text pages, then pages stored turned by 90, 270 and 180 degrees.
DEV_002_PAGES = [1, 2, 16, 35, 38]


def pdftotext(pdf: Path, page: int, *options: str) -> str:
    command = ["pdftotext", *options, "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def lines(text: str) -> list[str]:
    return sorted(" ".join(line.split()) for line in text.splitlines() if line.strip())


@pytest.fixture(scope="module")
def dev_002_excerpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pdf_excerpt(
        corpus_file("dev", "dev-002.pdf"), DEV_002_PAGES, tmp_path_factory.mktemp("excerpt") / "dev-002-5.pdf"
    )


def layers_for(truth: dict, source_pages: list[int]) -> list[TextLayerPage]:
    layers = []
    for page_number, source_page in enumerate(source_pages, start=1):
        page_truth = truth["pages"][source_page - 1]
        width, height = upright_size(page_truth)
        layers.append(TextLayerPage(page_number, width, height, page_truth["rotation"], words_from_truth(page_truth)))
    return layers


@pytest.fixture(scope="module")
def archive_copy(dev_002_excerpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("archive") / "archive.pdf"
    write_archive_pdf(dev_002_excerpt, layers_for(ground_truth("dev-002"), DEV_002_PAGES), target, "Hồ sơ 12/QĐ-XPHC")
    return target


def test_pdftotext_returns_each_pages_ocr_text_in_reading_order(archive_copy: Path) -> None:
    truth = ground_truth("dev-002")
    for page_number, source_page in enumerate(DEV_002_PAGES, start=1):
        expected = truth["pages"][source_page - 1]["text"]
        # In the order the words were read (the content stream order)...
        assert pdftotext(archive_copy, page_number, "-raw").split() == expected.split(), page_number
        # ...and with pdftotext's own layout analysis, every line whole (it may put side-by-side columns row by row).
        assert lines(pdftotext(archive_copy, page_number)) == lines(expected), page_number


def test_the_page_images_and_their_content_are_the_originals_bytes(dev_002_excerpt: Path, archive_copy: Path) -> None:
    with pikepdf.open(dev_002_excerpt) as original, pikepdf.open(archive_copy) as copy:
        assert len(copy.pages) == len(original.pages)
        for before, after in zip(original.pages, copy.pages, strict=True):
            images_before = {name: image.read_raw_bytes() for name, image in before.get_images().items()}
            images_after = {name: image.read_raw_bytes() for name, image in after.get_images().items()}
            assert images_before and images_after == images_before
            original_content = before.obj.Contents.read_raw_bytes()
            streams_after = [stream.read_raw_bytes() for stream in after.obj.Contents]
            assert original_content in streams_after, "the original drawing is kept as it was"


def test_the_copy_is_identified_as_pdfa_2b_with_an_srgb_intent_and_an_embedded_font(archive_copy: Path) -> None:
    with pikepdf.open(archive_copy) as pdf:
        metadata = pdf.open_metadata()
        assert metadata["pdfaid:part"] == "2" and metadata["pdfaid:conformance"] == "B"
        assert metadata["dc:title"] == "Hồ sơ 12/QĐ-XPHC"
        assert "/Filter" not in pdf.Root.Metadata, "PDF/A keeps the XMP stream readable"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
        profile = intent.DestOutputProfile.read_bytes()
        assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "
        font = pdf.pages[0].Resources.Font.HosoOCR
        assert font.Subtype == "/Type0" and font.Encoding == "/Identity-H"
        descendant = font.DescendantFonts[0]
        assert descendant.Subtype == "/CIDFontType2"
        assert len(descendant.FontDescriptor.FontFile2.read_bytes()) == int(descendant.FontDescriptor.FontFile2.Length1)
        text_layer = pdf.pages[0].obj.Contents[-1].read_bytes()
        assert b"3 Tr" in text_layer, "the text is invisible"


def test_pikepdf_validator_passes_the_copy_as_pdfa_2b(archive_copy: Path) -> None:
    pdfa = pytest.importorskip("pikepdf.pdfa", reason="pikepdf's PDF/A validator needs jsonschema and referencing")
    report = pdfa.validate_written(archive_copy, "2b")
    assert report.passed, [str(finding) for finding in report.findings]


def test_the_copy_is_reproducible(dev_002_excerpt: Path, archive_copy: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.pdf"
    write_archive_pdf(dev_002_excerpt, layers_for(ground_truth("dev-002"), DEV_002_PAGES), again, "Hồ sơ 12/QĐ-XPHC")
    assert again.read_bytes() == archive_copy.read_bytes()


def word_boxes(pdf: Path, page: int) -> list[tuple[str, tuple[float, float, float, float]]]:
    """pdftotext's word boxes, in points of the page as displayed (y down)."""
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        pdftotext(pdf, page, "-bbox"),
    )
    return [(text, (float(x0), float(y0), float(x1), float(y1))) for x0, y0, x1, y1, text in found]


def assert_words_inside_lines(found: list, line_boxes: list[tuple[float, float, float, float]]) -> None:
    """Every extracted word's centre lies in the box of a ground-truth line (all in displayed points)."""
    assert found
    slack = 2.0
    for text, (x0, y0, x1, y1) in found:
        centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
        assert any(
            left - slack <= centre_x <= right + slack and top - slack <= centre_y <= bottom + slack
            for left, top, right, bottom in line_boxes
        ), text


def test_words_land_where_they_were_read_on_a_page_stored_sideways(archive_copy: Path) -> None:
    truth = ground_truth("dev-002")
    page_truth = truth["pages"][16 - 1]
    assert page_truth["rotation"] == 90
    points = 72.0 / truth["dpi"]
    line_boxes = [tuple(value * points for value in line["bbox"]) for line in page_truth["lines"]]
    assert_words_inside_lines(word_boxes(archive_copy, DEV_002_PAGES.index(16) + 1), line_boxes)


def test_words_land_where_they_were_read_on_a_page_with_a_rotate_entry(dev_002_excerpt: Path, tmp_path: Path) -> None:
    """A page whose /Rotate shows it turned 90 degrees: OCR saw it sideways and turned it back (rotation 90)."""
    turned = tmp_path / "turned.pdf"
    with pikepdf.open(dev_002_excerpt) as pdf:
        pdf.pages[0].Rotate = 90
        pdf.save(turned)
    truth = ground_truth("dev-002")
    page_truth = truth["pages"][0]
    width, height = upright_size(page_truth)
    layer = TextLayerPage(1, width, height, 90, words_from_truth(page_truth))
    target = tmp_path / "archive.pdf"
    write_archive_pdf(turned, [layer], target, "turned")

    points = 72.0 / truth["dpi"]
    page_height = height * points
    # Shown turned clockwise: a point (x, y) of the upright page is at (page height - y, x).
    line_boxes = [
        (page_height - y1 * points, x0 * points, page_height - y0 * points, x1 * points)
        for x0, y0, x1, y1 in (line["bbox"] for line in page_truth["lines"])
    ]
    assert_words_inside_lines(word_boxes(target, 1), line_boxes)
    assert pdftotext(target, 1, "-raw").split() == page_truth["text"].split()


def test_finishing_a_dossier_stores_its_archive_copy_once(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        return dataclasses.replace(replayed_facts(truth, page), words=facts_words(truth["pages"][page - 1]))

    monkeypatch.setattr(pipeline, "read_page", read_page)
    monkeypatch.setattr(pipeline, "TEXT_LAYER_BATCH", 3)  # words fetched 3 pages at a time: 10 pages, 4 batches
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    with corpus_file("dev", "dev-003.pdf").open("rb") as stream:
        dossier, _created = submit(runtime, queue, stream, "dev-003.pdf", "148/QĐ-XPHC", "QNI-D1")
    with runtime.sessions() as session:
        stored = session.get(Dossier, dossier.id)
        assert stored.status == "processed" and stored.error is None
        archive_sha256 = stored.archive_pdf_sha256
    assert archive_sha256 is not None
    key = archive_pdf_key(archive_sha256)
    assert runtime.store.sha256(key) == archive_sha256
    with runtime.store.local_path(key) as copy:
        assert pdftotext(Path(copy), 2, "-raw").split() == truth["pages"][1]["text"].split()
        for number, page_truth in enumerate(truth["pages"], start=1):  # each page's words, once, on its page
            extracted = "".join(pdftotext(Path(copy), number, "-raw").split())
            assert extracted == "".join(page_truth["text"].split()), number

    with runtime.sessions() as session:  # as if the worker died after storing the copy, before committing
        stored = session.get(Dossier, dossier.id)
        stored.status, stored.archive_pdf_sha256 = "assembling", None
        session.commit()
    pipeline.finish_dossier(runtime, dossier.id)
    with runtime.sessions() as session:
        assert session.get(Dossier, dossier.id).archive_pdf_sha256 == archive_sha256
    derived = [path for path in (runtime.settings.storage_dir / "derived").rglob("*") if path.is_file()]
    assert [path.name for path in derived] == [f"{archive_sha256}.pdf"], "the same copy, not a second object"


def test_a_scanners_interpolate_hint_is_turned_off_and_the_image_data_kept(tmp_path: Path) -> None:
    """multipage.pdf (a real scan) sets /Interpolate on its images and soft masks, which PDF/A forbids."""
    original = corpus_file("real", "ocrmypdf", "multipage.pdf")
    target = tmp_path / "archive.pdf"
    write_archive_pdf(original, [], target, "multipage")
    with pikepdf.open(original) as before, pikepdf.open(target) as after:
        pairs = list(zip(images_and_masks(before), images_and_masks(after), strict=True))
        assert any(image.get("/Interpolate") for image, _copy in pairs), "the sample still sets /Interpolate"
        for image, copy in pairs:
            assert copy.read_raw_bytes() == image.read_raw_bytes()
            assert not copy.get("/Interpolate")
    pdfa = pytest.importorskip("pikepdf.pdfa", reason="pikepdf's PDF/A validator needs jsonschema and referencing")
    assert pdfa.validate_written(target, "2b").passed


def images_and_masks(pdf: pikepdf.Pdf) -> list[pikepdf.Stream]:
    found = []
    for page in pdf.pages:
        for image in page.get_images().values():
            found += [image] + ([image.SMask] if "/SMask" in image else [])
    return found


def test_an_info_dictionary_with_a_malformed_key_does_not_stop_the_copy(tmp_path: Path) -> None:
    target = tmp_path / "archive.pdf"
    write_archive_pdf(corpus_file("real", "ocrmypdf", "docinfo_latin1_key.pdf"), [], target, "latin1")
    with pikepdf.open(target) as pdf:
        metadata = pdf.open_metadata()
        assert metadata["pdfaid:part"] == "2" and metadata["dc:title"] == "latin1"
        assert str(pdf.docinfo["/Title"]) == "latin1", "the info dictionary was made again from the XMP"


def test_a_tiff_dossiers_copy_is_made_from_its_pages_pdf(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """An image original is not a PDF: its pages are read from intake's pages PDF, and so is the copy made."""
    words = (Word("Biên", 0.9, (100, 100, 400, 160)), Word("bản", 0.9, (440, 100, 700, 160)))
    # Read here, not in the page reader's child process, so a checkout without the corpus skips the test.
    facts = replayed_facts(ground_truth("dev-003"), 2)

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        return dataclasses.replace(facts, page=page, width_px=2480, height_px=3508, words=words)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    tiff = multipage_tiff([(2480, 3508), (2480, 3508)], dpi=300, compression="group4")
    dossier, _created = submit(runtime, queue, io.BytesIO(tiff), "scan.tif", "7/BB", "QNI-D1")
    with runtime.sessions() as session:
        archive_sha256 = session.get(Dossier, dossier.id).archive_pdf_sha256
    assert archive_sha256 is not None
    with runtime.store.local_path(archive_pdf_key(archive_sha256)) as copy:
        assert [pdftotext(Path(copy), page, "-raw").split() for page in (1, 2)] == [["Biên", "bản"]] * 2
        with pikepdf.open(copy) as pdf:
            assert len(pdf.pages) == 2 and pdf.open_metadata()["pdfaid:part"] == "2"


def test_lines_of_a_straightened_page_go_back_where_they_lie_on_the_tilted_scan(tmp_path: Path) -> None:
    """Content tilted 2 degrees counter-clockwise rises to the right: of two words read on one straightened
    row, the left one lies lower on the scan by sin(2°) times their distance. Each line stays horizontal."""
    blank = tmp_path / "blank.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595.2, 841.92))  # A4 at 300 dpi: 2480 x 3508 px
        pdf.save(blank)
    right, left = ["droite", 0.9, [2000, 1700, 2300, 1760]], ["gauche", 0.9, [200, 1700, 500, 1760]]
    target = tmp_path / "skewed.pdf"
    write_archive_pdf(blank, [TextLayerPage(1, 2480, 3508, 0, [right, left], skew=2.0)], target, "skew")

    boxes = dict(word_boxes(target, 1))
    drop_px = (boxes["gauche"][1] - boxes["droite"][1]) * 300 / 72
    assert abs(drop_px - math.sin(math.radians(2.0)) * 1800) < 3
    assert abs(boxes["gauche"][3] - boxes["gauche"][1] - 60 * 72 / 300) < 1.5, "the line keeps its height"
