"""The embedded search backend: a Tantivy index in one directory, searchable from any process.

Text goes in already analysed (`search.analyzer`), as pre-tokenized streams in two forms: exact
(normalised, diacritics kept) and folded (no diacritics). Every query word looks in both, with the
exact form boosted, so "bán" finds "bàn" too but ranks pages with "bán" first. Queries are parsed by
`search.query` and compiled here into Tantivy queries; the scope and the filters are more required
clauses, so hit counts, groups and facets never include pages outside the caller's units.

Tantivy allows one writer per index. The writer is taken only inside `add_pages`/`delete_dossier`,
under an flock on a lock file in the directory, committed and released before returning, so several
processes take turns. The directory also holds `hoso-search.json`, the schema and ANALYZER_VERSION the
index was built with; opening an index built differently discards it and starts empty (`rebuilt` is
then True and the caller reindexes).
"""

import difflib
import json
import logging
import os
import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy
from tantivy import DocAddress, FieldType, Occur, PreTokenizedString, Query, Token

from search.analyzer import ANALYZER_VERSION, Span, strip_marks, words
from search.documents import (
    SUGGESTION_KINDS,
    DossierHit,
    DossierResult,
    FacetCount,
    PageDocument,
    PageHit,
    SearchResult,
    Suggestion,
)
from search.fields import (
    day_number,
    dossier_key,
    facet_value,
    path_segments,
    scope_term,
    suggestion_key,
    suggestion_keys,
)
from search.locking import exclusive_lock
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

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
LAYOUT_FILE = "hoso-search.json"
LOCK_FILE = "hoso-writer.lock"
WRITER_HEAP_BYTES = 50_000_000
MAX_TOKEN_CHARS = 100  # longer "words" are OCR noise and would bloat the term dictionary
_VALUE_GAP = 100  # positions between metadata values, so a phrase never spans two of them
_FIRST_SCAN_HITS = 256  # page hits read to find the first dossier groups; grows fourfold while too few
FACET_SIZE = 50  # values listed per facet, most frequent first

# name -> kind; the kinds are built by `_build_schema` and recorded in LAYOUT_FILE.
_FIELDS: dict[str, str] = {
    "key": "keyword",  # "<dossier_id>\x1f<page>": what add_pages replaces
    "dossier_id": "stored_fast_keyword",  # fast: dossiers are counted per query and per facet value
    "dossier_key": "fast_number",  # search.fields.dossier_key: hits are grouped without loading them
    "page": "stored_number",
    "case_number": "stored_fast_keyword",  # fast: suggestions list case numbers
    "subject_name": "fast_keyword",  # the business as entered on the case: suggestions list it
    "tax_code": "fast_keyword",
    "unit_code": "stored_fast_keyword",
    "scope": "keyword",  # every ancestor of unit_path: "VN", "VN/LCI", "VN/LCI/LCI-D1"
    "doc_type": "fast_keyword",
    "violation": "fast_keyword",  # search.fields.facet_value of the case's violation
    "status": "keyword",
    "year": "fast_number",
    "day": "fast_number",  # doc_date as YYYYMMDD
    "body": "stored_bytes",  # the page text as given (NFC), for snippets
    "text_exact": "tokens",
    "text_folded": "tokens",
    "meta_exact": "tokens",  # subject name, tax code, document type, violation, case number
    "meta_folded": "tokens",
    # search.fields.suggestion_keys of the case fields, matched by prefix: what the search box suggests
    "suggest_subject_name": "keyword",
    "suggest_tax_code": "keyword",
    "suggest_case_number": "keyword",
}
_EXACT_FIELDS = ("text_exact", "meta_exact")
# Exact twice folded: a page matching with the right diacritics scores both, ahead of folded-only ones.
_FIELD_BOOSTS = (("text_exact", 2.0), ("text_folded", 1.0), ("meta_exact", 1.0), ("meta_folded", 0.5))
# facet name -> indexed field
_FACET_FIELDS = {"unit": "unit_code", "year": "year", "doc_type": "doc_type", "violation": "violation"}
MIN_SUGGEST_CHARS = 2
_DID_YOU_MEAN_PAGES = 20  # pages read for the words a misspelt term is close to


