"""One bad page never stops its dossier: a page whose reading raises, crashes its reader process, runs past
HOSO_OCR_PAGE_TIMEOUT or keeps killing its worker is marked with an error code, the other pages are read, the
dossier finishes, and the verification report names the failed pages. Faults are injected through the page
reading function (recorded facts replayed for the good pages, no Tesseract)."""

from __future__ import annotations

import dataclasses
import faulthandler
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from archive import verify
from archive.models import Dossier, Page
from archive.runtime import Runtime
from ingest import page_job, pipeline
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import corpus_file, ground_truth, pdf_excerpt, replayed_facts

PAGES = 4


@pytest.fixture
def four_pages(tmp_path: Path) -> Path:
    """The first four pages of dev-003 (cover and three numbered sheets)."""
    return pdf_excerpt(corpus_file("dev", "dev-003.pdf"), list(range(1, PAGES + 1)), tmp_path / "four.pdf")


def ingest(runtime: Runtime, pdf: Path, queue: JobQueue) -> str:
    with pdf.open("rb") as stream:
        dossier, created = submit(runtime, queue, stream, pdf.name, "148/QĐ-XPHC", "QNI-D1")
    assert created
    return dossier.id


def immediate_queue(runtime: Runtime) -> JobQueue:
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    return queue


def finished(runtime: Runtime, dossier_id: str) -> tuple[Dossier, dict[int, Page]]:
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        pages = {page.page_number: page for page in dossier.pages}
        session.expunge_all()
    return dossier, pages


def replay_except(monkeypatch: pytest.MonkeyPatch, bad_page: int, fault) -> None:
    """Replay dev-003's truth for every page but ``bad_page``, where ``fault`` runs instead."""
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        if page == bad_page:
            fault()
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)


def assert_only_failed(pages: dict[int, Page], bad_page: int, error_code: str) -> None:
    assert sorted(pages) == list(range(1, PAGES + 1))
    assert {number: page.status for number, page in pages.items()} == {
        number: "failed" if number == bad_page else "done" for number in pages
    }
    assert pages[bad_page].error_code == error_code
    assert all(page.error_code is None for number, page in pages.items() if number != bad_page)


def failure_finding(report: dict, error_code: str) -> dict:
    findings = [finding for finding in report["findings"] if finding["code"] == error_code]
    assert len(findings) == 1, report["findings"]
    return findings[0]


def test_an_unreadable_page_is_marked_and_the_rest_goes_on(
    runtime: Runtime, four_pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable() -> None:
        raise ValueError("broken JBIG2 stream")

    replay_except(monkeypatch, 3, unreadable)
    dossier, pages = finished(runtime, ingest(runtime, four_pages, immediate_queue(runtime)))

    assert dossier.status == "processed"
    assert_only_failed(pages, 3, "page_unreadable")
    assert "broken JBIG2 stream" in (pages[3].error or "")
    finding = failure_finding(dossier.verify_report, "page_unreadable")
    assert finding["pages"] == [3] and finding["severity"] == "error"
    assert "trang 3" in finding["message_vi"].lower()
    assert not dossier.verify_report["passed"]


def test_a_page_that_crashes_its_reader_is_unreadable_and_the_next_page_gets_a_new_reader(
    runtime: Runtime, four_pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash() -> None:
        faulthandler.disable()  # pytest's traceback dump would only clutter the output
        os.kill(os.getpid(), signal.SIGSEGV)  # as a segfault in libtesseract or poppler would

    replay_except(monkeypatch, 2, crash)
    dossier, pages = finished(runtime, ingest(runtime, four_pages, immediate_queue(runtime)))

    assert dossier.status == "processed"
    assert_only_failed(pages, 2, "page_unreadable")
    assert "SIGSEGV" in (pages[2].error or "")
    assert failure_finding(dossier.verify_report, "page_unreadable")["pages"] == [2]


def test_a_page_past_the_time_limit_is_stopped_and_the_dossier_finishes(
    runtime: Runtime, four_pages: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, ocr_page_timeout=1.0))
    pid_file = tmp_path / "hung-reader.pid"

    def hang() -> None:
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)

    replay_except(monkeypatch, 2, hang)
    started = time.monotonic()
    dossier, pages = finished(runtime, ingest(runtime, four_pages, immediate_queue(runtime)))

    assert time.monotonic() - started < 60, "the hung page was not waited out"
    assert dossier.status == "processed"
    assert_only_failed(pages, 2, "page_timeout")
    assert failure_finding(dossier.verify_report, "page_timeout")["pages"] == [2]
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # the hung reader was killed, not left running


def test_a_page_that_keeps_killing_its_worker_is_given_up_on(
    runtime: Runtime, four_pages: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    read_log = tmp_path / "read.txt"
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        with read_log.open("a") as log:
            log.write(f"{page}\n")
        return replayed_facts(truth, page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    dossier_id = ingest(runtime, four_pages, JobQueue(runtime.settings))  # queued, not run
    with runtime.sessions() as session:  # as if three workers had died under page 4
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier_id, Page.page_number == 4)
            .values(attempts=pipeline.MAX_PAGE_ATTEMPTS)
        )
        session.commit()

    assert immediate_queue(runtime).requeue_unfinished() == 1
    dossier, pages = finished(runtime, dossier_id)

    assert dossier.status == "processed"
    assert_only_failed(pages, 4, "page_unreadable")
    assert pages[4].attempts == pipeline.MAX_PAGE_ATTEMPTS + 1
    assert all(pages[number].attempts == 1 for number in (1, 2, 3))
    assert sorted(int(line) for line in read_log.read_text().split()) == [1, 2, 3], "page 4 was not read again"


def test_the_reader_survives_from_page_to_page_and_is_replaced_after_a_timeout(tmp_path: Path) -> None:
    """One child serves many pages (the OCR engines it loaded stay loaded); a stopped one is replaced."""
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        if page == 2:
            time.sleep(30)
        return dataclasses.replace(replayed_facts(truth, page), details={"reader_pid": os.getpid()})

    reader = page_job.PageReader(read_page)
    try:
        first = reader.read_page(tmp_path, 1, 300, timeout=10)
        third = reader.read_page(tmp_path, 3, 300, timeout=10)
        hung = reader.read_page(tmp_path, 2, 300, timeout=0.5)
        fourth = reader.read_page(tmp_path, 4, 300, timeout=10)
    finally:
        reader.stop()
    assert first.facts is not None and third.facts is not None and fourth.facts is not None
    assert first.facts.details["reader_pid"] == third.facts.details["reader_pid"] != os.getpid()
    assert hung.error_code == "page_timeout" and hung.facts is None
    assert fourth.facts.details["reader_pid"] != first.facts.details["reader_pid"]


def test_failed_pages_are_reported_first_by_code_with_a_vietnamese_message() -> None:
    def fact(page: int, error_code: str | None = None) -> verify.PageFact:
        sheet = None if error_code else str(page)
        return verify.PageFact(page, sheet, 0.9 if sheet else None, 0, "document", None, error_code=error_code)

    findings = verify.verify(
        [fact(1), fact(2, "page_timeout"), fact(3, "page_unreadable"), fact(4, "page_unreadable")], None
    )
    assert [(finding.code, finding.pages) for finding in findings[:2]] == [
        ("page_unreadable", [3, 4]),
        ("page_timeout", [2]),
    ]
    assert all(finding.severity == "error" for finding in findings[:2])
    assert findings[0].message_vi.startswith("Không đọc được trang 3, 4")
    assert "quá thời gian" in findings[1].message_vi
