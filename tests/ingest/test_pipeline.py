"""The whole pipeline on a real dev dossier with recorded OCR replayed (no Tesseract): store, page jobs through
the real queue wiring, index, verify; and every stage safe to run twice."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select

from archive.models import Dossier, Page
from archive.page_image_keys import THUMBNAIL, image_key
from archive.runtime import Runtime
from ingest import page_job, pipeline
from ingest.queue import JobQueue
from ingest.submit import submit
from ocr.thumbnail import thumbnail_png
from tests.conftest import corpus_file, ground_truth, replayed_facts


class PagesRead:
    """The page numbers the replayed reader was asked for, kept in a file: pages are read in a child process."""

    def __init__(self, path: Path):
        self.path = path

    def record(self, page: int) -> None:
        with self.path.open("a") as log:
            log.write(f"{page}\n")

    def __iter__(self):
        return iter(int(line) for line in self.path.read_text().split()) if self.path.exists() else iter(())


@pytest.fixture
def replay_dev_003(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PagesRead:
    """Replace Tesseract with dev-003's ground truth; yields the page numbers that were read."""
    truth = ground_truth("dev-003")
    calls = PagesRead(tmp_path / "pages-read.txt")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        assert pdf_path.is_file()
        calls.record(page)
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    return calls


def ingest_dev_003(runtime: Runtime, queue: JobQueue) -> Dossier:
    with corpus_file("dev", "dev-003.pdf").open("rb") as stream:
        dossier, created = submit(runtime, queue, stream, "dev-003.pdf", "148/QĐ-XPHC", "QNI-D1")
    assert created
    return dossier


def test_dossier_runs_through_the_queue_to_a_verified_searchable_dossier(
    runtime: Runtime, replay_dev_003: PagesRead
) -> None:
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True  # run each job as it is queued, through the real task wiring
    dossier = ingest_dev_003(runtime, queue)

    assert sorted(replay_dev_003) == list(range(1, 11))
    with runtime.sessions() as session:
        stored = session.get(Dossier, dossier.id)
        assert stored.status == "processed" and stored.processed_at is not None
        assert [page.sheet_number for page in stored.pages] == [None, "1", "2", "3", "4", "6", "5", "7", "8", None]
        report = stored.verify_report
    assert report["dossier_id"] == dossier.id and report["status"] == "processed" and report["page_count"] == 10
    assert report["cover"]["present"] and report["cover"]["page"] == 1
    out_of_order = [f for f in report["findings"] if f["code"] == "out_of_order"]
    assert len(out_of_order) == 1 and out_of_order[0]["pages"] == [7]
    assert not report["passed"]

    result = runtime.index.search("bien ban", scope="VN/QNI")
    assert result.total >= 3
    assert {hit.dossier_id for hit in result.hits} == {dossier.id}
    assert runtime.index.search("bien ban", scope="VN/LCI").total == 0


