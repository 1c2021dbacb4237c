"""A child forked while a background thread holds a lock inherits it held: with ``fork_guard`` no fork happens
while a background thread is inside its guarded work, so a child always finds the lock free.

The lock stands for the global mutex of SQLite or a Redis pool's lock, which hung the queue's worker processes
before the guard (docs/workers.md).
"""

from __future__ import annotations

import os
import threading
import time

from ingest import fork_guard

FORKS = 20


def _fork_and_try(resource: threading.Lock) -> bool:
    """Fork; the child tries to take ``resource`` within a second. True if it could."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if resource.acquire(timeout=1) else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_no_child_is_forked_while_a_guarded_thread_holds_a_lock() -> None:
    resource = threading.Lock()
    stop = threading.Event()

    def background() -> None:
        while not stop.is_set():
            with fork_guard.background_work(), resource:
                time.sleep(0.01)  # busy inside the library most of the time
            time.sleep(0.001)

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    try:
        assert all(_fork_and_try(resource) for _ in range(FORKS))
    finally:
        stop.set()
        thread.join()


def test_without_the_guard_a_child_can_inherit_the_lock_held() -> None:
    """The failure the guard prevents, shown: the same thread without it."""
    resource = threading.Lock()
    stop = threading.Event()

    def background() -> None:
        while not stop.is_set():
            with resource:
                time.sleep(0.01)
            time.sleep(0.001)

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    try:
        assert not all(_fork_and_try(resource) for _ in range(FORKS))
    finally:
        stop.set()
        thread.join()