class TantivyIndex:
    """A `SearchIndex` stored in `path` (created if missing)."""

    def __init__(self, path: Path, *, lock_timeout: float = 60.0) -> None:
        self._path = Path(path)
        self._path.mkdir(parents=True, exist_ok=True)
        self._lock_timeout = lock_timeout
        self._schema = _build_schema()
        with exclusive_lock(self._path / LOCK_FILE, lock_timeout):
            self.rebuilt = self._prepare_directory()
            self._index: tantivy.Index | None = tantivy.Index(self._schema, path=str(self._path), reuse=True)

    def add_pages(self, pages: Sequence[PageDocument]) -> None:
        if not pages:
            return
        documents = [_to_document(page) for page in pages]
        with self._writer() as writer:
            for page, document in zip(pages, documents, strict=True):
                writer.delete_documents_by_term("key", _key(page.dossier_id, page.page))
                writer.add_document(document)

    def delete_dossier(self, dossier_id: str) -> None:
        with self._writer() as writer:
            writer.delete_documents_by_term("dossier_id", dossier_id)

    def clear(self) -> None:
        with self._writer() as writer:
            writer.delete_all_documents()

    def search(self, query: str, scope: str | None, limit: int = 20, offset: int = 0) -> SearchResult:
        if limit < 1 or offset < 0:
            raise ValueError(f"limit must be at least 1 and offset at least 0, got {limit} and {offset}")
        node = parse(query)
        if node is None:
            return SearchResult(total=0, hits=[])
        compiled = self._filtered(node, scope, SearchFilters())
        searcher = self._searcher()
        found = searcher.search(compiled, limit=limit, offset=offset, count=True)
        highlight = highlight_for(node)
        hits = [_to_hit(searcher.doc(address), score, highlight) for score, address in found.hits]
        total: int = found.count  # type: ignore[attr-defined]  # missing from tantivy's stub, present at runtime
        return SearchResult(total=total, hits=hits)

    def search_dossiers(self, request: SearchRequest) -> DossierResult:
        node = parse(request.query)
        if node is None:
            return DossierResult(total_pages=0, total_dossiers=0, dossiers=[], has_more=False)
        compiled = self._filtered(node, request.scope, request.filters)
        searcher = self._searcher()
        groups, total_pages = _ranked_groups(searcher, compiled, wanted=request.offset + request.limit + 1)
        shown = groups[request.offset : request.offset + request.limit]
        highlight = highlight_for(node)
        shown_pages = [
            [_to_hit(searcher.doc(address), score, highlight) for score, address in hits[: request.pages_per_dossier]]
            for hits in shown
        ]
        matched = self._pages_per_dossier(searcher, compiled, [pages[0].dossier_id for pages in shown_pages])
        total_dossiers, facets = _dossier_counts(searcher, compiled, facets=request.facets) if total_pages else (0, {})
        dossiers = [
            DossierHit(
                dossier_id=pages[0].dossier_id,
                case_number=pages[0].case_number,
                unit_code=pages[0].unit_code,
                score=pages[0].score,
                matched_pages=matched.get(pages[0].dossier_id, len(hits)),
                pages=pages,
            )
            for pages, hits in zip(shown_pages, shown, strict=True)
        ]
        return DossierResult(
            total_pages=total_pages,
            total_dossiers=total_dossiers,
            dossiers=dossiers,
            has_more=len(groups) > request.offset + request.limit,
            facets=facets,
        )

    def suggest(self, prefix: str, scope: str | None, limit: int = 10) -> list[Suggestion]:
        typed = suggestion_key(prefix)
        if len(typed) < MIN_SUGGEST_CHARS:
            return []
        searcher = self._searcher()
        found = []
        for kind in SUGGESTION_KINDS:
            matching = Query.fuzzy_term_query(self._schema, f"suggest_{kind}", typed, distance=0, prefix=True)
            compiled = self._restricted(matching, scope, SearchFilters())
            counted = searcher.aggregate(
                compiled,
                {
                    "values": {
                        "terms": {"field": kind, "size": limit},
                        "aggs": {"dossiers": {"cardinality": {"field": "dossier_id"}}},
                    }
                },
            )
            values = [
                Suggestion(kind, str(bucket["key"]), round(bucket["dossiers"]["value"]))
                for bucket in counted["values"]["buckets"]
            ]
            found += sorted(values, key=lambda suggestion: (-suggestion.dossiers, suggestion.value))
        return found

    def did_you_mean(self, query: str, scope: str | None) -> str | None:
        """Each plain word that finds nothing in scope replaced by the closest word of the pages a Tantivy
        fuzzy query (Levenshtein automaton, distance 1, or 2 from six letters) finds in scope.

        Tantivy cannot list the terms an automaton matched, so the pages it finds are read and their words
        ranked by `difflib` similarity to the typed one; the word is taken in its most frequent written form.
        """
        terms = plain_terms(parse(query))
        if not terms:
            return None
        searcher = self._searcher()
        corrected = []
        for token in terms:
            if self._count(searcher, Term(token), scope):
                corrected.append(token)
                continue
            replacement = self._closest_word(searcher, token, scope)
            if replacement is None:
                return None
            corrected.append(replacement)
        suggestion = " ".join(corrected)
        if corrected == terms or not self._count(searcher, parse(suggestion), scope):
            return None
        return suggestion

    def close(self) -> None:
        self._index = None

    def _count(self, searcher: tantivy.Searcher, node: Node | None, scope: str | None) -> int:
        if node is None:
            return 0
        found = searcher.search(self._filtered(node, scope, SearchFilters()), limit=1, count=True)
        return int(found.count)  # type: ignore[attr-defined]  # missing from tantivy's stub, present at runtime

    def _closest_word(self, searcher: tantivy.Searcher, token: str, scope: str | None) -> str | None:
        folded = strip_marks(token)
        fuzzy = Query.fuzzy_term_query(
            self._schema, "text_folded", folded, distance=2 if len(folded) >= 6 else 1, transposition_cost_one=True
        )
        found = searcher.search(self._restricted(fuzzy, scope, SearchFilters()), limit=_DID_YOU_MEAN_PAGES)
        written: dict[str, Counter[str]] = {}
        for _, address in found.hits:
            body = bytes(searcher.doc(address).to_dict()["body"][0]).decode()
            for word in words(body):
                for part in word.parts:
                    written.setdefault(strip_marks(part.token), Counter())[part.token] += 1
        close = difflib.get_close_matches(folded, [word for word in written if word != folded], n=1, cutoff=0.5)
        return written[close[0]].most_common(1)[0][0] if close else None

    def _filtered(self, node: Node, scope: str | None, filters: SearchFilters) -> Query:
        """The compiled query with the scope and every filter as required, zero-scored clauses."""
        return self._restricted(_compile(self._schema, node), scope, filters)

    def _restricted(self, query: Query, scope: str | None, filters: SearchFilters) -> Query:
        clauses = [(Occur.Must, query)]
        clauses += [
            (Occur.Must, Query.const_score_query(clause, 0.0)) for clause in _filters(self._schema, scope, filters)
        ]
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def _searcher(self) -> tantivy.Searcher:
        index = self._open_index()
        index.reload()  # see other processes' commits
        return index.searcher()

    def _pages_per_dossier(self, searcher: tantivy.Searcher, compiled: Query, ids: list[str]) -> dict[str, int]:
        """How many pages of each shown dossier match, counted in the index (not only the hits read)."""
        if not ids:
            return {}
        within = Query.boolean_query(
            [(Occur.Must, compiled), (Occur.Must, Query.term_set_query(self._schema, "dossier_id", ids))]
        )
        counted = searcher.aggregate(within, {"pages": {"terms": {"field": "dossier_id", "size": len(ids)}}})
        return {str(bucket["key"]): int(bucket["doc_count"]) for bucket in counted["pages"]["buckets"]}

    def _open_index(self) -> tantivy.Index:
        if self._index is None:
            raise RuntimeError(f"the search index at {self._path} is closed")
        return self._index

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """The index writer, held only for one batch: locked, committed (or rolled back), released."""
        index = self._open_index()
        with exclusive_lock(self._path / LOCK_FILE, self._lock_timeout):
            writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            try:
                yield writer
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
        index.reload()

    def _prepare_directory(self) -> bool:
        """Discard an index built with another schema or analyzer; True if one was discarded."""
        layout_path = self._path / LAYOUT_FILE
        expected = _layout()
        recorded = json.loads(layout_path.read_text()) if layout_path.exists() else None
        exists = tantivy.Index.exists(str(self._path))
        discard = exists and (recorded != expected or not tantivy.Index.is_compatible(str(self._path)))
        if discard:
            log.warning("search index at %s was built as %s, not %s: starting empty", self._path, recorded, expected)
            for entry in self._path.iterdir():
                if entry.name == LOCK_FILE:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        if discard or recorded != expected:
            temporary = layout_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(expected, indent=2))
            os.replace(temporary, layout_path)
        return discard


