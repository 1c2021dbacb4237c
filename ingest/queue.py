"""The job queue: Huey on a SQLite file by default, one job per page, then one job to finish the dossier
(and before the pages, for a TIFF, one job to make its pages PDF).

The database, not the queue, is the source of truth: a starting worker empties the embedded queue and queues
again whatever the database says is unfinished, so jobs lost or doubled by a crash cannot lose or double work.
Each page is read in a child of its worker process with a time limit (``ingest/page_job.py``).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from pathlib import Path

from huey import SqliteHuey
from huey.api import Task

from archive.config import Settings
from archive.runtime import current_runtime
from ingest import conversion, page_job, pipeline

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


class JobQueue:
    """What the rest of hoso asks of the queue: queue a dossier's pages, resume after a crash, run workers."""

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
        self.huey = SqliteHuey(name="hoso", filename=str(settings.queue_path), timeout=30)

        @self.huey.task()
        def process_page(dossier_id: str, page_number: int) -> None:
            runtime = current_runtime()
            pipeline.process_page(runtime, dossier_id, page_number)
            if pipeline.claim_assembly(runtime, dossier_id):
                finish_dossier(dossier_id)

        @self.huey.pre_execute()
        def stop_idle_reader(task: Task) -> None:
            if not isinstance(task, process_page.task_class):  # it reads no page: its reader would sit idle
                page_job.stop_reader()

        @self.huey.task(retries=3, retry_delay=5)
        def finish_dossier(dossier_id: str) -> None:
            pipeline.finish_dossier(current_runtime(), dossier_id)

        @self.huey.task(retries=3, retry_delay=5)
        def convert_pages(dossier_id: str) -> None:
            runtime = current_runtime()
            conversion.convert_pages(runtime, dossier_id)
            self._queue_pages_or_finish(dossier_id, pipeline.pending_pages(runtime, dossier_id))

        self._process_page = process_page
        self._finish_dossier = finish_dossier
        self._convert_pages = convert_pages

    def enqueue_pages(self, dossier_id: str, page_numbers: list[int]) -> None:
        for page_number in page_numbers:
            self._process_page(dossier_id, page_number)

    def enqueue_conversion(self, dossier_id: str) -> None:
        """Queue the making of a TIFF dossier's pages PDF; its pages are queued when that is done."""
        self._convert_pages(dossier_id)

    def _queue_pages_or_finish(self, dossier_id: str, pending: list[int]) -> None:
        if pending:
            self.enqueue_pages(dossier_id, pending)
        else:  # every page failed already (an unconvertible TIFF), or the kill came after the last page
            pipeline.claim_assembly(current_runtime(), dossier_id)
            self._finish_dossier(dossier_id)

    def requeue_unfinished(self) -> int:
        """Rebuild the queue from the database; returns how many dossiers were queued again."""
        self.huey.flush()
        runtime = current_runtime()
        todo = pipeline.unfinished(runtime)
        for dossier in todo:
            if dossier.needs_conversion:
                self.enqueue_conversion(dossier.dossier_id)
            else:
                self._queue_pages_or_finish(dossier.dossier_id, dossier.pending_pages)
        return len(todo)

    def run_worker(self) -> None:
        """Run the consumer in this process until SIGTERM/SIGINT, one process per configured worker."""
        os.environ["OMP_THREAD_LIMIT"] = "1"  # one Tesseract thread per page job; pages run in parallel instead
        resumed = self.requeue_unfinished()
        log.info("worker: %d processes, %d unfinished dossiers queued again", self.settings.workers, resumed)
        _start_heartbeat(self.heartbeat_path)
        # The consumer's worker processes die with it: a consumer killed alone leaves no orphan taking jobs.
        os.register_at_fork(after_in_child=page_job.die_with_parent)
        # What the consumer has loaded so far is left to the worker processes it forks, shared: without this, the
        # garbage collector's first pass in each writes to (and so copies) every page holding a Python object.
        gc.freeze()
        consumer = self.huey.create_consumer(workers=self.settings.workers, worker_type="process", periodic=False)
        consumer.run()

    @property
    def heartbeat_path(self) -> Path:
        return self.settings.home / "worker.heartbeat"

    def worker_alive(self) -> bool:
        try:
            return time.time() - self.heartbeat_path.stat().st_mtime < 3 * HEARTBEAT_SECONDS
        except FileNotFoundError:
            return False


def _start_heartbeat(path: Path) -> None:
    """Touch a file every few seconds so `hoso ingest --wait` can tell whether a worker is running."""

    def beat() -> None:
        while True:
            path.touch()
            time.sleep(HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
