"""Behaviour every SearchIndex backend must show, written against the protocol only."""

import pytest

from search.documents import PageDocument, SearchResult
from search.index import QuerySyntaxError, SearchIndex

LCI = "VN/LCI/LCI-D1"
HN = "VN/HN/HN-D2"


def page(dossier_id: str, number: int, text: str, unit_path: str = LCI, **fields: str) -> PageDocument:
    return PageDocument(
        dossier_id=dossier_id,
        page=number,
        case_number=f"CASE-{dossier_id}",
        unit_code=unit_path.rsplit("/", 1)[-1],
        unit_path=unit_path,
        text=text,
        **fields,
    )


def found(result: SearchResult) -> list[tuple[str, int]]:
    return [(hit.dossier_id, hit.page) for hit in result.hits]


def test_unaccented_query_finds_accented_text(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "BIÊN BẢN vi phạm hành chính")])
    assert found(search_index.search("bien ban", None)) == [("d1", 1)]
    assert found(search_index.search("biên bản", None)) == [("d1", 1)]
    assert found(search_index.search("Biên Bản", None)) == [("d1", 1)]


def test_nfd_text_and_eth_are_found(search_index: SearchIndex) -> None:
    import unicodedata

    search_index.add_pages([page("d1", 1, unicodedata.normalize("NFD", "Ðội Quản lý thị trường số 1"))])
    assert found(search_index.search("đội quản lý", None)) == [("d1", 1)]


def test_tone_placement_variants_match(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "Cộng hoà xã hội chủ nghĩa"), page("d2", 1, "thủy sản")])
    assert found(search_index.search("cộng hòa", None)) == [("d1", 1)]
    assert found(search_index.search("thuỷ", None)) == [("d2", 1)]


def test_exact_diacritics_rank_above_folded_match(search_index: SearchIndex) -> None:
    search_index.add_pages([page("table", 1, "cái bàn gỗ"), page("sale", 1, "cửa hàng bán lẻ")])
    result = search_index.search("bán", None)
    assert result.total == 2
    assert found(result) == [("sale", 1), ("table", 1)]
    assert found(search_index.search("bàn", None)) == [("table", 1), ("sale", 1)]
    assert result.hits[0].score > result.hits[1].score


def test_phrase_requires_adjacent_words(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [page("d1", 1, "kinh doanh hàng giả"), page("d2", 1, "hàng hóa không rõ nguồn gốc, giả mạo")]
    )
    assert found(search_index.search('"hàng giả"', None)) == [("d1", 1)]
    assert found(search_index.search('"hang gia"', None)) == [("d1", 1)]
    assert search_index.search("hàng giả", None).total == 2


def test_words_are_anded_by_default(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "thuốc lá nhập lậu"), page("d2", 1, "rượu nhập lậu"), page("d3", 1, "thuốc")])
    assert found(search_index.search("thuốc lậu", None)) == [("d1", 1)]
    assert found(search_index.search("thuốc AND lậu", None)) == [("d1", 1)]


def test_or_and_not(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [page("d1", 1, "thuốc lá nhập lậu"), page("d2", 1, "rượu nhập lậu"), page("d3", 1, "mỹ phẩm")]
    )
    assert sorted(found(search_index.search("thuốc OR rượu", None))) == [("d1", 1), ("d2", 1)]
    assert found(search_index.search("lậu -rượu", None)) == [("d1", 1)]
    assert found(search_index.search("lậu NOT thuốc", None)) == [("d2", 1)]
    assert found(search_index.search("(thuốc OR mỹ) -lá", None)) == [("d3", 1)]


def test_prefix(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "hàng hóa"), page("d2", 1, "hành chính")])
    assert found(search_index.search("hàng*", None)) == [("d1", 1)]
    assert sorted(found(search_index.search("han*", None))) == [("d1", 1), ("d2", 1)]


def test_scope_filters_before_counting(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [page("lci", n, "hàng giả", LCI) for n in range(1, 4)]
        + [page("hn", n, "hàng giả", HN) for n in range(1, 6)]
        + [page("lc2", 1, "hàng giả", "VN/LCIX/LCIX-D1")]
    )
    in_lci = search_index.search("hàng giả", "VN/LCI", limit=2)
    assert in_lci.total == 3
    assert {hit.dossier_id for hit in in_lci.hits} == {"lci"}
    assert search_index.search("hàng giả", "VN/LCI/LCI-D1").total == 3
    assert search_index.search("hàng giả", "VN/HN").total == 5
    assert search_index.search("hàng giả", "VN").total == 9
    assert search_index.search("hàng giả", None).total == 9
    assert search_index.search("hàng giả", "VN/DNA").total == 0


