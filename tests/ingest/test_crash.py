"""Kill -9 a real `hoso worker` mid-dossier, start it again: the dossier completes with each page, index entry and
stored object exactly once, and the original still matches its SHA-256.

The worker runs as its own process group (the consumer, its worker processes and their page readers) and the
whole group is SIGKILLed, as a power cut or the OOM killer would end it. Most variants replay ground truth instead
of running Tesseract (tests/ingest/replay_worker.py); one runs real OCR on a three-page excerpt.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tantivy
from sqlalchemy import select

from archive.models import Dossier, Page
from archive.page_image_keys import THUMBNAIL, image_key
from archive.runtime import Runtime
from archive.storage import original_key
from ingest.archive_pdf import archive_pdf_key
from ingest.intake import pages_pdf_key, pages_pdf_pending
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import REPO_ROOT, corpus_file, pdf_excerpt
from tests.ingest.intake_files import multipage_tiff

DEADLINE_SECONDS = 120


class Worker:
    """A `hoso worker` process group started for a test, always killed at the end."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )

    def kill_9(self) -> None:
        """SIGKILL the consumer, its worker processes and their page readers at once."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
def workers(runtime: Runtime, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(replay: bool = True, **extra_env: str) -> Worker:
        env = {**os.environ, "HOSO_HOME": str(runtime.settings.home), "HOSO_WORKERS": "2", **extra_env}
        if replay:
            env.setdefault("REPLAY_TRUTH", str(corpus_file("dev", "dev-003.json")))
            env.setdefault("REPLAY_SECONDS", "0.5")
            command = [sys.executable, "-m", "tests.ingest.replay_worker"]
        else:
            command = [sys.executable, "-m", "archive.cli", "worker"]
        worker = Worker(command, env, tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill_9()


def ingest(runtime: Runtime, pdf: Path) -> Dossier:
    """Accept the file and queue its pages (the worker is not running yet)."""
    with pdf.open("rb") as stream:
        dossier, created = submit(runtime, JobQueue(runtime.settings), stream, pdf.name, "148/QĐ-XPHC", "QNI-D1")
    assert created
    return dossier


def progress(runtime: Runtime, dossier_id: str) -> tuple[str, int]:
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        return dossier.status, sum(page.status != "pending" for page in dossier.pages)


def wait_until(condition: Callable[[], bool], worker: Worker, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert worker.alive(), f"the worker died while waiting for {what}:\n{worker.log_path.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{worker.log_path.read_text()[-3000:]}"
        time.sleep(0.05)


def index_pages(runtime: Runtime) -> list[tuple[str, int]]:
    """(dossier id, page) of every live entry in the search index, read with Tantivy itself."""
    index = tantivy.Index.open(str(runtime.settings.index_dir))
    index.reload()
    searcher = index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=10_000).hits
    return sorted(
        (searcher.doc(address)["dossier_id"][0], searcher.doc(address)["page"][0]) for _score, address in hits
    )


def stored_objects(runtime: Runtime) -> list[str]:
    root = runtime.settings.storage_dir
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def assert_completed_exactly_once(
    runtime: Runtime,
    dossier_id: str,
    page_count: int,
    derived: Callable[[str], str] | None = None,
    thumbnails: bool = False,
) -> None:
    """``derived``: the key of the one other object the dossier should have, from its original's SHA-256;
    ``thumbnails``: pages were read by real OCR, which leaves one grid thumbnail per page (under its rotation)."""
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None and dossier.status == "processed"
        pages = session.scalars(select(Page).where(Page.dossier_id == dossier_id)).all()
        assert sorted(page.page_number for page in pages) == list(range(1, page_count + 1))
        assert {page.status for page in pages} == {"done"}
        with_text = sorted(page.page_number for page in pages if page.text.strip())
        original_sha256, archive_sha256 = dossier.original_sha256, dossier.archive_pdf_sha256
        thumbnail_keys = [image_key(original_sha256, THUMBNAIL, page.page_number, page.rotation) for page in pages]
    assert with_text, "the dossier has text to index"
    assert index_pages(runtime) == [(dossier_id, page) for page in with_text], "each page indexed exactly once"
    assert archive_sha256 is not None
    expected = [original_key(original_sha256), archive_pdf_key(archive_sha256)]
    expected += [derived(original_sha256)] if derived else []
    expected += thumbnail_keys if thumbnails else []
    assert stored_objects(runtime) == sorted(expected)
    assert runtime.store.sha256(original_key(original_sha256)) == original_sha256
    assert runtime.store.sha256(archive_pdf_key(archive_sha256)) == archive_sha256
    assert list(runtime.settings.temp_dir.iterdir()) == [], "no temp file left behind"


def test_kill_9_mid_dossier_then_restart_completes_it_once(
    runtime: Runtime, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    dossier = ingest(runtime, corpus_file("dev", "dev-003.pdf"))
    first = workers()
    wait_until(lambda: progress(runtime, dossier.id)[1] >= 3, first, "three pages")
    first.kill_9()
    status, done = progress(runtime, dossier.id)
    assert status == "processing" and 3 <= done < dossier.page_count, "killed mid-dossier"

    second = workers()
    wait_until(lambda: progress(runtime, dossier.id)[0] == "processed", second, "the dossier")
    assert_completed_exactly_once(runtime, dossier.id, dossier.page_count)
    with runtime.sessions() as session:
        attempts = [page.attempts for page in session.get(Dossier, dossier.id).pages]
    assert all(1 <= count <= 2 for count in attempts), "only pages cut off by the kill were started again"


def test_kill_9_while_finishing_then_restart_completes_it_once(
    runtime: Runtime, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    dossier = ingest(runtime, corpus_file("dev", "dev-003.pdf"))
    marker = tmp_path / "indexed.marker"
    first = workers(REPLAY_HANG_MARKER=str(marker))
    wait_until(marker.exists, first, "the dossier to be indexed")
    first.kill_9()
    with runtime.sessions() as session:
        killed = session.get(Dossier, dossier.id)
        assert killed.status == "assembling" and killed.archive_pdf_sha256 is None
    assert len(index_pages(runtime)) > 0, "the index was written before the kill"
    assert len(stored_objects(runtime)) == 2, "the archive copy was stored before the kill"

    second = workers()
    wait_until(lambda: progress(runtime, dossier.id)[0] == "processed", second, "the dossier")
    assert_completed_exactly_once(runtime, dossier.id, dossier.page_count)


def test_kill_9_while_converting_a_tiff_then_restart_completes_it_once(
    runtime: Runtime, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    """The upload is acknowledged before the TIFF's pages PDF exists; a kill during its conversion job leaves
    a half-written temp file and no object, and the next worker converts it again, then reads the pages."""
    tiff = tmp_path / "scan.tif"
    tiff.write_bytes(multipage_tiff([(620, 877)] * 10, dpi=75))  # two batches of frames (8 + 2)
    dossier = ingest(runtime, tiff)
    assert stored_objects(runtime) == [original_key(dossier.original_sha256)], "the request did not convert"
    marker = tmp_path / "converting.marker"
    first = workers(REPLAY_HANG_CONVERTING=str(marker))
    wait_until(marker.exists, first, "the first batch of frames")
    first.kill_9()
    assert progress(runtime, dossier.id) == ("processing", 0)
    assert pages_pdf_pending(runtime.store, dossier.original_sha256)
    assert stored_objects(runtime) == [original_key(dossier.original_sha256)]
    assert list(runtime.settings.temp_dir.iterdir()), "killed with the conversion half-written"

    second = workers()
    wait_until(lambda: progress(runtime, dossier.id)[0] == "processed", second, "the dossier")
    assert_completed_exactly_once(runtime, dossier.id, dossier.page_count, derived=pages_pdf_key)
    with runtime.sessions() as session:
        assert [page.attempts for page in session.get(Dossier, dossier.id).pages] == [1] * 10, "each page read once"


def test_a_consumer_killed_alone_takes_its_worker_processes_along(
    runtime: Runtime, workers: Callable[..., Worker]
) -> None:
    """Its worker processes would otherwise go on taking jobs beside the next worker's."""
    dossier = ingest(runtime, corpus_file("dev", "dev-003.pdf"))
    worker = workers(REPLAY_SECONDS="2")
    wait_until(lambda: progress(runtime, dossier.id)[1] >= 1, worker, "the first page")
    os.kill(worker.process.pid, signal.SIGKILL)  # the consumer only, not its process group
    worker.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(worker.process.pid, 0)  # anyone left in the worker's process group?
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "worker processes outlived their consumer"
        time.sleep(0.1)