def test_each_page_read_leaves_its_grid_thumbnail_under_its_rotation(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = ground_truth("dev-003")
    drawn = {page: thumbnail_png(Image.new("L", (320, 452), 40 * page)) for page in range(1, 11)}

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        facts = replayed_facts(truth, page)
        return dataclasses.replace(facts, rotation=180 if page == 4 else facts.rotation, thumbnail_png=drawn[page])

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    dossier = ingest_dev_003(runtime, queue)

    for page in range(1, 11):
        key = image_key(dossier.original_sha256, THUMBNAIL, page, 180 if page == 4 else 0)
        with runtime.store.open(key) as stored:
            assert stored.read() == drawn[page]
    assert not runtime.store.exists(image_key(dossier.original_sha256, THUMBNAIL, 4, 0))


def test_every_stage_is_idempotent(runtime: Runtime, replay_dev_003: PagesRead) -> None:
    dossier = ingest_dev_003(runtime, JobQueue(runtime.settings))
    for page_number in range(1, 11):
        pipeline.process_page(runtime, dossier.id, page_number)
        pipeline.process_page(runtime, dossier.id, page_number)
    assert sorted(replay_dev_003) == list(range(1, 11)), "a finished page is never read again"
    assert pipeline.claim_assembly(runtime, dossier.id)
    assert not pipeline.claim_assembly(runtime, dossier.id), "only one caller moves the dossier on"
    pipeline.finish_dossier(runtime, dossier.id)
    first_total = runtime.index.search("bien ban", scope=None).total
    with runtime.sessions() as session:
        session.get(Dossier, dossier.id).status = "assembling"  # as if the worker died before marking it
        session.commit()
    pipeline.finish_dossier(runtime, dossier.id)
    assert runtime.index.search("bien ban", scope=None).total == first_total, "re-indexing adds no duplicate entries"


def test_unfinished_work_is_found_again_after_a_crash(runtime: Runtime, replay_dev_003: PagesRead) -> None:
    dossier = ingest_dev_003(runtime, JobQueue(runtime.settings))
    for page_number in (1, 2, 3):
        pipeline.process_page(runtime, dossier.id, page_number)
    assert pipeline.unfinished(runtime) == [pipeline.Unfinished(dossier.id, list(range(4, 11)), needs_conversion=False)]

    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    assert queue.requeue_unfinished() == 1
    assert sorted(replay_dev_003) == list(range(1, 11))
    with runtime.sessions() as session:
        assert session.get(Dossier, dossier.id).status == "processed"
        assert len(session.scalars(select(Page).where(Page.dossier_id == dossier.id)).all()) == 10
    assert pipeline.unfinished(runtime) == []


def test_a_page_that_fails_is_marked_and_the_dossier_still_finishes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        if page == 4:
            raise RuntimeError("tesseract crashed")
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    dossier = ingest_dev_003(runtime, queue)
    with runtime.sessions() as session:
        stored = session.get(Dossier, dossier.id)
        assert stored.status == "processed"
        failed = [page for page in stored.pages if page.status == "failed"]
        assert [page.page_number for page in failed] == [4]
        assert "tesseract crashed" in failed[0].error


def test_one_reader_child_reads_every_page_and_is_stopped_before_finishing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The reader keeps its OCR engine from page to page (starting one costs 0.7 s); a job that reads no page
    stops it first, so the engine does not sit in memory while the dossier is finished."""
    truth = ground_truth("dev-003")
    readers = tmp_path / "reader-pids.txt"

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        with readers.open("a") as log:
            log.write(f"{os.getpid()}\n")
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    dossier = ingest_dev_003(runtime, queue)
    pids = readers.read_text().split()
    assert len(pids) == 10 and len(set(pids)) == 1 and int(pids[0]) != os.getpid(), "one child read all pages"
    assert os.getpid() not in page_job._readers, "stopped before the dossier was finished"
    with runtime.sessions() as session:
        assert session.get(Dossier, dossier.id).status == "processed"


def test_the_scan_time_a_pdf_records_is_kept_in_utc_and_starts_the_digitisation_clock(
    runtime: Runtime, tmp_path: Path
) -> None:
    queue = JobQueue(runtime.settings)  # stores the page job without running it
    scan = tmp_path / "scan.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.docinfo["/CreationDate"] = "D:20240310090000+07'00'"  # 9:00 in Viet Nam is 2:00 UTC
        pdf.save(scan)
    with scan.open("rb") as stream:
        dossier, created = submit(runtime, queue, stream, "scan.pdf", "7/QĐ-KT", "LCI-D1")
    assert created
    with runtime.sessions() as session:
        stored = session.get(Dossier, dossier.id)
        assert stored is not None and stored.scanned_at is not None
        context = pipeline.verify_inputs.dossier_context(
            [], uploaded_at=stored.created_at, scanned_at=stored.scanned_at
        )
    assert context.scanned_at is not None
    assert context.scanned_at.isoformat() == "2024-03-10T02:00:00+00:00"
