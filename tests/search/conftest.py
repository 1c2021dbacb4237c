"""The search backends under test: every conformance test runs once per backend listed here.

To add a backend (Elasticsearch), add a param whose factory returns a fresh, empty SearchIndex and
skips when its server is unreachable.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search.index import SearchIndex
from search.tantivy_index import TantivyIndex

BACKENDS: dict[str, Callable[[Path], SearchIndex]] = {
    "tantivy": lambda directory: TantivyIndex(directory / "tantivy"),
}


@pytest.fixture(params=sorted(BACKENDS))
def search_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    index = BACKENDS[request.param](tmp_path)
    yield index
    index.close()
