"""`hoso worker` with OCR replaced by a dev dossier's ground truth, for tests that run and kill real worker processes.

Run as ``python -m tests.ingest.replay_worker`` from the repository root. The page reading function is replaced
before the worker starts, through the same extension point the in-process tests use (``pipeline.read_page``), so
everything else is the real worker: the queue, its processes, the page reader children, the store and the index.

Environment:
    REPLAY_TRUTH          the ground-truth JSON whose pages are replayed (page n of any dossier gets page n)
    REPLAY_SECONDS        how long reading one page takes (so that a test can kill the worker mid-dossier)
    REPLAY_HANG_MARKER    if set: after indexing a dossier, write this file and hang before marking it processed
    REPLAY_HANG_CONVERTING  if set: after converting the first batch of a TIFF's frames, write this file and hang
    REPLAY_LEASE_SECONDS  if set: leases run out after this many seconds (not a minute), recovery runs twice as often
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

from archive import cli
from ingest import images, leases, pipeline, queue
from search.tantivy_index import TantivyIndex
from tests.conftest import replayed_facts
from tests.ingest.truth_words import facts_words


def _replay(truth: dict, seconds: float):
    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        time.sleep(seconds)
        facts = replayed_facts(truth, page)
        return dataclasses.replace(facts, words=facts_words(truth["pages"][page - 1]))

    return read_page


def _hang_after_indexing(marker: Path) -> None:
    add_pages = TantivyIndex.add_pages

    def add_pages_then_hang(self: TantivyIndex, pages) -> None:  # type: ignore[no-untyped-def]
        add_pages(self, pages)
        marker.write_text(str(os.getpid()))
        time.sleep(3600)

    TantivyIndex.add_pages = add_pages_then_hang  # type: ignore[method-assign]


def _hang_while_converting(marker: Path) -> None:
    """After the first batch of a TIFF's frames is written to its temp file, say so and hang: mid-conversion."""
    convert = images._convert

    def convert_then_hang(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        convert(*args, **kwargs)
        marker.write_text(str(os.getpid()))
        time.sleep(3600)

    images._convert = convert_then_hang  # type: ignore[assignment]


def _short_leases(seconds: float) -> None:
    """So that a test sees the pages of a worker it killed recovered in seconds."""
    leases.LEASE_SECONDS = leases.RETRY_SECONDS = seconds
    leases.RENEW_SECONDS = seconds / 4
    queue.RECOVER_SECONDS = seconds / 2


def main() -> None:
    truth = json.loads(Path(os.environ["REPLAY_TRUTH"]).read_text(encoding="utf-8"))
    pipeline.read_page = _replay(truth, float(os.environ.get("REPLAY_SECONDS", "0")))  # type: ignore[assignment]
    if os.environ.get("REPLAY_HANG_MARKER"):
        _hang_after_indexing(Path(os.environ["REPLAY_HANG_MARKER"]))
    if os.environ.get("REPLAY_HANG_CONVERTING"):
        _hang_while_converting(Path(os.environ["REPLAY_HANG_CONVERTING"]))
    if os.environ.get("REPLAY_LEASE_SECONDS"):
        _short_leases(float(os.environ["REPLAY_LEASE_SECONDS"]))
    cli.main(["worker"])


if __name__ == "__main__":
    main()
