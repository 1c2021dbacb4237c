"""The scale-out search backend: an Elasticsearch index, filled by bulk requests, queried like Tantivy.

Text is analysed by `search.analyzer` before it is sent, so Elasticsearch sees the same words as the
embedded backend: NFC, case-folded, Ð read as Đ, tone marks at their canonical place. The page text
goes in as its syllables separated by spaces; Elasticsearch's `hoso_folding` analyzer (whitespace
tokenizer, then `asciifolding` with `preserve_original`) indexes each syllable twice at one position,
as written ("bán") and folded ("ban"), like Tantivy's two fields. No ICU plugin is needed. Identifiers
("194/qđ-kt", "0101234567-001") go whole into separate `*_ids` fields, because a whitespace stream
cannot put a whole identifier at the position of its first part as Tantivy does.

The query tree of `search.query` compiles to `bool`/`term`/`prefix`/`match_phrase` queries with the
same boosts as Tantivy's; the caller's scope and the filters are `bool.filter` clauses, so totals,
groups (`collapse` on `dossier_id`) and facets (aggregations) only ever count what is in scope.
Snippets are built by `search.snippet` from the stored page text, escaped, as for Tantivy.

The index is named after SCHEMA_VERSION and ANALYZER_VERSION; an index template carries its
settings and mapping. A version change therefore opens a new, empty index (`rebuilt` is True when an
older one exists) and the caller reindexes, as for Tantivy.
"""

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from search.analyzer import ANALYZER_VERSION, strip_marks, words
from search.documents import (
    FACETS,
    SUGGESTION_KINDS,
    DossierHit,
    DossierResult,
    FacetCount,
    PageDocument,
    PageHit,
    SearchResult,
    Suggestion,
)
from search.fields import day_number, facet_value, path_segments, scope_term, suggestion_key, suggestion_keys
from search.query import (
    Conjunction,
    Disjunction,
    Exclusion,
    Highlight,
    Node,
    Phrase,
    Term,
    highlight_for,
    parse,
    plain_terms,
)
from search.request import SearchFilters, SearchRequest
from search.snippet import build_snippet

SCHEMA_VERSION = 2
MAX_TOKEN_CHARS = 100  # as in Tantivy: longer "words" are OCR noise
FACET_SIZE = 50
MIN_SUGGEST_CHARS = 2
MAX_RESULT_WINDOW = 1_000_000  # dossier groups one can page through (Elasticsearch's default is 10,000)
EXACT_CARDINALITY_BELOW = 40_000  # the largest precision_threshold: dossier counts are exact below it
_STORED = ["dossier_id", "page", "case_number", "unit_code", "body"]
# (field, boost for the exact form, boost for the folded form): exact twice folded, as in Tantivy.
_TEXT_FIELDS = (("text", 2.0, 1.0), ("meta", 1.0, 0.5))
_ID_FIELDS = (("text_ids", 2.0, 1.0), ("meta_ids", 1.0, 0.5))
_FACET_FIELDS = {"unit": "unit_code", "year": "year", "doc_type": "doc_type", "violation": "violation"}

_KEYWORD = {"type": "keyword"}
_FOLDED_TEXT = {"type": "text", "analyzer": "hoso_folding", "search_analyzer": "hoso_exact"}
TEMPLATE: dict[str, Any] = {
    "settings": {
        "index": {"max_result_window": MAX_RESULT_WINDOW},
        "analysis": {
            "filter": {"hoso_fold": {"type": "asciifolding", "preserve_original": True}},
            "analyzer": {
                # The text arrives analysed by search.analyzer: only splitting and folding are left.
                "hoso_folding": {"type": "custom", "tokenizer": "whitespace", "filter": ["hoso_fold"]},
                "hoso_exact": {"type": "custom", "tokenizer": "whitespace", "filter": []},
            },
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "dossier_id": _KEYWORD,
            "page": {"type": "integer"},
            "case_number": _KEYWORD,
            "unit_code": _KEYWORD,
            "scope": _KEYWORD,  # every ancestor of unit_path: "VN", "VN/LCI", "VN/LCI/LCI-D1"
            "doc_type": _KEYWORD,
            "violation": _KEYWORD,
            "status": _KEYWORD,
            "year": {"type": "integer"},
            "day": {"type": "integer"},  # doc_date as YYYYMMDD
            "body": {"type": "text", "index": False},  # the page text as given (NFC), for snippets
            "text": _FOLDED_TEXT,
            "text_ids": _FOLDED_TEXT,
            "meta": {**_FOLDED_TEXT, "position_increment_gap": 100},
            "meta_ids": _FOLDED_TEXT,
            "subject_name": _KEYWORD,
            "tax_code": _KEYWORD,
            # search.fields.suggestion_keys of the case fields, matched by prefix for suggestions
            "suggest_subject_name": _KEYWORD,
            "suggest_tax_code": _KEYWORD,
            "suggest_case_number": _KEYWORD,
        },
    },
}