def test_limit_and_offset_page_through_results(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", n, "biên bản " * n) for n in range(1, 6)])
    first = search_index.search("biên bản", None, limit=2)
    rest = search_index.search("biên bản", None, limit=10, offset=2)
    assert first.total == rest.total == 5
    assert len(first.hits) == 2 and len(rest.hits) == 3
    assert not set(found(first)) & set(found(rest))


def test_re_adding_a_page_replaces_it(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "biên bản cũ"), page("d1", 2, "biên bản")])
    search_index.add_pages([page("d1", 1, "biên bản mới")])
    search_index.add_pages([page("d1", 1, "biên bản mới"), page("d1", 1, "biên bản mới")])
    assert sorted(found(search_index.search("biên bản", None))) == [("d1", 1), ("d1", 2)]
    assert search_index.search("cũ", None).total == 0
    assert found(search_index.search("mới", None)) == [("d1", 1)]


def test_delete_dossier(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "biên bản"), page("d1", 2, "biên bản"), page("d2", 1, "biên bản")])
    search_index.delete_dossier("d1")
    assert found(search_index.search("biên bản", None)) == [("d2", 1)]
    search_index.delete_dossier("never-indexed")


def test_snippet_marks_matches_and_escapes_ocr_text(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, 'Biên bản <script>alert("x")</script> & hàng giả')])
    snippet = search_index.search("hàng giả", None).hits[0].snippet_html
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet and "&amp;" in snippet
    assert "<mark>hàng</mark> <mark>giả</mark>" in snippet
    assert search_index.search("script", None).hits[0].snippet_html.count("<mark>script</mark>") == 2


def test_snippet_marks_folded_matches(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "Lập BIÊN BẢN tại chỗ")])
    assert "<mark>BIÊN</mark> <mark>BẢN</mark>" in search_index.search("bien ban", None).hits[0].snippet_html


def test_hit_carries_page_fields(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 7, "biên bản")])
    hit = search_index.search("biên bản", None).hits[0]
    assert (hit.dossier_id, hit.page, hit.case_number, hit.unit_code) == ("d1", 7, "CASE-d1", "LCI-D1")
    assert hit.score > 0


def test_identifiers_are_found_exactly(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [
            page("d1", 1, "Quyết định số 194/QĐ-KT ngày 02/03/2024"),
            page("d2", 1, "Quyết định số 195/QĐ-KT"),
            page("d3", 1, "Mã số thuế: 0101234567"),
            page("d4", 1, "Chi nhánh MST 0101234567-001"),
            page("d5", 1, "Mã số thuế: 0101234568"),
        ]
    )
    assert found(search_index.search("194/QĐ-KT", None)) == [("d1", 1)]
    assert found(search_index.search("194/qd-kt", None)) == [("d1", 1)]
    assert found(search_index.search("0101234567-001", None)) == [("d4", 1)]
    assert sorted(found(search_index.search("0101234567", None))) == [("d3", 1), ("d4", 1)]
    assert "<mark>194/QĐ-KT</mark>" in search_index.search("194/QĐ-KT", None).hits[0].snippet_html


def test_case_fields_are_searchable(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "trang bìa", subject_name="Công ty TNHH Hoa Sen", tax_code="0109998887")])
    assert found(search_index.search("hoa sen", None)) == [("d1", 1)]
    assert found(search_index.search("0109998887", None)) == [("d1", 1)]


def test_empty_query_finds_nothing(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "biên bản")])
    assert search_index.search("   ", None) == SearchResult(total=0, hits=[])


@pytest.mark.parametrize(
    "query",
    ['"hàng giả', "AND", "hàng AND", "OR giả", "(", "(hàng", "hàng)", "()", "NOT", "-giả", "h*", "hàng OR -giả"],
)
def test_malformed_queries_raise_query_syntax_error(search_index: SearchIndex, query: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        search_index.search(query, None)
    assert len(str(raised.value)) > 20