def _layout() -> dict[str, object]:
    return {"schema_version": SCHEMA_VERSION, "analyzer_version": ANALYZER_VERSION, "fields": _FIELDS}


def _build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name, kind in _FIELDS.items():
        if kind.endswith("keyword"):
            builder.add_text_field(name, stored=kind.startswith("stored"), fast="fast" in kind, tokenizer_name="raw")
        elif kind == "stored_number":
            builder.add_unsigned_field(name, stored=True)
        elif kind == "fast_number":
            builder.add_unsigned_field(name, indexed=True, fast=True)
        elif kind == "stored_bytes":
            builder.add_bytes_field(name, stored=True)
        else:
            builder.add_text_field(name, tokenizer_name="raw", index_option="position")
    return builder.build()


def _key(dossier_id: str, page: int) -> str:
    return f"{dossier_id}\x1f{page}"


def _to_document(page: PageDocument) -> tantivy.Document:
    text = unicodedata.normalize("NFC", page.text)
    metadata = [page.subject_name, page.tax_code, page.doc_type, page.violation, page.case_number]
    text_exact, text_folded = _token_streams([text])
    meta_exact, meta_folded = _token_streams(metadata)
    document = tantivy.Document()
    document.add_text("key", _key(page.dossier_id, page.page))
    document.add_text("dossier_id", page.dossier_id)
    document.add_unsigned("dossier_key", dossier_key(page.dossier_id))
    document.add_unsigned("page", page.page)
    document.add_text("case_number", page.case_number)
    document.add_text("unit_code", page.unit_code)
    for ancestor in path_segments(page.unit_path):
        document.add_text("scope", ancestor)
    for name, value in (
        ("doc_type", page.doc_type),
        ("violation", facet_value(page.violation)),
        ("status", page.status),
        ("subject_name", page.subject_name),
        ("tax_code", page.tax_code),
    ):
        if value:
            document.add_text(name, value)
    for kind in SUGGESTION_KINDS:
        for key in suggestion_keys(kind, getattr(page, kind)):
            document.add_text(f"suggest_{kind}", key)
    if page.doc_date is not None:
        document.add_unsigned("year", page.doc_date.year)
        document.add_unsigned("day", day_number(page.doc_date))
    document.add_bytes("body", text.encode())
    document.add_pre_tokenized_text("text_exact", text_exact)
    document.add_pre_tokenized_text("text_folded", text_folded)
    document.add_pre_tokenized_text("meta_exact", meta_exact)
    document.add_pre_tokenized_text("meta_folded", meta_folded)
    return document


