"""The job queue: Huey on a SQLite file by default, or on Redis (HOSO_REDIS_URL) shared by `hoso worker` on many
machines; one job per page, then one job to finish the dossier (and before the pages, for a TIFF, one job to
make its pages PDF).

The database, not the queue, is the source of truth (docs/workers.md). A job takes its page's or dossier's lease
before working (``ingest.leases``), so a job queued twice is done once, and every worker runs a recovery pass
every RECOVER_SECONDS that queues again the work whose lease ran out (its worker died holding it) and, when the
queue has run dry, any unfinished work nobody holds (a job lost with a worker that had popped it). A starting
worker on the embedded queue, its only consumer, empties it and queues again whatever the database says is
unfinished; on the shared Redis queue it flushes nothing (the other workers' jobs are there) and recovers.
Each page is read in a child of its worker process with a time limit (``ingest/page_job.py``).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Task
from redis.exceptions import ConnectionError as RedisConnectionError

from archive.config import Settings
from archive.runtime import Runtime, current_runtime
from ingest import conversion, fork_guard, leases, machines, page_job, pipeline

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
RECOVER_SECONDS = 15.0
QUEUE_NAME = "hoso"


class JobQueue:
    """What the rest of hoso asks of the queue: queue a dossier's pages, resume after a crash, run workers."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.shared = bool(settings.redis_url)
        self.huey = _make_huey(settings)

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

        # No Huey retries for the dossier jobs: one that fails leaves its lease to run out, and the recovery
        # pass queues it again then (leases.RETRY_SECONDS), however many times it takes.
        @self.huey.task()
        def finish_dossier(dossier_id: str) -> None:
            runtime = current_runtime()
            with leases.dossier_job(runtime, dossier_id, ("assembling",)) as held:
                if held:
                    pipeline.finish_dossier(runtime, dossier_id)

        @self.huey.task()
        def convert_pages(dossier_id: str) -> None:
            runtime = current_runtime()
            with leases.dossier_job(runtime, dossier_id, ("processing",)) as held:
                if not held:
                    return
                conversion.convert_pages(runtime, dossier_id)
            # after the lease is given back: the finish job queued when no page is left must be able to take it
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

    def _queue_pages_or_finish(self, dossier_id: str, pending: list[int], runtime: Runtime | None = None) -> None:
        if pending:
            self.enqueue_pages(dossier_id, pending)
        else:  # every page failed already (an unconvertible TIFF), or the kill came after the last page
            pipeline.claim_assembly(runtime or current_runtime(), dossier_id)
            self._finish_dossier(dossier_id)

    def _queue_unfinished(self, dossier: pipeline.Unfinished, runtime: Runtime) -> None:
        if dossier.needs_conversion:
            self.enqueue_conversion(dossier.dossier_id)
        else:
            self._queue_pages_or_finish(dossier.dossier_id, dossier.pending_pages, runtime)

    def requeue_unfinished(self) -> int:
        """Rebuild the embedded queue from the database; returns how many dossiers were queued again. Only for
        the queue's one consumer, starting: it empties the queue and drops every lease (their holders are gone)."""
        if self.shared:
            raise RuntimeError("the shared Redis queue is never rebuilt: other workers' jobs are in it")
        self.huey.flush()
        runtime = current_runtime()
        leases.clear_unfinished(runtime)
        todo = pipeline.unfinished(runtime)
        for dossier in todo:
            self._queue_unfinished(dossier, runtime)
        return len(todo)

    def recover(self, runtime: Runtime | None = None) -> int:
        """Queue again the work whose worker is gone: pages and dossier jobs whose lease ran out, and, when the
        queue has run dry, all unfinished work that nobody holds (jobs lost between a worker popping them and
        taking their lease, or lost with Redis's memory). Safe on any number of workers at once: each lapsed
        lease is taken back by one of them, and a job queued twice is done once. Returns the jobs queued."""
        runtime = runtime or current_runtime()
        at = leases.now()
        drained = self._drained()
        lapsed_pages = leases.take_lapsed_pages(runtime, at)
        lapsed_dossiers = set(leases.take_lapsed_dossiers(runtime, at))
        queued = 0
        if not drained:
            for dossier_id, page_number in lapsed_pages:
                self._process_page(dossier_id, page_number)
            queued += len(lapsed_pages)
        if drained or lapsed_dossiers:
            for dossier in pipeline.unfinished(runtime, unleased_at=at):
                if drained or dossier.dossier_id in lapsed_dossiers:
                    self._queue_unfinished(dossier, runtime)
                    queued += len(dossier.pending_pages) or 1
        if lapsed_pages or lapsed_dossiers:
            log.warning(
                "recovered the jobs of dead workers: %d pages, %d dossiers", len(lapsed_pages), len(lapsed_dossiers)
            )
        return queued

    def _drained(self) -> bool:
        return len(self.huey) == 0 and self.huey.scheduled_count() == 0

    def run_worker(self) -> None:
        """Run the consumer in this process until SIGTERM/SIGINT, one process per configured worker."""
        os.environ["OMP_THREAD_LIMIT"] = "1"  # one Tesseract thread per page job; pages run in parallel instead
        try:
            resumed = self.resume()
        except machines.SharedQueueConflict as conflict:
            log.error("worker not started: %s", conflict)
            raise SystemExit(f"hoso worker: {conflict}") from None
        except RedisConnectionError as error:
            url = machines.safe_url(self.settings.redis_url)
            raise SystemExit(
                f"hoso worker: the Redis queue at {url} (HOSO_REDIS_URL) cannot be reached: {error}"
            ) from None
        self._log_start(resumed)
        # The consumer's threads use a queue client and database connections of their own, never those its worker
        # processes use, and hold off Huey's forks of worker processes while they work (``ingest.fork_guard``).
        background = JobQueue(self.settings), Runtime(self.settings)
        self._background = background  # kept alive (and never collected) in the forked worker processes too
        _every(HEARTBEAT_SECONDS, "heartbeat", background[0].beat)
        _every(RECOVER_SECONDS, "recovery", lambda: background[0].recover(background[1]))
        # The consumer's worker processes die with it: a consumer killed alone leaves no orphan taking jobs.
        os.register_at_fork(after_in_child=page_job.die_with_parent)
        # What the consumer has loaded so far is left to the worker processes it forks, shared: without this, the
        # garbage collector's first pass in each writes to (and so copies) every page holding a Python object.
        gc.freeze()
        consumer = self.huey.create_consumer(workers=self.settings.workers, worker_type="process", periodic=False)
        consumer.run()

    def resume(self) -> int:
        """What a starting worker does before it takes jobs; returns what it queued again."""
        if not self.shared:
            return self.requeue_unfinished()
        redis = self.huey.storage.conn
        machines.check(redis, QUEUE_NAME, self.settings)
        machines.announce(redis, QUEUE_NAME, self.settings)
        return self.recover()

    def _log_start(self, resumed: int) -> None:
        workers = self.settings.workers
        if not self.shared:
            log.info("worker: %d processes, %d unfinished dossiers queued again", workers, resumed)
            return
        url = machines.safe_url(self.settings.redis_url)
        log.info(
            "worker on the shared queue %s, machine %s: %d processes, %d jobs recovered", url, _host(), workers, resumed
        )
        local = machines.machine_local_engines(self.settings)
        if local:
            log.warning(
                "this worker uses engines only machine %s can reach: %s. Workers on other machines cannot join this "
                "queue (they are refused at start); for several machines set HOSO_DATABASE_URL (PostgreSQL), "
                "HOSO_STORAGE_URL (S3) and HOSO_SEARCH_URL (Elasticsearch), see docs/workers.md",
                _host(),
                "; ".join(local),
            )

    def beat(self) -> None:
        """Touch a file so `hoso ingest --wait` can tell a worker runs here; on Redis, say which machine it is on."""
        self.heartbeat_path.touch()
        if self.shared:
            machines.announce(self.huey.storage.conn, QUEUE_NAME, self.settings)

    @property
    def heartbeat_path(self) -> Path:
        return self.settings.home / "worker.heartbeat"

    def worker_alive(self) -> bool:
        try:
            return time.time() - self.heartbeat_path.stat().st_mtime < 3 * HEARTBEAT_SECONDS
        except FileNotFoundError:
            return False


def _make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey(name=QUEUE_NAME, url=settings.redis_url)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name=QUEUE_NAME, filename=str(settings.queue_path), timeout=30)


def _host() -> str:
    return machines.machine_name()


def _every(seconds: float, name: str, action: Callable[[], object]) -> None:
    """Run ``action`` every ``seconds`` in a daemon thread of this process; a failure is logged and retried."""

    def loop() -> None:
        while True:
            try:
                with fork_guard.background_work():
                    action()
            except Exception:  # noqa: BLE001 - Redis or the database away for a moment: the next round tries again
                log.warning("the worker's %s failed", name, exc_info=True)
            time.sleep(seconds)

    threading.Thread(target=loop, name=name, daemon=True).start()
