"""A lock that every fork of this process waits for, held by its background threads while they use the database
or Redis, so that no child is made while such a thread is inside one of their libraries.

A lock held by another thread at the moment a process forks stays held forever in the child. Seen here: the
worker processes Huey forked hung at their first job, one in `sqlite3.connect` (SQLite's global mutex, held
by the consumer's recovery thread at the fork), one in redis-py's connection pool lock. The consumer's
heartbeat and recovery threads, and the lease renewal thread of a worker process (which forks its page
reader), therefore do each round of work inside ``background_work()``, and ``os.fork`` (Huey's process
workers, multiprocessing, the page reader) takes the same lock first, waiting at most for one round.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def background_work() -> Iterator[None]:
    """Hold off forks of this process while a background thread uses a library with locks of its own."""
    with _lock:
        yield


def _before_fork() -> None:
    _lock.acquire()


def _after_fork_in_parent() -> None:
    _lock.release()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the child has no background thread yet; the parent's copy stays held


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
