"""Workers sharing a Redis queue (HOSO_REDIS_URL): two real `hoso worker` processes on one dossier, one killed
with kill -9 mid-way, the other finishing it with each page, index entry and object exactly once; a starting
worker leaves the queued jobs alone; jobs lost from the queue or failed are queued again from the database.

The worker processes replay ground truth instead of running Tesseract (tests/ingest/replay_worker.py), with
leases shortened to seconds. Redis is the server on 127.0.0.1:6379; these tests use its database 14 only,
emptied before and after each test, and are skipped when it is not reachable.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from archive.models import Dossier, Page
from archive.runtime import Runtime
from ingest import leases, machines, pipeline
from ingest.queue import QUEUE_NAME, JobQueue
from ingest.submit import submit
from tests.conftest import REPO_ROOT, corpus_file, ground_truth, replayed_facts
from tests.ingest.test_crash import Worker, assert_completed_exactly_once, progress, wait_until

REDIS_URL = "redis://127.0.0.1:6379/14"
LEASE_SECONDS = 4


@pytest.fixture
def shared(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobQueue]:
    """The queue on Redis database 14, emptied; HOSO_REDIS_URL is set for the workers the test starts."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    client.flushdb()
    monkeypatch.setenv("HOSO_REDIS_URL", REDIS_URL)
    yield JobQueue(dataclasses.replace(runtime.settings, redis_url=REDIS_URL))
    client.flushdb()
    client.close()


@pytest.fixture
def start_worker(runtime: Runtime, tmp_path: Path) -> Iterator[Callable[[float], Worker]]:
    """Start a replaying `hoso worker` on the shared queue, one page process each, reading a page in the seconds
    given; all are killed at the end."""
    started: list[Worker] = []

    def start(seconds_per_page: float) -> Worker:
        env = {
            **os.environ,
            "HOSO_HOME": str(runtime.settings.home),
            "HOSO_REDIS_URL": REDIS_URL,
            "HOSO_WORKERS": "1",
            "REPLAY_TRUTH": str(corpus_file("dev", "dev-003.json")),
            "REPLAY_SECONDS": str(seconds_per_page),
            "REPLAY_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        worker = Worker(
            [sys.executable, "-m", "tests.ingest.replay_worker"], env, tmp_path / f"worker{len(started)}.log"
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill_9()


def ingest_dev_003(runtime: Runtime, queue: JobQueue) -> Dossier:
    pdf = corpus_file("dev", "dev-003.pdf")
    with pdf.open("rb") as stream:
        dossier, created = submit(runtime, queue, stream, pdf.name, "148/QĐ-XPHC", "QNI-D1")
    assert created
    return dossier


def _leases(runtime: Runtime) -> list[tuple[int, int]]:
    """(page number, process id) of every page lease held (a lease owner is host:pid:token)."""
    with runtime.sessions() as session:
        rows = session.execute(select(Page.page_number, Page.lease_owner).where(Page.lease_owner.is_not(None))).all()
    return [(page_number, int(owner.split(":")[-2])) for page_number, owner in rows]


def _in_group(pid: int, worker: Worker) -> bool:
    """Whether process ``pid`` is one of ``worker``'s (its process group)."""
    try:
        return os.getpgid(pid) == worker.process.pid
    except ProcessLookupError:
        return False


def test_two_workers_one_killed_mid_dossier_the_other_finishes_it_once(
    runtime: Runtime, shared: JobQueue, start_worker: Callable[[float], Worker]
) -> None:
    dossier = ingest_dev_003(runtime, shared)
    first, second = start_worker(3), start_worker(0.5)  # the first is slow: killed, it is surely reading a page
    readers: set[int] = set()

    def first_reading_after_three_pages() -> bool:
        reading = {pid for _page, pid in _leases(runtime) if _in_group(pid, first)}
        readers.update(reading)
        return progress(runtime, dossier.id)[1] >= 3 and bool(reading)

    wait_until(first_reading_after_three_pages, first, "three pages done and the first worker reading one")
    first.kill_9()
    held_at_kill = [page for page, pid in _leases(runtime) if pid in readers]
    assert len(held_at_kill) == 1, "killed while reading a page"
    status, done = progress(runtime, dossier.id)
    assert status == "processing" and done < dossier.page_count, "killed mid-dossier"

    wait_until(lambda: progress(runtime, dossier.id)[0] == "processed", second, "the other worker to finish it")
    assert_completed_exactly_once(runtime, dossier.id, dossier.page_count)
    with runtime.sessions() as session:
        pages = session.scalars(select(Page).where(Page.dossier_id == dossier.id)).all()
        attempts = {page.page_number: page.attempts for page in pages}
        assert all(page.lease_owner is None for page in pages), "no lease left behind"
        assert session.get(Dossier, dossier.id).lease_owner is None
    assert {number for number, count in attempts.items() if count == 2} == set(held_at_kill), (
        "the page the killed worker was reading was started again, every other page once"
    )
    assert set(attempts.values()) <= {1, 2}
    assert "recovered the jobs of dead workers: 1 pages" in second.log_path.read_text()


def test_a_worker_starting_on_the_shared_queue_leaves_the_queued_jobs_alone(runtime: Runtime, shared: JobQueue) -> None:
    """Jobs in Redis are the other workers' too: a starting worker neither flushes them nor queues them twice."""
    dossier = ingest_dev_003(runtime, shared)
    queued = shared.huey.storage.enqueued_items()
    assert len(queued) == dossier.page_count

    assert JobQueue(shared.settings).resume() == 0
    assert shared.huey.storage.enqueued_items() == queued, "the same jobs, none dropped, none added"
    with pytest.raises(RuntimeError, match="never rebuilt"):
        JobQueue(shared.settings).requeue_unfinished()


def test_jobs_lost_from_the_queue_are_queued_again_except_the_pages_being_read(
    runtime: Runtime, shared: JobQueue
) -> None:
    """A job popped by a worker killed before it took the page's lease, or lost with Redis's memory, is gone from
    the queue; once the queue has run dry the recovery pass queues again what nobody holds."""
    dossier = ingest_dev_003(runtime, shared)
    with runtime.sessions() as session:  # page 2 is being read by a live worker elsewhere
        assert leases.claim_page(runtime, session, dossier.id, 2) == 1
    leases.forget_page(dossier.id, 2)
    shared.huey.flush()  # every job lost

    assert shared.recover() == dossier.page_count - 1
    assert sorted(_queued_pages(shared)) == [n for n in range(1, dossier.page_count + 1) if n != 2]
    assert shared.recover() == 0, "nothing more while the queue is not dry"

    with runtime.sessions() as session:  # the reader of page 2 dies: its lease runs out
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier.id, Page.page_number == 2)
            .values(lease_expires_at=leases.now() - timedelta(seconds=1))
        )
        session.commit()
    assert shared.recover() == 1
    assert sorted(_queued_pages(shared)).count(2) == 1


