"""Several worker processes on one machine index into one Tantivy index, taking turns under its lock file:
no commit may drop another process's pages (a writer working from a stale view of the index would), and a page
indexed by two processes stays one entry.

Each process opens its index before the others write, as a `hoso worker` process does once and keeps.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import tantivy

from search.documents import PageDocument
from search.tantivy_index import TantivyIndex

PROCESSES = 3
BATCHES = 15
PAGES_PER_BATCH = 4


def _page(dossier_id: str, page: int) -> PageDocument:
    return PageDocument(
        dossier_id=dossier_id,
        page=page,
        case_number="148/QĐ-XPHC",
        unit_code="QNI-D1",
        unit_path="VN/QNI/QNI-D1",
        text=f"biên bản vi phạm hành chính trang {page}",
    )


def _index_batches(path: str, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    index = TantivyIndex(Path(path))
    start.wait()  # every process has its index open before anyone writes
    for batch in range(BATCHES):
        own = [_page(f"w{worker}b{batch}", page) for page in range(1, PAGES_PER_BATCH + 1)]
        shared = [_page("shared", batch + 1)]  # every process writes the same page keys too
        index.add_pages(own + shared)
    index.close()


def _entries(path: Path) -> list[tuple[str, int]]:
    index = tantivy.Index.open(str(path))
    index.reload()
    searcher = index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=100_000).hits
    return sorted((searcher.doc(address)["dossier_id"][0], searcher.doc(address)["page"][0]) for _, address in hits)


def test_worker_processes_indexing_at_once_lose_and_double_nothing(tmp_path: Path) -> None:
    TantivyIndex(tmp_path).close()  # made once, as `hoso init` does
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES)
    processes = [context.Process(target=_index_batches, args=(str(tmp_path), n, start)) for n in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0, "an indexing process failed"

    expected = [
        (f"w{worker}b{batch}", page)
        for worker in range(PROCESSES)
        for batch in range(BATCHES)
        for page in range(1, PAGES_PER_BATCH + 1)
    ] + [("shared", batch + 1) for batch in range(BATCHES)]
    assert _entries(tmp_path) == sorted(expected)
    assert tantivy.Index.is_compatible(str(tmp_path))
