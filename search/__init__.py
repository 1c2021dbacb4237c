"""Full-text search for hoso: the Vietnamese analyzer, the query language and the index backends.

This package turns page text into an index and queries into page hits. It imports nothing from
`archive`, `ingest` or `ocr`; callers hand it `PageDocument`s and get `SearchResult`s back.
"""

from search.documents import PageDocument, PageHit, SearchResult
from search.index import QuerySyntaxError, SearchIndex

__all__ = ["PageDocument", "PageHit", "QuerySyntaxError", "SearchIndex", "SearchResult"]