def _queued_pages(queue: JobQueue) -> list[int]:
    return [queue.huey.deserialize_task(item).args[1] for item in queue.huey.storage.enqueued_items()]


def test_a_dossier_whose_finishing_failed_is_finished_by_a_later_recovery_pass(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finishing that fails (the store away for a moment) used to leave the dossier "assembling" until a worker
    restarted; now its lease runs out after leases.RETRY_SECONDS and any worker's recovery pass queues it again."""
    truth = ground_truth("dev-003")
    monkeypatch.setattr(pipeline, "read_page", lambda pdf_path, page, dpi=300: replayed_facts(truth, page))
    finish = pipeline.finish_dossier
    failures = iter([OSError("object store unreachable")])

    def finish_failing_once(runtime: Runtime, dossier_id: str) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        finish(runtime, dossier_id)

    monkeypatch.setattr(pipeline, "finish_dossier", finish_failing_once)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True
    dossier = ingest_dev_003(runtime, queue)
    assert progress(runtime, dossier.id)[0] == "assembling"

    assert queue.recover() == 0, "not before its retry time"
    assert progress(runtime, dossier.id)[0] == "assembling"
    later = leases.now() + timedelta(seconds=leases.RETRY_SECONDS + 1)
    monkeypatch.setattr(leases, "now", lambda: later)
    assert queue.recover() == 1
    assert progress(runtime, dossier.id)[0] == "processed"


def test_a_worker_refuses_a_queue_shared_with_another_machine_on_embedded_engines(
    runtime: Runtime, shared: JobQueue
) -> None:
    """Tantivy, SQLite and a local directory are one machine's: workers of two machines on one queue need
    Elasticsearch, PostgreSQL and S3, and the worker says so instead of indexing into a copy of its own."""
    client = redis.Redis.from_url(REDIS_URL)
    client.set(f"hoso:{QUEUE_NAME}:machine:other-host", '["the Tantivy search index in /srv/index"]', ex=30)
    with pytest.raises(machines.SharedQueueConflict, match="HOSO_SEARCH_URL"):
        JobQueue(shared.settings).resume()
    result = subprocess.run(
        [sys.executable, "-m", "archive.cli", "worker"],
        cwd=REPO_ROOT,
        env={**os.environ, "HOSO_HOME": str(runtime.settings.home), "HOSO_REDIS_URL": REDIS_URL},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "other-host" in result.stderr and "HOSO_SEARCH_URL" in result.stderr
    client.close()