def _token_streams(values: Sequence[str]) -> tuple[PreTokenizedString, PreTokenizedString]:
    """Exact and folded token streams of `values`; an identifier shares the position of its first part."""
    exact: list[Token] = []
    folded: list[Token] = []
    position = 0
    offset = 0

    def emit(span: Span, at: int) -> None:
        if len(span.token) <= MAX_TOKEN_CHARS:
            exact.append(Token(span.token, at, offset + span.start, offset + span.end))
            folded.append(Token(strip_marks(span.token), at, offset + span.start, offset + span.end))

    texts = [unicodedata.normalize("NFC", value) for value in values if value]
    for text in texts:
        for word in words(text):
            if word.is_compound:
                emit(word.whole, position)
            for part in word.parts:
                emit(part, position)
                position += 1
        position += _VALUE_GAP
        offset += len(text) + 1
    joined = "\n".join(texts)
    return PreTokenizedString(joined, exact), PreTokenizedString(joined, folded)


def _compile(schema: tantivy.Schema, node: Node) -> Query:
    """The Tantivy query for a parsed query tree."""
    if isinstance(node, Term | Phrase):
        return Query.boolean_query(
            [
                (Occur.Should, Query.boost_query(_field_query(schema, field, node), boost))
                for field, boost in _FIELD_BOOSTS
            ]
        )
    if isinstance(node, Disjunction):
        return Query.boolean_query([(Occur.Should, _compile(schema, clause)) for clause in node.clauses])
    if isinstance(node, Conjunction):
        return Query.boolean_query(
            [
                (Occur.MustNot, _compile(schema, clause.clause))
                if isinstance(clause, Exclusion)
                else (Occur.Must, _compile(schema, clause))
                for clause in node.clauses
            ]
        )
    raise ValueError(f"an exclusion cannot stand alone: {node}")


