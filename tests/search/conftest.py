"""The search backends under test: every conformance test runs once per backend listed here.

Tantivy always runs. Elasticsearch runs when HOSO_TEST_ELASTICSEARCH_URL points at a server (each test
gets its own index prefix, deleted afterwards) and is skipped otherwise.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search.index import SearchIndex
from search.tantivy_index import TantivyIndex
from tests.web.conftest import app, client, queue  # noqa: F401 - the web app for the API tests, on the root runtime

ELASTICSEARCH_URL = os.environ.get("HOSO_TEST_ELASTICSEARCH_URL", "")


def _elasticsearch(_directory: Path) -> SearchIndex:
    if not ELASTICSEARCH_URL:
        pytest.skip("set HOSO_TEST_ELASTICSEARCH_URL to run the conformance suite on Elasticsearch")
    from search.elastic_index import ElasticIndex

    return ElasticIndex(ELASTICSEARCH_URL, index_prefix=f"hoso-test-{uuid.uuid4().hex[:12]}")


BACKENDS: dict[str, Callable[[Path], SearchIndex]] = {
    "tantivy": lambda directory: TantivyIndex(directory / "tantivy"),
    "elasticsearch": _elasticsearch,
}


@pytest.fixture(params=sorted(BACKENDS))
def search_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    index = BACKENDS[request.param](tmp_path)
    yield index
    if request.param == "elasticsearch":
        from elasticsearch import Elasticsearch

        prefix = index.name.rsplit("-s", 1)[0]  # type: ignore[attr-defined]
        with Elasticsearch(ELASTICSEARCH_URL) as client:
            client.indices.delete(index=f"{prefix}-*")
            client.indices.delete_index_template(name=prefix)
    index.close()