class ElasticIndex:
    """A `SearchIndex` in Elasticsearch at `url` (or through a ready `client`), index `<prefix>-s<S>-a<A>`."""

    def __init__(self, url: str = "", *, index_prefix: str = "hoso-pages", client: Elasticsearch | None = None) -> None:
        self._client: Elasticsearch | None = client or Elasticsearch(url)
        self._prefix = index_prefix
        self.name = f"{index_prefix}-s{SCHEMA_VERSION}-a{ANALYZER_VERSION}"
        self._client.indices.put_index_template(
            name=index_prefix, index_patterns=[f"{index_prefix}-*"], template=TEMPLATE, priority=100
        )
        self.rebuilt = False
        if not self._client.indices.exists(index=self.name):
            older = self._client.indices.resolve_index(name=f"{index_prefix}-*")["indices"]
            self.rebuilt = any(entry["name"] != self.name for entry in older)
            try:
                self._client.indices.create(index=self.name)
            except BadRequestError as refused:  # another process created it first
                if refused.error != "resource_already_exists_exception":
                    raise

    def add_pages(self, pages: Sequence[PageDocument]) -> None:
        if not pages:
            return
        operations: list[dict[str, Any]] = []
        for page in pages:
            operations += [{"index": {"_index": self.name, "_id": f"{page.dossier_id}:{page.page}"}}, to_source(page)]
        response = self._open().bulk(operations=operations, refresh="wait_for")
        if response["errors"]:
            failed = next(item for item in response["items"] if "error" in next(iter(item.values())))
            raise RuntimeError(f"Elasticsearch refused pages of the bulk request: {failed}")

    def delete_dossier(self, dossier_id: str) -> None:
        self._open().delete_by_query(index=self.name, query={"term": {"dossier_id": dossier_id}}, refresh=True)

    def clear(self) -> None:
        self._open().delete_by_query(index=self.name, query={"match_all": {}}, refresh=True)

    def search(self, query: str, scope: str | None, limit: int = 20, offset: int = 0) -> SearchResult:
        if limit < 1 or offset < 0:
            raise ValueError(f"limit must be at least 1 and offset at least 0, got {limit} and {offset}")
        node = parse(query)
        if node is None:
            return SearchResult(total=0, hits=[])
        response = self._open().search(
            index=self.name,
            query=filtered_query(node, scope, SearchFilters()),
            from_=offset,
            size=limit,
            track_total_hits=True,
            source_includes=_STORED,
        )
        highlight = highlight_for(node)
        return SearchResult(
            total=response["hits"]["total"]["value"],
            hits=[_to_hit(hit, highlight) for hit in response["hits"]["hits"]],
        )

    def search_dossiers(self, request: SearchRequest) -> DossierResult:
        node = parse(request.query)
        if node is None:
            return DossierResult(total_pages=0, total_dossiers=0, dossiers=[], has_more=False)
        response = self._open().search(index=self.name, **dossier_search_body(node, request))
        highlight = highlight_for(node)
        groups = response["hits"]["hits"]
        dossiers = []
        for group in groups[: request.limit]:
            inner = group["inner_hits"]["pages"]["hits"]
            pages = [_to_hit(hit, highlight) for hit in inner["hits"]]
            dossiers.append(
                DossierHit(
                    dossier_id=pages[0].dossier_id,
                    case_number=pages[0].case_number,
                    unit_code=pages[0].unit_code,
                    score=pages[0].score,
                    matched_pages=inner["total"]["value"],
                    pages=pages,
                )
            )
        total_pages = response["hits"]["total"]["value"]
        aggregations = response.get("aggregations", {})
        return DossierResult(
            total_pages=total_pages,
            total_dossiers=aggregations["dossiers"]["value"] if total_pages else 0,
            dossiers=dossiers,
            has_more=len(groups) > request.limit,
            facets=_facets(aggregations) if request.facets and total_pages else {},
        )

    def suggest(self, prefix: str, scope: str | None, limit: int = 10) -> list[Suggestion]:
        typed = suggestion_key(prefix)
        if len(typed) < MIN_SUGGEST_CHARS:
            return []
        response = self._open().msearch(searches=suggest_searches(self.name, typed, scope, limit))
        found = []
        for kind, answer in zip(SUGGESTION_KINDS, response["responses"], strict=True):
            values = [
                Suggestion(kind, str(bucket["key"]), bucket["dossiers"]["value"])
                for bucket in answer["aggregations"]["values"]["buckets"]
            ]
            found += sorted(values, key=lambda suggestion: (-suggestion.dossiers, suggestion.value))
        return found

    def did_you_mean(self, query: str, scope: str | None) -> str | None:
        """Elasticsearch's term suggester on the page text (folded), for a query of plain words that finds
        nothing in scope; the rewritten query is checked to find something in scope before it is offered."""
        terms = plain_terms(parse(query))
        if not terms or self._count(query, scope):
            return None
        folded = " ".join(strip_marks(token) for token in terms)
        response = self._open().search(
            index=self.name,
            size=0,
            query={"bool": {"filter": filter_clauses(scope, SearchFilters())}},
            suggest={"words": {"text": folded, "term": {"field": "text", "analyzer": "hoso_exact", "size": 1}}},
        )
        corrected = []
        for token, entry in zip(terms, response["suggest"]["words"], strict=True):
            options = entry["options"]
            corrected.append(options[0]["text"] if options else token)
        suggestion = " ".join(corrected)
        if corrected == terms or not self._count(suggestion, scope):
            return None
        return suggestion

    def _count(self, query: str, scope: str | None) -> int:
        node = parse(query)
        if node is None:
            return 0
        return int(self._open().count(index=self.name, query=filtered_query(node, scope, SearchFilters()))["count"])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def _open(self) -> Elasticsearch:
        if self._client is None:
            raise RuntimeError(f"the search index {self.name} is closed")
        return self._client


