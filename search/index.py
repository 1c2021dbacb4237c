"""The contract every search backend implements, so callers and the conformance tests ignore the engine.

Backends (Tantivy embedded, Elasticsearch at scale) are chosen by configuration; code depends only on
`SearchIndex` and `QuerySyntaxError`.
"""

from collections.abc import Sequence
from typing import Protocol

from search.documents import DossierResult, PageDocument, SearchResult, Suggestion
from search.request import SearchRequest


class QuerySyntaxError(ValueError):
    """The user's query cannot be read; the message explains why in plain English."""


class SearchIndex(Protocol):
    rebuilt: bool  # True when opening found an index of another schema or analyzer and started it empty

    def add_pages(self, pages: Sequence[PageDocument]) -> None:
        """Index pages, replacing any existing entry with the same (dossier_id, page)."""
        ...

    def delete_dossier(self, dossier_id: str) -> None:
        """Remove every page of a dossier."""
        ...

    def search(self, query: str, scope: str | None, limit: int = 20, offset: int = 0) -> SearchResult:
        """Ranked page hits for `query` among pages whose unit_path lies under `scope` (None: all)."""
        ...

    def search_dossiers(self, request: SearchRequest) -> DossierResult:
        """Matching pages grouped by dossier, ranked by each dossier's best page, with facets.

        Scope and filters apply before anything is counted: totals, facets and groups never include
        a page outside them.
        """
        ...

    def suggest(self, prefix: str, scope: str | None, limit: int = 10) -> list[Suggestion]:
        """Business names, tax codes and case numbers of in-scope dossiers that start with `prefix`.

        Compared after `search.fields.suggestion_key` (no diacritics, case or punctuation); a name is
        also found by the start of any of its words. At most `limit` per kind, most dossiers first.
        """
        ...

    def did_you_mean(self, query: str, scope: str | None) -> str | None:
        """A query of close words that finds pages in scope, for a query of plain words that finds none."""
        ...

    def clear(self) -> None:
        """Remove every page (a full reindex starts with it)."""
        ...

    def close(self) -> None:
        """Release the index; the object is unusable afterwards."""
        ...