def test_ingest_wait_shows_progress_on_stderr_and_clean_json_on_stdout(
    runtime: Runtime, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    worker = workers(REPLAY_SECONDS="0.1")
    wait_until(JobQueue(runtime.settings).worker_alive, worker, "the worker's heartbeat")
    pdf = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 2, 3, 4], tmp_path / "four.pdf")
    result = subprocess.run(
        [sys.executable, "-m", "archive.cli", "ingest", str(pdf), "--case", "1/QĐ", "--unit", "QNI-D1", "--wait"],
        cwd=REPO_ROOT,
        env={**os.environ, "HOSO_HOME": str(runtime.settings.home)},
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    assert "4/4" in result.stderr, "the progress bar reached all pages"
    as_json = subprocess.run(
        [sys.executable, "-m", "archive.cli", "ingest", str(pdf), "--case", "1/QĐ", "--unit", "QNI-D1", "--wait"]
        + ["--json"],
        cwd=REPO_ROOT,
        env={**os.environ, "HOSO_HOME": str(runtime.settings.home)},
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    data = json.loads(as_json.stdout)
    assert data["status"] == "processed" and data["page_count"] == 4 and data["created"] is False
    assert data["pages_failed"] == 0 and len(data["archive_pdf_sha256"]) == 64


@pytest.mark.ocr
def test_kill_9_with_real_ocr_then_restart_completes_it_once(
    runtime: Runtime, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    pdf = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 2, 3], tmp_path / "three.pdf")
    dossier = ingest(runtime, pdf)
    first = workers(replay=False, HOSO_WORKERS="1")
    wait_until(lambda: progress(runtime, dossier.id)[1] >= 1, first, "the first page")
    first.kill_9()
    assert progress(runtime, dossier.id)[1] < dossier.page_count, "killed mid-dossier"

    second = workers(replay=False, HOSO_WORKERS="1")
    wait_until(lambda: progress(runtime, dossier.id)[0] == "processed", second, "the dossier")
    assert_completed_exactly_once(runtime, dossier.id, dossier.page_count, thumbnails=True)
    with runtime.sessions() as session:
        archive_sha256 = session.get(Dossier, dossier.id).archive_pdf_sha256
        texts = [page.text for page in session.get(Dossier, dossier.id).pages]
    with runtime.store.local_path(archive_pdf_key(archive_sha256)) as copy:
        for number, text in enumerate(texts, start=1):
            extracted = subprocess.run(
                ["pdftotext", "-raw", "-f", str(number), "-l", str(number), str(copy), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            assert extracted.split() == text.split(), number
