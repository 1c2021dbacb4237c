"""The Elasticsearch backend without a server: the exact requests the official client sends (template,
bulk body, query, aggregations) and how answers become results, through a recording transport node."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from search.documents import PageDocument
from search.elastic_index import TEMPLATE, ElasticIndex, compile_query
from search.query import parse
from search.request import SearchFilters, SearchRequest
from tests.search.elastic_fake import Sent, default_answer, recording_client

INDEX = "hoso-pages-s2-a1"


def page(dossier_id: str, number: int, text: str, **fields: Any) -> PageDocument:
    return PageDocument(dossier_id, number, f"CASE-{dossier_id}", "LCI-D1", "VN/LCI/LCI-D1", text, **fields)


def opened(answer: Any = default_answer) -> tuple[ElasticIndex, list[Sent]]:
    client, sent = recording_client(answer)
    index = ElasticIndex(client=client)
    return index, sent


def test_opening_installs_the_template_and_creates_the_versioned_index() -> None:
    index, sent = opened()
    template = sent[0]
    assert (template.method, template.path) == ("PUT", "/_index_template/hoso-pages")
    assert template.json() == {"index_patterns": ["hoso-pages-*"], "priority": 100, "template": TEMPLATE}
    analysis = TEMPLATE["settings"]["analysis"]
    assert analysis["filter"]["hoso_fold"] == {"type": "asciifolding", "preserve_original": True}
    assert analysis["analyzer"]["hoso_folding"]["filter"] == ["hoso_fold"]
    assert TEMPLATE["mappings"]["properties"]["text"]["analyzer"] == "hoso_folding"
    assert ("PUT", f"/{INDEX}") in [(request.method, request.path) for request in sent]
    assert index.name == INDEX and not index.rebuilt


def test_an_index_of_an_older_version_means_rebuilt() -> None:
    def answer(sent: Sent) -> tuple[int, Any]:
        if sent.path.startswith("/_resolve/index/"):
            return 200, {"indices": [{"name": "hoso-pages-s0-a1", "attributes": ["open"]}], "aliases": []}
        return default_answer(sent)

    assert opened(answer)[0].rebuilt


def test_an_existing_index_is_reused() -> None:
    index, sent = opened(lambda request: (200, None) if request.method == "HEAD" else default_answer(request))
    assert not index.rebuilt
    assert ("PUT", f"/{INDEX}") not in [(request.method, request.path) for request in sent]


def test_bulk_body_holds_analysed_streams_and_filter_fields() -> None:
    index, sent = opened()
    index.add_pages(
        [
            page(
                "d1",
                2,
                "BIÊN BẢN số 194/QĐ-KT, Cộng hoà",
                subject_name="Công ty Hoa Sen",
                tax_code="0101234567-001",
                doc_type="bien_ban",
                violation="  Hàng   giả ",
                doc_date=date(2024, 3, 2),
                status="accepted",
            )
        ]
    )
    bulk = sent[-1]
    assert (bulk.method, bulk.path, bulk.query) == ("PUT", "/_bulk", "refresh=wait_for")
    action, source = bulk.ndjson()
    assert action == {"index": {"_index": INDEX, "_id": "d1:2"}}
    assert source == {
        "dossier_id": "d1",
        "page": 2,
        "case_number": "CASE-d1",
        "unit_code": "LCI-D1",
        "scope": ["VN", "VN/LCI", "VN/LCI/LCI-D1"],
        "body": "BIÊN BẢN số 194/QĐ-KT, Cộng hoà",
        "text": "biên bản số 194 qđ kt cộng hòa",
        "text_ids": "194/qđ-kt",
        "meta": ["công ty hoa sen", "0101234567 001", "bien ban", "hàng giả", "case d1"],
        "meta_ids": "0101234567-001 bien_ban case-d1",
        "doc_type": "bien_ban",
        "violation": "Hàng giả",
        "status": "accepted",
        "year": 2024,
        "day": 20240302,
        "subject_name": "Công ty Hoa Sen",
        "tax_code": "0101234567-001",
        "suggest_subject_name": ["cong ty hoa sen", "ty hoa sen", "hoa sen", "sen"],
        "suggest_tax_code": ["0101234567 001"],
        "suggest_case_number": ["case d1"],
    }


def test_bulk_errors_are_raised() -> None:
    def answer(sent: Sent) -> tuple[int, Any]:
        if sent.path == "/_bulk":
            failed = {"index": {"_id": "d1:1", "status": 400, "error": {"type": "mapper_parsing_exception"}}}
            return 200, {"errors": True, "items": [failed]}
        return default_answer(sent)

    index, _ = opened(answer)
    with pytest.raises(RuntimeError, match="mapper_parsing_exception"):
        index.add_pages([page("d1", 1, "biên bản")])


def test_a_word_looks_for_its_exact_form_first_then_the_folded_one() -> None:
    node = parse("bán")
    assert node is not None
    assert compile_query(node) == {
        "bool": {
            "should": [
                {"term": {"text": {"value": "bán", "boost": 2.0}}},
                {"term": {"text": {"value": "ban", "boost": 1.0}}},
                {"term": {"meta": {"value": "bán", "boost": 1.0}}},
                {"term": {"meta": {"value": "ban", "boost": 0.5}}},
            ],
            "minimum_should_match": 1,
        }
    }


def test_query_tree_compiles_to_bool_phrase_prefix_and_identifier_clauses() -> None:
    node = parse('"hàng giả" (thuốc OR rượu) -lậu 194/QĐ-KT hoa*')
    assert node is not None
    compiled = compile_query(node)["bool"]
    phrase, either, identifier, prefix = compiled["must"]
    assert phrase["bool"]["should"][:2] == [
        {"match_phrase": {"text": {"query": "hàng giả", "boost": 2.0}}},
        {"match_phrase": {"text": {"query": "hang gia", "boost": 1.0}}},
    ]
    assert [clause["bool"]["should"][0]["term"]["text"]["value"] for clause in either["bool"]["should"]] == [
        "thuốc",
        "rượu",
    ]
    assert either["bool"]["minimum_should_match"] == 1
    assert compiled["must_not"][0]["bool"]["should"][0] == {"term": {"text": {"value": "lậu", "boost": 2.0}}}
    fields = [next(iter(clause["term"])) for clause in identifier["bool"]["should"]]
    assert fields == ["text_ids", "text_ids", "meta_ids", "meta_ids"]
    assert identifier["bool"]["should"][1]["term"]["text_ids"]["value"] == "194/qd-kt"
    assert [next(iter(clause["prefix"])) for clause in prefix["bool"]["should"]] == [
        "text",
        "meta",
        "text_ids",
        "meta_ids",
    ]


def grouped_answer(sent: Sent) -> tuple[int, Any]:
    if sent.path != f"/{INDEX}/_search":
        return default_answer(sent)

    def hit(dossier_id: str, number: int, score: float, body: str) -> dict[str, Any]:
        source = {"dossier_id": dossier_id, "page": number, "case_number": f"C-{dossier_id}", "unit_code": "LCI-D1"}
        return {"_id": f"{dossier_id}:{number}", "_score": score, "_source": source | {"body": body}}

    def group(dossier_id: str, total: int, pages: list[dict[str, Any]]) -> dict[str, Any]:
        inner = {"pages": {"hits": {"total": {"value": total, "relation": "eq"}, "hits": pages}}}
        return {
            "_id": pages[0]["_id"],
            "_score": pages[0]["_score"],
            "fields": {"dossier_id": [dossier_id]},
            "inner_hits": inner,
        }

    buckets = {
        "unit": [{"key": "LCI-D1", "doc_count": 9, "dossiers": {"value": 3}}],
        "year": [
            {"key": 2023, "doc_count": 2, "dossiers": {"value": 1}},
            {"key": 2024, "doc_count": 7, "dossiers": {"value": 2}},
        ],
        "doc_type": [],
        "violation": [{"key": "Hàng giả", "doc_count": 9, "dossiers": {"value": 3}}],
    }
    return 200, {
        "hits": {
            "total": {"value": 9, "relation": "eq"},
            "hits": [
                group("a", 5, [hit("a", 4, 3.5, "hàng giả <img src=x onerror=alert(1)>"), hit("a", 1, 2.0, "hàng")]),
                group("b", 1, [hit("b", 2, 1.0, "giả")]),
            ],
        },
        "aggregations": {"dossiers": {"value": 3}} | {name: {"buckets": values} for name, values in buckets.items()},
    }


def test_grouped_search_request_filters_before_counting() -> None:
    index, sent = opened(grouped_answer)
    filters = SearchFilters(
        unit_path="VN/LCI",
        case_number="01/QĐ",
        doc_types=("bien_ban",),
        statuses=("accepted",),
        violation="Hàng giả",
        date_from=date(2023, 1, 1),
        date_to=date(2024, 12, 31),
    )
    index.search_dossiers(
        SearchRequest("hàng", scope="VN/LCI/LCI-D1", filters=filters, limit=1, offset=5, pages_per_dossier=2)
    )
    body = sent[-1].json()
    assert body["query"]["bool"]["filter"] == [
        {"term": {"scope": "VN/LCI/LCI-D1"}},
        {"term": {"scope": "VN/LCI"}},
        {"term": {"case_number": "01/QĐ"}},
        {"term": {"violation": "Hàng giả"}},
        {"terms": {"doc_type": ["bien_ban"]}},
        {"terms": {"status": ["accepted"]}},
        {"range": {"day": {"gte": 20230101, "lte": 20241231}}},
    ]
    assert (body["from"], body["size"], body["_source"], body["track_total_hits"]) == (5, 2, False, True)
    assert body["collapse"]["field"] == "dossier_id"
    assert body["collapse"]["inner_hits"]["size"] == 2
    assert body["aggregations"]["unit"] == {
        "terms": {"field": "unit_code", "size": 50},
        "aggs": {"dossiers": {"cardinality": {"field": "dossier_id", "precision_threshold": 40000}}},
    }
    assert set(body["aggregations"]) == {"dossiers", "unit", "year", "doc_type", "violation"}


def test_grouped_answer_becomes_dossier_groups_with_escaped_snippets() -> None:
    index, _ = opened(grouped_answer)
    result = index.search_dossiers(SearchRequest("hàng giả", scope=None, limit=1))
    assert (result.total_pages, result.total_dossiers, result.has_more) == (9, 3, True)
    [group] = result.dossiers
    assert (group.dossier_id, group.case_number, group.matched_pages, group.score) == ("a", "C-a", 5, 3.5)
    assert [hit.page for hit in group.pages] == [4, 1]
    snippet = group.pages[0].snippet_html
    assert "<img" not in snippet and "&lt;img src=x onerror=alert(1)&gt;" in snippet
    assert "<mark>hàng</mark> <mark>giả</mark>" in snippet
    assert [(facet.value, facet.count) for facet in result.facets["year"]] == [("2024", 2), ("2023", 1)]
    assert result.facets["doc_type"] == []


def test_page_search_and_deletes_send_the_scope_and_refresh() -> None:
    index, sent = opened(
        lambda request: (
            (200, {"hits": {"total": {"value": 0}, "hits": []}})
            if request.path.endswith("/_search")
            else default_answer(request)
        )
    )
    assert index.search("hàng", "VN/LCI").total == 0
    assert sent[-1].json()["query"]["bool"]["filter"] == [{"term": {"scope": "VN/LCI"}}]
    index.delete_dossier("d1")
    assert (sent[-1].path, sent[-1].query, sent[-1].json()) == (
        f"/{INDEX}/_delete_by_query",
        "refresh=true",
        {"query": {"term": {"dossier_id": "d1"}}},
    )
    index.close()
    with pytest.raises(RuntimeError):
        index.search("hàng", None)


def test_suggestions_are_one_scoped_prefix_search_per_field() -> None:
    def answer(sent: Sent) -> tuple[int, Any]:
        if sent.path.endswith("/_msearch"):
            buckets = [[{"key": "Công ty TNHH Minh Phát", "doc_count": 9, "dossiers": {"value": 2}}], [], []]
            return 200, {"responses": [{"aggregations": {"values": {"buckets": found}}} for found in buckets]}
        return default_answer(sent)

    index, sent = opened(answer)
    suggestions = index.suggest("Minh Ph", "VN/LCI", limit=5)
    assert [(s.kind, s.value, s.dossiers) for s in suggestions] == [("subject_name", "Công ty TNHH Minh Phát", 2)]
    headers_and_bodies = sent[-1].ndjson()
    bodies = headers_and_bodies[1::2]
    assert [header["index"] for header in headers_and_bodies[::2]] == [INDEX] * 3
    assert [body["query"]["bool"]["must"] for body in bodies] == [
        [{"prefix": {f"suggest_{kind}": "minh ph"}}] for kind in ("subject_name", "tax_code", "case_number")
    ]
    assert all(body["query"]["bool"]["filter"] == [{"term": {"scope": "VN/LCI"}}] for body in bodies)
    assert bodies[0]["aggs"]["values"]["terms"] == {"field": "subject_name", "size": 5}
    requests = len(sent)
    assert index.suggest("m", None) == [] and len(sent) == requests  # too short: not even asked


def test_did_you_mean_uses_the_term_suggester_in_scope_and_checks_the_result() -> None:
    counted: list[dict[str, Any]] = []

    def answer(sent: Sent) -> tuple[int, Any]:
        if sent.path.endswith("/_count"):
            counted.append(sent.json()["query"])
            return 200, {"count": 0 if len(counted) == 1 else 3}
        if sent.path.endswith("/_search"):
            options = [{"options": []}, {"options": [{"text": "lá", "score": 0.5, "freq": 4}]}]
            return 200, {"hits": {"hits": []}, "suggest": {"words": options}}
        return default_answer(sent)

    index, sent = opened(answer)
    assert index.did_you_mean("thuoc laa", "VN/LCI") == "thuoc lá"
    suggester = next(request for request in sent if request.path.endswith("/_search")).json()
    assert suggester["suggest"]["words"] == {
        "text": "thuoc laa",
        "term": {"field": "text", "analyzer": "hoso_exact", "size": 1},
    }
    assert suggester["query"] == {"bool": {"filter": [{"term": {"scope": "VN/LCI"}}]}}
    assert len(counted) == 2  # the typed query found nothing; the corrected one was checked to find pages