def _field_query(schema: tantivy.Schema, field: str, node: Term | Phrase) -> Query:
    def form(token: str) -> str:
        return token if field in _EXACT_FIELDS else strip_marks(token)

    if isinstance(node, Phrase):
        return Query.phrase_query(schema, field, [form(token) for token in node.tokens])
    if node.prefix:
        return Query.fuzzy_term_query(schema, field, form(node.token), distance=0, prefix=True)
    return Query.term_query(schema, field, form(node.token))


def _filters(schema: tantivy.Schema, scope: str | None, filters: SearchFilters) -> list[Query]:
    """One query per restriction: the caller's scope, then each filter that is set."""
    clauses = [
        Query.term_query(schema, "scope", term)
        for term in (scope_term(scope), scope_term(filters.unit_path))
        if term is not None
    ]
    for field, value in (("case_number", filters.case_number), ("violation", filters.violation)):
        if value:
            clauses.append(Query.term_query(schema, field, value if field == "case_number" else facet_value(value)))
    for field, values in (("doc_type", filters.doc_types), ("status", filters.statuses)):
        if values:
            clauses.append(Query.term_set_query(schema, field, list(values)))
    if filters.date_from or filters.date_to:
        clauses.append(
            Query.range_query(
                schema,
                "day",
                FieldType.Unsigned,
                day_number(filters.date_from) if filters.date_from else None,
                day_number(filters.date_to) if filters.date_to else None,
            )
        )
    return clauses


def _ranked_groups(
    searcher: tantivy.Searcher, compiled: Query, wanted: int
) -> tuple[list[list[tuple[float, DocAddress]]], int]:
    """The best `wanted` dossiers as lists of their page hits (best first), and the total page count.

    A dossier ranks by its best page. Page hits are read best first, grouped by the numeric
    `dossier_key` column (no stored document is loaded), and more are read (four times as many each
    round) until `wanted` dossiers are seen or the hits run out: there is no cap on how deep one pages.
    """
    limit = max(_FIRST_SCAN_HITS, wanted * 4)
    while True:
        found = searcher.search(compiled, limit=limit, count=True)
        keys = searcher.fast_field_values("dossier_key", [address for _, address in found.hits])
        groups: dict[Any, list[tuple[float, DocAddress]]] = {}
        for (score, address), key in zip(found.hits, keys, strict=True):
            groups.setdefault(key, []).append((score, address))
        total: int = found.count  # type: ignore[attr-defined]  # missing from tantivy's stub, present at runtime
        if len(groups) >= wanted or len(found.hits) >= total:
            return list(groups.values()), total
        limit *= 4


def _dossier_counts(
    searcher: tantivy.Searcher, compiled: Query, *, facets: bool
) -> tuple[int, dict[str, list[FacetCount]]]:
    """The number of matching dossiers and, if asked, each facet's values with the number of matching
    dossiers that have them, most first: one aggregation, so the matching pages are read once for all."""
    if not facets:
        return round(searcher.cardinality(compiled, "dossier_id")), {}
    specification: dict[str, Any] = {
        name: {
            "terms": {"field": field, "size": FACET_SIZE},
            "aggs": {"dossiers": {"cardinality": {"field": "dossier_id"}}},
        }
        for name, field in _FACET_FIELDS.items()
    }
    specification["dossiers"] = {"cardinality": {"field": "dossier_id"}}
    counted = searcher.aggregate(compiled, specification)
    listed = {}
    for name in _FACET_FIELDS:
        values = [
            FacetCount(
                value=str(int(bucket["key"]) if name == "year" else bucket["key"]),
                count=round(bucket["dossiers"]["value"]),
            )
            for bucket in counted[name]["buckets"]
        ]
        listed[name] = sorted(values, key=lambda facet: (-facet.count, facet.value))
    return round(counted["dossiers"]["value"]), listed


def _to_hit(document: tantivy.Document, score: float, highlight: Highlight) -> PageHit:
    stored = document.to_dict()
    return PageHit(
        dossier_id=str(stored["dossier_id"][0]),
        page=int(stored["page"][0]),
        case_number=str(stored["case_number"][0]),
        unit_code=str(stored["unit_code"][0]),
        score=float(score),
        snippet_html=build_snippet(bytes(stored["body"][0]).decode(), highlight),
    )
