"""The whole pipeline on a real dev dossier with recorded OCR replayed (no Tesseract): store, page jobs through
the real queue wiring, index, verify; and every stage safe to run twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive.models import Dossier, Page
from archive.runtime import Runtime
from ingest import pipeline
from ingest.queue import JobQueue
from ingest.submit import submit
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
    assert pipeline.unfinished(runtime) == [(dossier.id, list(range(4, 11)))]

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
