"""Tantivy-specific behaviour: the layout file, taking turns at the writer, several handles on one index."""

import json
import threading
from pathlib import Path

import pytest

from search.documents import PageDocument
from search.locking import exclusive_lock
from search.tantivy_index import LAYOUT_FILE, LOCK_FILE, TantivyIndex


def page(dossier_id: str, number: int, text: str) -> PageDocument:
    return PageDocument(dossier_id, number, "C1", "LCI-D1", "VN/LCI/LCI-D1", text)


def test_reopening_keeps_the_index(tmp_path: Path) -> None:
    TantivyIndex(tmp_path).add_pages([page("d1", 1, "biên bản")])
    reopened = TantivyIndex(tmp_path)
    assert not reopened.rebuilt
    assert reopened.search("biên bản", None).total == 1


def test_other_analyzer_version_starts_empty(tmp_path: Path) -> None:
    TantivyIndex(tmp_path).add_pages([page("d1", 1, "biên bản")])
    layout = json.loads((tmp_path / LAYOUT_FILE).read_text())
    layout["analyzer_version"] -= 1
    (tmp_path / LAYOUT_FILE).write_text(json.dumps(layout))
    reopened = TantivyIndex(tmp_path)
    assert reopened.rebuilt
    assert reopened.search("biên bản", None).total == 0
    reopened.add_pages([page("d1", 1, "biên bản")])
    assert TantivyIndex(tmp_path).search("biên bản", None).total == 1


def test_two_handles_take_turns_writing(tmp_path: Path) -> None:
    first, second = TantivyIndex(tmp_path), TantivyIndex(tmp_path)

    def fill(index: TantivyIndex, dossier_id: str) -> None:
        for number in range(1, 6):
            index.add_pages([page(dossier_id, number, "hàng giả")])

    threads = [threading.Thread(target=fill, args=(first, "a")), threading.Thread(target=fill, args=(second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first.search("hàng giả", None).total == 10
    assert second.search("hàng giả", None).total == 10


def test_writer_gives_up_after_timeout_while_locked(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path, lock_timeout=0.2)
    with exclusive_lock(tmp_path / LOCK_FILE, timeout=1), pytest.raises(TimeoutError):
        index.add_pages([page("d1", 1, "biên bản")])


def test_closed_index_refuses_work(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path)
    index.close()
    with pytest.raises(RuntimeError):
        index.search("biên bản", None)