def to_source(page: PageDocument) -> dict[str, Any]:
    """The Elasticsearch document of a page: analysed text streams, filter fields and the text for snippets."""
    text = unicodedata.normalize("NFC", page.text)
    metadata = [page.subject_name, page.tax_code, page.doc_type, page.violation, page.case_number]
    text_syllables, text_ids = _streams(text)
    meta_streams = [_streams(value) for value in metadata if value]
    source: dict[str, Any] = {
        "dossier_id": page.dossier_id,
        "page": page.page,
        "case_number": page.case_number,
        "unit_code": page.unit_code,
        "scope": path_segments(page.unit_path),
        "body": text,
        "text": text_syllables,
        "text_ids": text_ids,
        "meta": [syllables for syllables, _ in meta_streams if syllables],
        "meta_ids": " ".join(ids for _, ids in meta_streams if ids),
    }
    for name, value in (
        ("doc_type", page.doc_type),
        ("violation", facet_value(page.violation)),
        ("status", page.status),
    ):
        if value:
            source[name] = value
    if page.doc_date is not None:
        source |= {"year": page.doc_date.year, "day": day_number(page.doc_date)}
    for kind in SUGGESTION_KINDS:
        value = getattr(page, kind)
        if value and kind != "case_number":  # case_number is stored above for every page
            source[kind] = value
        keys = suggestion_keys(kind, value)
        if keys:
            source[f"suggest_{kind}"] = keys
    return source


def suggest_searches(index: str, typed: str, scope: str | None, limit: int) -> list[dict[str, Any]]:
    """One multi-search header and body per suggested field: a prefix on its keys, in scope, its values
    counted in dossiers."""
    searches: list[dict[str, Any]] = []
    for kind in SUGGESTION_KINDS:
        query = {
            "bool": {"must": [{"prefix": {f"suggest_{kind}": typed}}], "filter": filter_clauses(scope, SearchFilters())}
        }
        aggregation = {
            "terms": {"field": kind, "size": limit},
            "aggs": {
                "dossiers": {"cardinality": {"field": "dossier_id", "precision_threshold": EXACT_CARDINALITY_BELOW}}
            },
        }
        searches += [{"index": index}, {"size": 0, "query": query, "aggs": {"values": aggregation}}]
    return searches


def _streams(text: str) -> tuple[str, str]:
    """(the syllables, the whole identifiers) of `text`, normalised and separated by spaces."""
    syllables: list[str] = []
    identifiers: list[str] = []
    for word in words(text):
        if word.is_compound and len(word.whole.token) <= MAX_TOKEN_CHARS:
            identifiers.append(word.whole.token)
        syllables += [part.token for part in word.parts if len(part.token) <= MAX_TOKEN_CHARS]
    return " ".join(syllables), " ".join(identifiers)


