"""The one builder of verify's page facts, shared by the ingest pipeline and the benchmark."""

from archive.verify import PageFact
from archive.verify_inputs import page_fact


def _built(**overrides: object) -> PageFact:
    fields: dict = {
        "role": "document",
        "sheet_number": "3",
        "sheet_confidence": 0.9,
        "rotation": 90,
        "doc_type": "quyet_dinh_kiem_tra",
        "details": {"document": {"number": "194/QĐ-KT", "date": "2024-11-11"}},
        "dpi": 300.0,
        "mean_confidence": 0.8,
    }
    fields.update(overrides)
    return page_fact(4, **fields)  # type: ignore[arg-type]


def test_the_document_reference_comes_from_the_reader_details() -> None:
    assert _built() == PageFact(
        page=4,
        sheet_number="3",
        sheet_confidence=0.9,
        rotation=90,
        role="document",
        doc_type="quyet_dinh_kiem_tra",
        doc_number="194/QĐ-KT",
        doc_date="2024-11-11",
        dpi=300.0,
        mean_confidence=0.8,
    )
    assert (_built(details=None).doc_number, _built(details={}).doc_date) == (None, None)


def test_a_page_without_a_role_is_blank_or_a_document_sheet() -> None:
    assert _built(role=None, blank=True).role == "blank"
    failed = _built(role=None, sheet_number=None, error_code="page_timeout")
    assert (failed.role, failed.error_code) == ("document", "page_timeout")
