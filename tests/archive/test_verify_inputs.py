"""verify_inputs: the readers' stored details become the cover, contents and closing facts of verify."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.verify import ClosingFact, ContentsEntry
from archive.verify_inputs import ReadPage, cover_fact, document_reference, dossier_context


def test_cover_fields_stored_by_the_reader_win_over_reading_the_text_again() -> None:
    stored = ReadPage(3, "cover", "HỒ SƠ\nGồm: g tờ", {"cover": {"sheet_count_declared": 8}})
    assert cover_fact([ReadPage(1, "document"), stored]) == cover_fact([stored])
    fact = cover_fact([stored])
    assert fact is not None and (fact.page, fact.fields) == (3, {"sheet_count_declared": 8})
    from_text = cover_fact([ReadPage(2, "cover", "HỒ SƠ\nTiêu đề\nGồm: 5 tờ")])
    assert from_text is not None and from_text.fields["sheet_count_declared"] == 5
    assert cover_fact([ReadPage(1, "document")]) is None


def test_contents_of_several_pages_and_the_closing_declarations() -> None:
    pages = [
        ReadPage(2, "toc", details={"contents": [{"doc_type": "bao_cao", "number": "1/BC-NV", "sheets": "1"}]}),
        ReadPage(3, "toc", details={"contents": [{"doc_type": "cong_van", "number": None, "sheets": None}]}),
        ReadPage(9, "closing", details={"closing": {"sheet_count": 7, "duplicates": ["6a"], "inserted": ["9b"]}}),
    ]
    context = dossier_context(pages, uploaded_at=datetime(2024, 1, 2, 3, 4))
    assert context.contents is not None and context.contents.page == 2
    assert context.contents.entries == (ContentsEntry("bao_cao", "1/BC-NV", "1"), ContentsEntry("cong_van"))
    assert context.closing == ClosingFact(page=9, sheet_count=7, duplicates=("6a", "9b"), skipped=())
    # A naive upload time from SQLite is UTC.
    assert context.uploaded_at == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)


def test_nothing_declared_gives_an_empty_context() -> None:
    context = dossier_context([ReadPage(1, "document")])
    assert (context.contents, context.closing, context.uploaded_at) == (None, None, None)


def test_document_reference_from_details() -> None:
    assert document_reference({"document": {"number": "84/QĐ-KT", "date": "2022-03-21"}}) == ("84/QĐ-KT", "2022-03-21")
    assert document_reference(None) == (None, None)
    assert document_reference({}) == (None, None)