def compile_query(node: Node) -> dict[str, Any]:
    """The Elasticsearch query of a parsed query tree, scored like the Tantivy backend's."""
    if isinstance(node, Term):
        fields: tuple[tuple[str, float, float], ...]
        if node.prefix:  # a prefix may end inside a syllable or inside an identifier
            fields = _TEXT_FIELDS + _ID_FIELDS
        else:
            fields = _ID_FIELDS if words(node.token)[0].is_compound else _TEXT_FIELDS
        kind = "prefix" if node.prefix else "term"
        return _either_form(
            fields, node.token, lambda field, value, boost: {kind: {field: {"value": value, "boost": boost}}}
        )
    if isinstance(node, Phrase):
        return _either_form(
            _TEXT_FIELDS,
            " ".join(node.tokens),
            lambda field, value, boost: {"match_phrase": {field: {"query": value, "boost": boost}}},
        )
    if isinstance(node, Disjunction):
        return {"bool": {"should": [compile_query(clause) for clause in node.clauses], "minimum_should_match": 1}}
    if isinstance(node, Conjunction):
        must = [compile_query(clause) for clause in node.clauses if not isinstance(clause, Exclusion)]
        must_not = [compile_query(clause.clause) for clause in node.clauses if isinstance(clause, Exclusion)]
        return {"bool": {"must": must, "must_not": must_not} if must_not else {"must": must}}
    raise ValueError(f"an exclusion cannot stand alone: {node}")


def _either_form(
    fields: tuple[tuple[str, float, float], ...], exact: str, clause: Callable[[str, str, float], dict[str, Any]]
) -> dict[str, Any]:
    """A clause per field for the exact form and, when it differs, one for the folded form, any may match.

    The folded form matches every page (asciifolding indexed it for all); the exact one only pages with
    the same diacritics, which therefore score both and rank first.
    """
    folded = strip_marks(exact)
    clauses = []
    for field, exact_boost, folded_boost in fields:
        clauses.append(clause(field, exact, exact_boost))
        if folded != exact:
            clauses.append(clause(field, folded, folded_boost))
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def filter_clauses(scope: str | None, filters: SearchFilters) -> list[dict[str, Any]]:
    """The caller's scope and each filter that is set, as non-scoring clauses."""
    clauses: list[dict[str, Any]] = [
        {"term": {"scope": term}} for term in (scope_term(scope), scope_term(filters.unit_path)) if term is not None
    ]
    if filters.case_number:
        clauses.append({"term": {"case_number": filters.case_number}})
    if filters.violation:
        clauses.append({"term": {"violation": facet_value(filters.violation)}})
    for field, values in (("doc_type", filters.doc_types), ("status", filters.statuses)):
        if values:
            clauses.append({"terms": {field: list(values)}})
    if filters.date_from or filters.date_to:
        bounds = {"gte": day_number(filters.date_from)} if filters.date_from else {}
        bounds |= {"lte": day_number(filters.date_to)} if filters.date_to else {}
        clauses.append({"range": {"day": bounds}})
    return clauses


def filtered_query(node: Node, scope: str | None, filters: SearchFilters) -> dict[str, Any]:
    clauses = filter_clauses(scope, filters)
    compiled = compile_query(node)
    return {"bool": {"must": [compiled], "filter": clauses}} if clauses else compiled


def dossier_search_body(node: Node, request: SearchRequest) -> dict[str, Any]:
    """The keyword arguments of the grouped search: collapse on dossier_id, one more group than shown
    (so `has_more` needs no count), the dossier count and the facets as aggregations."""
    dossier_count = {"cardinality": {"field": "dossier_id", "precision_threshold": EXACT_CARDINALITY_BELOW}}
    aggregations: dict[str, Any] = {"dossiers": dossier_count}
    if request.facets:
        aggregations |= {
            name: {"terms": {"field": field, "size": FACET_SIZE}, "aggs": {"dossiers": dossier_count}}
            for name, field in _FACET_FIELDS.items()
        }
    return {
        "query": filtered_query(node, request.scope, request.filters),
        "from_": request.offset,
        "size": request.limit + 1,
        "collapse": {
            "field": "dossier_id",
            "inner_hits": {"name": "pages", "size": request.pages_per_dossier, "_source": _STORED},
        },
        "source": False,
        "track_total_hits": True,
        "aggregations": aggregations,
    }


def _facets(aggregations: dict[str, Any]) -> dict[str, list[FacetCount]]:
    facets = {}
    for name in FACETS:
        values = [
            FacetCount(value=str(bucket["key"]), count=bucket["dossiers"]["value"])
            for bucket in aggregations[name]["buckets"]
        ]
        facets[name] = sorted(values, key=lambda facet: (-facet.count, facet.value))
    return facets


def _to_hit(hit: dict[str, Any], highlight: Highlight) -> PageHit:
    source = hit["_source"]
    return PageHit(
        dossier_id=source["dossier_id"],
        page=int(source["page"]),
        case_number=source["case_number"],
        unit_code=source["unit_code"],
        score=float(hit["_score"] or 0.0),
        snippet_html=build_snippet(source["body"], highlight),
    )
