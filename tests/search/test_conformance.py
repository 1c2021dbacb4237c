"""Behaviour every SearchIndex backend must show, written against the protocol only."""

from datetime import date

import pytest

from search.documents import DossierResult, FacetCount, PageDocument, SearchResult
from search.index import QuerySyntaxError, SearchIndex
from search.request import SearchFilters, SearchRequest

LCI = "VN/LCI/LCI-D1"
HN = "VN/HN/HN-D2"


def page(dossier_id: str, number: int, text: str, unit_path: str = LCI, **fields: object) -> PageDocument:
    return PageDocument(
        dossier_id=dossier_id,
        page=number,
        case_number=f"CASE-{dossier_id}",
        unit_code=unit_path.rsplit("/", 1)[-1],
        unit_path=unit_path,
        text=text,
        **fields,  # type: ignore[arg-type]
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


def test_tax_codes_are_found_exactly(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [
            page("ten", 1, "Mã số thuế 0312345678 của cơ sở"),
            page("branch", 1, "MST chi nhánh: 0312345678-002"),
            page("person", 1, "CCCD số 001203004567 cấp ngày 01/02/2021"),
            page("near", 1, "Mã số thuế 0312345679 và CCCD 001203004568"),
        ]
    )
    assert sorted(found(search_index.search("0312345678", None))) == [("branch", 1), ("ten", 1)]
    assert found(search_index.search("0312345678-002", None)) == [("branch", 1)]
    assert found(search_index.search("001203004567", None)) == [("person", 1)]
    assert search_index.search("031234567", None).total == 0


def test_document_and_case_numbers_are_found_exactly(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [
            page("d1", 1, "Quyết định số 00010001/QĐ-KT ngày 5/6/2023"),
            page("d2", 1, "Quyết định số 00010002/QĐ-KT"),
            page("d3", 1, "căn cứ Nghị định 98/2020/NĐ-CP của Chính phủ"),
            page("d4", 1, "Nghị định 98 năm 2020"),
        ]
    )
    assert found(search_index.search("00010001/QĐ-KT", None)) == [("d1", 1)]
    assert found(search_index.search('"Nghị định 98/2020/NĐ-CP"', None)) == [("d3", 1)]
    assert found(search_index.search("98/2020/nd-cp", None)) == [("d3", 1)]
    assert found(search_index.search("CASE-d2", None)) == [("d2", 1)]


def test_exact_match_ranks_first_whatever_the_folded_matches(search_index: SearchIndex) -> None:
    search_index.add_pages([page(f"fold{n}", 1, "tiền bàn " * n) for n in range(1, 4)] + [page("exact", 1, "tiền bán")])
    assert found(search_index.search("bán", None))[0] == ("exact", 1)
    assert search_index.search("ban", None).total == 4


def test_prefix_without_diacritics_and_on_identifiers(search_index: SearchIndex) -> None:
    search_index.add_pages([page("d1", 1, "Thanh Hóa"), page("d2", 1, "số 194/QĐ-KT"), page("d3", 1, "số 195/QĐ-KT")])
    assert found(search_index.search("hoa*", None)) == [("d1", 1)]
    assert found(search_index.search("194/q*", None)) == [("d2", 1)]


# --- grouped search: dossiers, filters, facets, scope ---------------------------------------------------------


def request(query: str, scope: str | None = None, **options: object) -> SearchRequest:
    filters = options.pop("filters", SearchFilters())
    return SearchRequest(query=query, scope=scope, filters=filters, **options)  # type: ignore[arg-type]


def planted(search_index: SearchIndex) -> None:
    """Three units, five dossiers; "hàng giả" on most pages, with different case fields."""

    def dossier(dossier_id: str, unit_path: str, pages: int, **fields: object) -> list[PageDocument]:
        return [
            page(dossier_id, n, f"trang {n}: kinh doanh hàng giả", unit_path, **fields) for n in range(1, pages + 1)
        ]  # type: ignore[arg-type]

    search_index.add_pages(
        dossier("big", LCI, 6, doc_type="bien_ban", violation="Hàng giả", doc_date=date(2023, 5, 2), status="accepted")
        + dossier(
            "small", LCI, 1, doc_type="quyet_dinh", violation="Hàng giả", doc_date=date(2024, 1, 9), status="draft"
        )
        + dossier("lci2", "VN/LCI/LCI-D2", 2, doc_type="bien_ban", violation="Hàng lậu", doc_date=date(2024, 7, 1))
        + dossier("hn", HN, 3, doc_type="bien_ban", violation="Hàng cấm", doc_date=date(2022, 3, 3), status="accepted")
        + dossier("hn2", HN, 2, doc_type="to_trinh", violation="Trốn thuế", doc_date=date(2021, 1, 1))
    )


def facet(result: DossierResult, name: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets[name]}


def test_pages_are_grouped_by_dossier(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [page("a", n, "biên bản " + ("hàng giả " * 5 if n == 4 else "hàng giả")) for n in range(1, 5)]
        + [page("b", 1, "hàng giả hàng giả")]
    )
    result = search_index.search_dossiers(request('"hàng giả"', pages_per_dossier=2))
    assert (result.total_pages, result.total_dossiers) == (5, 2)
    assert [group.dossier_id for group in result.dossiers] == ["a", "b"]
    first = result.dossiers[0]
    assert first.matched_pages == 4 and len(first.pages) == 2
    assert first.pages[0].page == 4 and first.pages[0].score == first.score
    assert "<mark>hàng</mark> <mark>giả</mark>" in first.pages[0].snippet_html
    assert (first.case_number, first.unit_code) == ("CASE-a", "LCI-D1")
    assert not result.has_more


def test_dossier_groups_page_without_overlap(search_index: SearchIndex) -> None:
    search_index.add_pages([page(f"d{n:02}", p, "hàng giả " * n) for n in range(1, 26) for p in (1, 2)])
    seen: list[str] = []
    offset = 0
    while True:
        result = search_index.search_dossiers(request("hàng giả", limit=7, offset=offset, facets=False))
        seen += [group.dossier_id for group in result.dossiers]
        assert result.total_dossiers == 25
        if not result.has_more:
            break
        offset += 7
    assert len(seen) == len(set(seen)) == 25
    assert seen[:3] == ["d25", "d24", "d23"]
    assert search_index.search_dossiers(request("hàng giả", offset=100)).dossiers == []


def test_facets_count_dossiers(search_index: SearchIndex) -> None:
    planted(search_index)
    result = search_index.search_dossiers(request("hàng giả"))
    assert (result.total_pages, result.total_dossiers) == (14, 5)
    assert facet(result, "unit") == {"LCI-D1": 2, "LCI-D2": 1, "HN-D2": 2}
    assert facet(result, "year") == {"2021": 1, "2022": 1, "2023": 1, "2024": 2}
    assert facet(result, "doc_type") == {"bien_ban": 3, "quyet_dinh": 1, "to_trinh": 1}
    assert facet(result, "violation") == {"Hàng giả": 2, "Hàng lậu": 1, "Hàng cấm": 1, "Trốn thuế": 1}
    assert [value.value for value in result.facets["unit"]][0] in ("HN-D2", "LCI-D1")
    assert result.facets["year"][0] == FacetCount("2024", 2)


def test_filters_narrow_before_counting(search_index: SearchIndex) -> None:
    planted(search_index)

    def dossiers(**filters: object) -> list[str]:
        result = search_index.search_dossiers(request("hàng giả", filters=SearchFilters(**filters)))  # type: ignore[arg-type]
        assert result.total_dossiers == len(result.dossiers)
        assert sum(facet(result, "unit").values()) == len(result.dossiers) if result.dossiers else result.facets == {}
        return sorted(group.dossier_id for group in result.dossiers)

    assert dossiers(unit_path="VN/LCI") == ["big", "lci2", "small"]
    assert dossiers(unit_path="VN/LCI/LCI-D2") == ["lci2"]
    assert dossiers(case_number="CASE-hn") == ["hn"]
    assert dossiers(doc_types=("quyet_dinh", "to_trinh")) == ["hn2", "small"]
    assert dossiers(statuses=("accepted",)) == ["big", "hn"]
    assert dossiers(violation="Hàng giả") == ["big", "small"]
    assert dossiers(date_from=date(2023, 5, 2), date_to=date(2024, 1, 9)) == ["big", "small"]
    assert dossiers(date_from=date(2024, 1, 10)) == ["lci2"]
    assert dossiers(date_to=date(2021, 12, 31)) == ["hn2"]
    assert dossiers(unit_path="VN/LCI", statuses=("accepted", "draft"), doc_types=("bien_ban",)) == ["big"]


def test_scope_hides_other_units_from_groups_counts_and_facets(search_index: SearchIndex) -> None:
    planted(search_index)
    result = search_index.search_dossiers(request("hàng giả", scope="VN/LCI/LCI-D1"))
    assert (result.total_pages, result.total_dossiers) == (7, 2)
    assert sorted(group.dossier_id for group in result.dossiers) == ["big", "small"]
    assert facet(result, "unit") == {"LCI-D1": 2}
    assert facet(result, "violation") == {"Hàng giả": 2}
    assert facet(result, "year") == {"2023": 1, "2024": 1}
    assert "to_trinh" not in facet(result, "doc_type") and "Trốn thuế" not in facet(result, "violation")
    # a unit filter cannot reach outside the scope
    outside = search_index.search_dossiers(request("hàng giả", scope=LCI, filters=SearchFilters(unit_path="VN/HN")))
    assert (outside.total_pages, outside.total_dossiers, outside.dossiers) == (0, 0, [])
    assert all(not values for values in outside.facets.values())
    # a word found only outside the scope reveals nothing either
    search_index.add_pages([page("secret", 1, "bí mật riêng", HN, violation="Bí mật")])
    hidden = search_index.search_dossiers(request("bí mật", scope="VN/LCI"))
    assert (hidden.total_pages, hidden.total_dossiers, hidden.dossiers) == (0, 0, [])
    assert all(not values for values in hidden.facets.values())


def test_grouped_search_of_nothing(search_index: SearchIndex) -> None:
    planted(search_index)
    assert search_index.search_dossiers(request("  ")) == DossierResult(0, 0, [], False)
    with pytest.raises(QuerySyntaxError):
        search_index.search_dossiers(request('"hàng'))


def test_clear_removes_everything(search_index: SearchIndex) -> None:
    planted(search_index)
    search_index.clear()
    assert search_index.search("hàng giả", None).total == 0


def test_hostile_ocr_text_never_reaches_the_html_unescaped(search_index: SearchIndex) -> None:
    hostile = "hàng giả \"><img src=x onerror=alert(1)> <mark>giả</mark> ' & <b>hàng</b>"
    search_index.add_pages([page("d1", 1, hostile)])
    snippet = search_index.search("hàng giả", None).hits[0].snippet_html
    assert "<img" not in snippet and "<b>" not in snippet and "&quot;&gt;&lt;img" in snippet
    assert "&lt;mark&gt;<mark>giả</mark>&lt;/mark&gt;" in snippet
    assert "&#x27;" in snippet and "&amp;" in snippet
    stripped = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def _businesses(search_index: SearchIndex) -> None:
    search_index.add_pages(
        [
            page("a", 1, "Biên bản kiểm tra", subject_name="Công ty TNHH Thương mại Minh Phát", tax_code="5300123456"),
            page("a", 2, "thuốc lá điếu", subject_name="Công ty TNHH Thương mại Minh Phát", tax_code="5300123456"),
            page("b", 1, "Biên bản", subject_name="Công ty TNHH Thương mại Minh Phát", tax_code="5300123456"),
            page(
                "c",
                1,
                "rượu ngoại",
                unit_path="VN/QNI/QNI-D1",
                subject_name="Công ty Minh Phương",
                tax_code="5700999999-001",
            ),
        ]
    )


def test_suggestions_match_prefixes_without_diacritics_and_count_dossiers(search_index: SearchIndex) -> None:
    _businesses(search_index)
    names = [(s.kind, s.value, s.dossiers) for s in search_index.suggest("minh ph", None)]
    assert names == [
        ("subject_name", "Công ty TNHH Thương mại Minh Phát", 2),
        ("subject_name", "Công ty Minh Phương", 1),
    ]
    assert [s.value for s in search_index.suggest("CONG TY TNHH", None)] == ["Công ty TNHH Thương mại Minh Phát"]
    assert [(s.kind, s.value) for s in search_index.suggest("5700999999-0", None)] == [("tax_code", "5700999999-001")]
    assert [s.value for s in search_index.suggest("case a", None)] == ["CASE-a"]  # punctuation-blind
    assert [s.value for s in search_index.suggest("case-", "VN/LCI")] == ["CASE-a", "CASE-b"]
    assert search_index.suggest("m", None) == []  # one character suggests nothing


def test_suggestions_never_leave_the_scope(search_index: SearchIndex) -> None:
    _businesses(search_index)
    assert [s.value for s in search_index.suggest("minh", "VN/LCI")] == ["Công ty TNHH Thương mại Minh Phát"]
    assert search_index.suggest("57", "VN/LCI") == []
    assert search_index.suggest("phuong", "VN/LCI") == []


def test_did_you_mean_corrects_a_word_that_finds_nothing(search_index: SearchIndex) -> None:
    _businesses(search_index)
    assert search_index.did_you_mean("thuoc laa", None) == "thuoc lá"
    assert search_index.did_you_mean("thuốc lá", None) is None  # it finds pages: nothing to correct
    assert search_index.did_you_mean("ruou ngaoi", "VN/LCI") is None  # the close words are out of scope
    assert search_index.did_you_mean("ruou ngoaj", "VN/QNI") == "ruou ngoại"
    assert search_index.did_you_mean('"thuoc laa"', None) is None  # phrases are not rewritten
