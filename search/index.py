"""The contract every search backend implements, so callers and the conformance tests ignore the engine.

Backends (Tantivy embedded, Elasticsearch at scale) are chosen by configuration; code depends only on
`SearchIndex` and `QuerySyntaxError`.
"""

from collections.abc import Sequence
from typing import Protocol

from search.documents import PageDocument, SearchResult


class QuerySyntaxError(ValueError):
    """The user's query cannot be read; the message explains why in plain English."""


class SearchIndex(Protocol):
    def add_pages(self, pages: Sequence[PageDocument]) -> None:
        """Index pages, replacing any existing entry with the same (dossier_id, page)."""
        ...

    def delete_dossier(self, dossier_id: str) -> None:
        """Remove every page of a dossier."""
        ...

    def search(self, query: str, scope: str | None, limit: int = 20, offset: int = 0) -> SearchResult:
        """Ranked page hits for `query` among pages whose unit_path lies under `scope` (None: all)."""
        ...

    def close(self) -> None:
        """Release the index; the object is unusable afterwards."""
        ...
