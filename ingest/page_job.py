"""Read one page in a child process with a time limit, so a page that hangs or crashes cannot take its worker down.

Each worker process keeps one reader child. The child lives across pages because the OCR engines it
loads (about 0.7 s for `vie+eng`) are kept per process; a fresh process per page would pay that on every
page. The worker sends the child one page at a time and waits at most ``timeout`` seconds:

- the child answers with the page's facts, or with the error its reading raised (``page_unreadable``);
- the child dies while reading (Tesseract or poppler crashed, the kernel's OOM killer chose it): the page
  is ``page_unreadable`` and the next page gets a new child;
- no answer in time: the child and everything it started (pdftoppm) are killed, the page is ``page_timeout``.

The child is forked, so it needs no pickling of the reading function (tests replace it with recorded facts)
and starts in milliseconds. It dies with its worker (PR_SET_PDEATHSIG), so a worker killed with kill -9
leaves no reader behind; it leads its own process group, so a timeout can kill the tools it started too.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from ocr.facts import PageFacts

PageReaderFunction = Callable[[Path, int, int], PageFacts]

PAGE_UNREADABLE = "page_unreadable"
PAGE_TIMEOUT = "page_timeout"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class PageOutcome:
    """What reading one page came to: its facts, or an error code with an English detail."""

    facts: PageFacts | None = None
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def failed(cls, error_code: str, error: str) -> PageOutcome:
        return cls(error_code=error_code, error=error)


class PageReader:
    """One reader child of this process, started on first use and again after it had to be killed.

    The child is made with os.fork, not multiprocessing.Process: the queue's worker processes are daemonic
    multiprocessing processes, which multiprocessing does not allow to have children.
    """

    def __init__(self, read: PageReaderFunction):
        self.read = read
        self._pid: int | None = None
        self._connection: Connection | None = None

    def read_page(self, pdf_path: Path, page: int, dpi: int, timeout: float) -> PageOutcome:
        try:
            connection = self._ready_connection()
            connection.send((str(pdf_path), page, dpi))
        except OSError:  # the idle child had died since the last page: not this page's fault, take a new one
            self.stop()
            connection = self._ready_connection()
            connection.send((str(pdf_path), page, dpi))
        if not connection.poll(timeout):
            self.stop()
            return PageOutcome.failed(PAGE_TIMEOUT, f"reading the page took longer than {timeout:g} s and was stopped")
        try:
            status, payload = connection.recv()
        except (EOFError, OSError):
            how = self.stop()
            return PageOutcome.failed(PAGE_UNREADABLE, f"the page reader died while reading the page ({how})")
        if status == "ok":
            return PageOutcome(facts=payload)
        return PageOutcome.failed(PAGE_UNREADABLE, payload)

    def stop(self) -> str:
        """Kill the child and the tools it started (the next page starts a new one); says how it ended."""
        pid, self._pid = self._pid, None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if pid is None:
            return "no reader"
        ended = _reap(pid, wait=False)
        for kill in (os.killpg, os.kill):  # its group first: the child and the pdftoppm it may be running
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # killed before it made its own group, or already gone
                pass
        return ended or _reap(pid, wait=True) or "unknown"

    def _ready_connection(self) -> Connection:
        if self._pid is None or self._connection is None or _reap(self._pid, wait=False) is not None:
            self.stop()
            ours, theirs = multiprocessing.Pipe()
            parent_pid = os.getpid()
            pid = os.fork()
            if pid == 0:  # the child: serve pages, then leave without running the parent's exit handlers
                code = 1
                try:
                    ours.close()
                    _serve(theirs, self.read, parent_pid)
                    code = 0
                finally:
                    os._exit(code)
            theirs.close()
            self._pid, self._connection = pid, ours
        return self._connection


def _reap(pid: int, wait: bool) -> str | None:
    """How the child ``pid`` ended, collecting it; None while it still runs (when not waiting)."""
    try:
        reaped, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        return "already collected"
    if reaped == 0:
        return None
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _serve(connection: Connection, read: PageReaderFunction, parent_pid: int) -> None:
    """The child's loop: read the pages it is sent until its worker closes the pipe or dies."""
    os.setpgid(0, 0)
    die_with_parent()
    if os.getppid() != parent_pid:  # the worker died before the request took effect
        return
    while True:
        try:
            pdf_path, page, dpi = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, object] = ("ok", read(Path(pdf_path), page, dpi))
        except Exception as failure:  # noqa: BLE001 - whatever the page raised is that page's failure, sent back
            answer = ("error", f"{type(failure).__name__}: {failure}")
        connection.send(answer)
        del answer
        release_free_memory()


def release_free_memory() -> None:
    """Give the memory freed after a page back to the system (glibc keeps it otherwise; elsewhere a no-op).

    A page's images and Tesseract's working memory are freed when the page is read, but glibc keeps most of
    the freed heap for reuse: measured on dev pages, an idle reader then held 157 MB after six pages, 100 MB
    once trimmed; its peak while reading did not change. Readers idle beside a busy one count towards the
    memory budget, so each trims after each page (a few milliseconds)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (elsewhere a no-op: a reader's pipe then ends its
    loop). Also used for the queue's worker processes, so a consumer killed alone takes its workers along."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


_readers: dict[int, PageReader] = {}


def stop_reader() -> None:
    """Stop this process's reader child, if any: before work that reads no page (finishing a dossier), so
    its OCR engine does not sit in memory meanwhile. The next page starts a new one (0.7 s)."""
    reader = _readers.pop(os.getpid(), None)
    if reader is not None:
        reader.stop()


def reader_for(read: PageReaderFunction) -> PageReader:
    """This process's reader for ``read``; a forked worker gets its own, a new function a new child."""
    reader = _readers.get(os.getpid())
    if reader is None or reader.read is not read:
        if reader is not None:
            reader.stop()
        reader = _readers[os.getpid()] = PageReader(read)
    return reader
