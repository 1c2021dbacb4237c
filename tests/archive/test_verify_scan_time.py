"""The 48-hour digitisation clock: the scan time a PDF records, and which time the rule stops at."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pikepdf

from archive.verify import DossierContext, PageFact, verify
from archive.verify_inputs import dossier_context, parse_pdf_date, pdf_scanned_at

# A penalty case whose latest document is dated 2024-03-09: that day ends 2024-03-09T17:00Z.
PAGES = [
    PageFact(
        page=1,
        sheet_number="1",
        sheet_confidence=0.9,
        rotation=0,
        role="document",
        doc_type="quyet_dinh_kiem_tra",
        doc_number="1/QĐ-KT",
        doc_date="2024-03-01",
    ),
    PageFact(
        page=2,
        sheet_number="2",
        sheet_confidence=0.9,
        rotation=0,
        role="document",
        doc_type="quyet_dinh_xu_phat",
        doc_number="2/QĐ-XPVPHC",
        doc_date="2024-03-09",
    ),
]


def _late(context: DossierContext) -> list[dict]:
    return [finding.detail for finding in verify(PAGES, None, context) if finding.code == "late_digitization"]


def test_the_scan_time_stops_the_clock_before_the_upload_time() -> None:
    # Scanned the next morning, uploaded a week later: digitised in time.
    scanned = datetime(2024, 3, 10, 2, 0, tzinfo=UTC)
    uploaded = datetime(2024, 3, 17, tzinfo=UTC)
    assert _late(DossierContext(uploaded_at=uploaded, scanned_at=scanned)) == []
    assert _late(DossierContext(uploaded_at=uploaded)) == [
        {"latest_document_date": "2024-03-09", "uploaded_at": "2024-03-17T00:00:00+00:00", "hours": 175}
    ]


def test_a_late_scan_is_reported_with_the_scan_time() -> None:
    scanned = datetime(2024, 3, 12, 18, 0, tzinfo=UTC)
    details = _late(DossierContext(uploaded_at=scanned + timedelta(hours=1), scanned_at=scanned))
    assert details == [{"latest_document_date": "2024-03-09", "scanned_at": "2024-03-12T18:00:00+00:00", "hours": 73}]


def test_a_scan_time_after_the_upload_is_a_wrong_clock_and_is_dropped() -> None:
    uploaded = datetime(2024, 3, 10, tzinfo=UTC)
    context = dossier_context([], uploaded_at=uploaded, scanned_at=uploaded + timedelta(days=400))
    assert (context.uploaded_at, context.scanned_at) == (uploaded, None)


def test_pdf_dates_are_parsed_with_their_zone_or_as_vietnam_time() -> None:
    assert parse_pdf_date("D:20240311093000+07'00'") == datetime(2024, 3, 11, 2, 30, tzinfo=UTC)
    assert parse_pdf_date("D:20240311093000Z") == datetime(2024, 3, 11, 9, 30, tzinfo=UTC)
    assert parse_pdf_date("D:20240311") == datetime(2024, 3, 11, tzinfo=timezone(timedelta(hours=7)))
    assert parse_pdf_date("D:20241399") is None
    assert parse_pdf_date("yesterday") is None


def test_the_scan_time_is_read_from_the_pdf(tmp_path: Path) -> None:
    with_date, without = tmp_path / "scan.pdf", tmp_path / "plain.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(without)
    pdf.docinfo["/CreationDate"] = "D:20240311093000+07'00'"
    pdf.save(with_date)
    assert pdf_scanned_at(with_date) == datetime(2024, 3, 11, 2, 30, tzinfo=UTC)
    assert pdf_scanned_at(without) is None
    assert pdf_scanned_at(tmp_path / "missing.pdf") is None
