"""Tests for archive.verify: dev corpus expected flags, each rule on hand-made pages, the report contract."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archive.verify import (
    SEVERITIES,
    ClosingFact,
    ContentsEntry,
    ContentsFact,
    CoverFact,
    DossierContext,
    Finding,
    PageFact,
    documents_of,
    report,
    verify,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DEV = REPO_ROOT.parent / "shared" / "corpus" / "dev"
DOSSIER_IDS = [f"dev-{index:03d}" for index in range(1, 13)]
GROUND_TRUTH_ROLES = {"back_blank": "blank", "back_text": "document"}
FULL_COVER: dict[str, str | int | None] = {
    "agency": "CỤC QUẢN LÝ THỊ TRƯỜNG TỈNH LÀO CAI",
    "unit": "ĐỘI QUẢN LÝ THỊ TRƯỜNG SỐ 4",
    "dossier_code": "LCA.QLTT.2024.XLVP.191",
    "dossier_number": "98",
    "title": "Hồ sơ xử lý vi phạm hành chính",
    "start_date": "2024-11-23",
    "end_date": "2024-12-08",
    "sheet_count_declared": 3,
    "retention": "10 năm",
}


# ---- the dev corpus ---------------------------------------------------------------------------------


def load_ground_truth(dossier_id: str) -> dict[str, Any]:
    path = CORPUS_DEV / f"{dossier_id}.json"
    if not path.exists():
        pytest.skip(f"dev corpus not found at {path}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def facts_from_ground_truth(truth: dict[str, Any]) -> tuple[list[PageFact], CoverFact | None]:
    """Turn the generator's ground truth into what OCR would hand to verify (indices become 1-based).

    As with real reading, only a document's first page names its type, number and date.
    """
    firsts = {document["pages"][0]: document for document in truth["documents"]}
    pages = []
    for page in truth["pages"]:
        document = firsts.get(page["page_index"])
        pages.append(
            PageFact(
                page=page["page_index"] + 1,
                sheet_number=page["sheet_number"],
                sheet_confidence=1.0 if page["sheet_number"] is not None else None,
                rotation=page["rotation"],
                role=GROUND_TRUTH_ROLES.get(page["role"], page["role"]),
                doc_type=document["doc_type"] if document else None,
                doc_number=document["number"] if document else None,
                doc_date=document["date"] if document else None,
                dpi=float(truth["dpi"]),
            )
        )
    cover_truth = truth["cover"]
    if not cover_truth["present"]:
        return pages, None
    fields = {
        name: None if name in cover_truth["blank_fields"] else value for name, value in cover_truth["fields"].items()
    }
    return pages, CoverFact(page=cover_truth["page_index"] + 1, fields=fields)


def expected_flag(flag: dict[str, Any]) -> dict[str, Any]:
    """An expected flag with its 0-based page indices made 1-based."""
    converted = dict(flag)
    if "pages" in converted:
        converted["pages"] = [page + 1 for page in converted["pages"]]
    if "page" in converted:
        converted["page"] = converted["page"] + 1
    return converted


def canonical(flags: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(flag, sort_keys=True, ensure_ascii=False) for flag in flags)


@pytest.mark.parametrize("dossier_id", DOSSIER_IDS)
def test_dev_dossier_gives_exactly_the_expected_flags(dossier_id: str) -> None:
    truth = load_ground_truth(dossier_id)
    pages, cover = facts_from_ground_truth(truth)
    found = [{"code": finding.code, **finding.detail} for finding in verify(pages, cover)]
    assert canonical(found) == canonical([expected_flag(flag) for flag in truth["expected_flags"]])


@pytest.mark.parametrize("dossier_id", DOSSIER_IDS)
def test_dev_dossier_doc_types_are_carried_to_every_page_of_a_document(dossier_id: str) -> None:
    truth = load_ground_truth(dossier_id)
    pages, cover = facts_from_ground_truth(truth)
    result = report(dossier_id, "processed", pages, cover)
    expected = [page["doc_type"] if page["role"] in ("document", "back_text") else None for page in truth["pages"]]
    # A sheet scanned out of order (dev-003) lands inside another document: carrying forward cannot know.
    text_pages = {page["page_index"] for page in truth["pages"] if page["role"] != "back_blank"}
    moved = set()
    for document in truth["documents"]:
        span = set(range(document["pages"][0], document["pages"][-1] + 1))
        if (span & text_pages) - set(document["pages"]):
            moved |= span
    carried = [entry["doc_type"] for entry in result["pages"]]
    assert [carried[i] for i in range(len(carried)) if i not in moved] == [
        expected[i] for i in range(len(expected)) if i not in moved
    ]
    assert len(moved) <= 4
    in_scan_order = sorted(truth["documents"], key=lambda document: document["pages"][0])
    assert [d["number"] for d in result["documents"]] == [d["number"] for d in in_scan_order]


@pytest.mark.parametrize("dossier_id", DOSSIER_IDS)
def test_dev_dossier_sides_are_inferred_from_facts_alone(dossier_id: str) -> None:
    truth = load_ground_truth(dossier_id)
    pages, cover = facts_from_ground_truth(truth)
    inferred = [entry["side"] for entry in report(dossier_id, "processed", pages, cover)["pages"]]
    assert inferred == [page["side"] for page in truth["pages"]]


# ---- hand-made dossiers -----------------------------------------------------------------------------


def page(number: int, sheet_number: str | None = None, role: str = "document", rotation: int = 0) -> PageFact:
    return PageFact(
        page=number,
        sheet_number=sheet_number,
        sheet_confidence=None if sheet_number is None else 0.9,
        rotation=rotation,
        role=role,
        doc_type=None,
    )


def numbered(*sheet_numbers: str | None, first_page: int = 2) -> list[PageFact]:
    """Simplex document pages carrying these numbers, starting after a cover on page 1."""
    return [page(first_page + offset, number) for offset, number in enumerate(sheet_numbers)]


def cover(**fields: str | int | None) -> CoverFact:
    return CoverFact(page=1, fields={**FULL_COVER, **fields})


def with_cover(pages: list[PageFact], declared: int | None = None) -> list[Finding]:
    """Verify pages behind a complete cover that declares the right count unless told otherwise."""
    count = declared if declared is not None else sum(p.role == "document" for p in pages)
    return verify([page(1, role="cover"), *pages], cover(sheet_count_declared=count))


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def only(findings: list[Finding], code: str) -> Finding:
    matching = [finding for finding in findings if finding.code == code]
    assert len(matching) == 1, codes(findings)
    return matching[0]


def test_clean_dossier_has_no_findings() -> None:
    assert with_cover(numbered("1", "2", "3")) == []


def test_empty_dossier_without_cover_only_lacks_the_cover() -> None:
    assert codes(verify([], None)) == ["cover_missing"]


def test_empty_dossier_with_cover_counts_zero_sheets() -> None:
    finding = only(verify([], cover(sheet_count_declared=2)), "sheet_count_mismatch")
    assert finding.detail == {"declared": 2, "actual": 0}
    assert finding.pages == [1]


def test_cover_missing_is_an_error_without_pages() -> None:
    finding = only(verify(numbered("1", "2"), None), "cover_missing")
    assert (finding.severity, finding.pages, finding.detail) == ("error", [], {})


def test_blank_cover_fields_are_listed_in_form_order() -> None:
    findings = verify(
        [page(1, role="cover"), *numbered("1")],
        cover(retention="  ", dossier_number=None, sheet_count_declared=None),
    )
    finding = only(findings, "cover_field_blank")
    assert finding.detail == {"fields": ["dossier_number", "sheet_count_declared", "retention"]}
    assert finding.pages == [1]
    assert "Hồ sơ số" in finding.message_vi
    # A blank count cannot be compared, so there is no count mismatch on top.
    assert codes(findings) == ["cover_field_blank"]


def test_fields_the_reader_did_not_return_are_not_called_blank() -> None:
    findings = verify([page(1, role="cover"), *numbered("1")], CoverFact(page=1, fields={"title": "x"}))
    assert findings == []


def test_sheet_count_counts_document_fronts_only() -> None:
    pages = [page(2, role="toc"), *numbered("1", "2", first_page=3), page(5, role="closing")]
    assert with_cover(pages, declared=2) == []
    finding = only(with_cover(pages, declared=4), "sheet_count_mismatch")
    assert finding.detail == {"declared": 4, "actual": 2}


def test_sheet_count_includes_unnumbered_and_inserted_fronts() -> None:
    finding = only(with_cover(numbered("1", None, "1a", "2"), declared=3), "sheet_count_mismatch")
    assert finding.detail == {"declared": 3, "actual": 4}


def test_declared_count_given_as_text_is_compared_as_a_number() -> None:
    pages = [page(1, role="cover"), *numbered("1", "2")]
    assert verify(pages, cover(sheet_count_declared="2")) == []
    assert codes(verify(pages, cover(sheet_count_declared="3"))) == ["sheet_count_mismatch"]


def test_unnumbered_document_front_is_an_error() -> None:
    finding = only(with_cover(numbered("1", None, "2")), "unnumbered")
    assert (finding.severity, finding.pages, finding.detail) == ("error", [3], {"pages": [3]})


def test_all_unnumbered_is_reported_once_without_sequence_findings() -> None:
    assert [f.detail for f in with_cover(numbered(None, None, None))] == [{"pages": [2, 3, 4]}]


def test_unreadable_sheet_number_counts_as_unnumbered() -> None:
    finding = only(with_cover(numbered("1", "?", "2")), "unnumbered")
    assert finding.pages == [3]


def test_a_front_without_a_number_in_a_one_number_hole_is_doubtful_not_a_gap() -> None:
    # 1, (nothing read), 3: the reader most likely missed a "2"; no unnumbered, no gap.
    findings = with_cover(numbered("1", None, "3", "4"))
    assert codes(findings) == ["sheet_number_doubtful"]
    finding = only(findings, "sheet_number_doubtful")
    assert (finding.severity, finding.pages) == ("error", [3])
    assert finding.detail == {"pages": [3], "expected": ["2"], "read": [None]}
    assert "phải là số 2" in finding.message_vi


def test_a_doubtful_misread_makes_no_duplicate_nor_disorder() -> None:
    misread = page(3, "1")
    pages = [page(2, "1"), PageFact(3, "1", 0.3, 0, "document", None), page(4, "3")]
    findings = with_cover(pages)
    assert codes(findings) == ["sheet_number_doubtful", "low_confidence"]
    assert only(findings, "sheet_number_doubtful").detail["read"] == ["1"]
    # Read surely, the same "1" is a duplicate and leaves 2 missing.
    assert codes(with_cover([page(2, "1"), misread, page(4, "3")])) == ["duplicate", "gap"]


def test_a_doubtful_read_that_fits_its_place_is_only_low_confidence() -> None:
    pages = [page(2, "1"), PageFact(3, "2", 0.3, 0, "document", None), page(4, "3")]
    assert codes(with_cover(pages)) == ["low_confidence"]


def test_no_doubt_where_the_neighbours_leave_no_single_hole() -> None:
    # Two unread fronts in a two-number hole, or an unread front after the last number: real findings.
    assert codes(with_cover(numbered("1", None, None, "4"))) == ["unnumbered", "gap"]
    assert codes(with_cover(numbered("1", "2", None))) == ["unnumbered"]
    # The first front unread before a "2": doubtful (it should be 1).
    assert codes(with_cover(numbered(None, "2", "3"))) == ["sheet_number_doubtful"]


def failed(number: int, code: str = "page_unreadable") -> PageFact:
    """A page whose reading failed: the pipeline knows nothing of it but that it is there."""
    return PageFact(
        page=number,
        sheet_number=None,
        sheet_confidence=None,
        rotation=0,
        role="document",
        doc_type=None,
        error_code=code,
    )


def test_a_failed_page_is_reported_as_such_not_as_unnumbered_nor_as_a_gap() -> None:
    pages = [*numbered("1", "2", first_page=2), failed(4), *numbered("4", "5", first_page=5)]
    findings = with_cover(pages)
    assert codes(findings) == ["page_unreadable"]
    assert only(findings, "page_unreadable").pages == [4]


def test_a_failed_page_accounts_for_one_missing_number_only() -> None:
    pages = [*numbered("1", "2", first_page=2), failed(4, "page_timeout"), *numbered("5", "6", first_page=5)]
    findings = with_cover(pages)
    assert only(findings, "gap").detail == {"missing": ["4"]}
    assert "unnumbered" not in codes(findings)


def test_a_failed_page_elsewhere_does_not_hide_a_gap() -> None:
    pages = [failed(2), *numbered("1", "2", "4", first_page=3)]
    findings = with_cover(pages)
    assert only(findings, "gap").detail == {"missing": ["3"]}


def test_a_failed_first_page_may_carry_number_one() -> None:
    findings = with_cover([failed(2), *numbered("2", "3", first_page=3)])
    assert codes(findings) == ["page_unreadable"]


def test_blank_pages_and_front_only_roles_need_no_number() -> None:
    pages = [
        page(2, role="toc"),
        *numbered("1", first_page=3),
        page(4, role="blank"),
        page(5, role="closing"),
    ]
    assert with_cover(pages) == []


def test_duplicate_lists_every_page_with_the_number() -> None:
    findings = with_cover(numbered("1", "2", "2", "3", "2", "4", "4"))
    duplicates = [f.detail for f in findings if f.code == "duplicate"]
    assert duplicates == [{"number": "2", "pages": [3, 4, 6]}, {"number": "4", "pages": [7, 8]}]
    # Equal neighbours are not out of order; the "2" after "3" is.
    assert only(findings, "out_of_order").detail == {"pages": [6]}


def test_gap_reports_missing_numbers_at_the_next_sheet() -> None:
    finding = only(with_cover(numbered("1", "2", "5", "6", "8"), declared=5), "gap")
    assert finding.detail == {"missing": ["3", "4", "7"]}
    assert finding.pages == [4, 6]
    assert finding.message == "Sheet numbers missing: 3-4, 7."


def test_numbering_that_starts_above_one_misses_the_numbers_below() -> None:
    finding = only(with_cover(numbered("3", "4", "5")), "gap")
    assert finding.detail == {"missing": ["1", "2"]}
    assert finding.pages == [2]


def test_an_inserted_sheet_does_not_fill_a_missing_number() -> None:
    findings = with_cover(numbered("1", "2a", "3"))
    assert only(findings, "gap").detail == {"missing": ["2"]}
    assert only(findings, "inserted_sheet").detail == {"number": "2a", "page": 3}


def test_inserted_sheet_sorts_after_its_base_number() -> None:
    findings = with_cover(numbered("11", "12", "12a", "12b", "13", first_page=2), declared=5)
    assert "out_of_order" not in codes(findings)
    inserted = [f.detail for f in findings if f.code == "inserted_sheet"]
    assert inserted == [{"number": "12a", "page": 4}, {"number": "12b", "page": 5}]
    # Without a closing certificate nothing declares them.
    assert {f.severity for f in findings if f.code == "inserted_sheet"} == {"error"}


def test_inserted_sheet_before_its_base_number_is_out_of_order() -> None:
    assert only(with_cover(numbered("1", "2a", "2", "3")), "out_of_order").detail == {"pages": [4]}


def test_out_of_order_compares_with_the_previous_numbered_page() -> None:
    finding = only(with_cover(numbered("1", "2", "4", "3", "5")), "out_of_order")
    assert (finding.severity, finding.detail) == ("error", {"pages": [5]})


def test_upper_case_suffix_is_read_like_lower_case() -> None:
    findings = with_cover(numbered("1", "1A", "1a"))
    assert only(findings, "duplicate").detail == {"number": "1a", "pages": [3, 4]}


def test_orientation_findings_are_informational() -> None:
    pages = [page(2, "1", rotation=90), page(3, "2", rotation=180), page(4, "3", rotation=270)]
    findings = with_cover(pages)
    assert [(f.code, f.severity, f.detail) for f in findings] == [
        ("upside_down", "info", {"pages": [3]}),
        ("rotated", "info", {"pages": [2, 4], "rotations": [90, 270]}),
    ]
    assert report("d", "processed", [page(1, role="cover"), *pages], cover())["passed"]


def test_pages_are_judged_in_scan_order_whatever_order_they_arrive_in() -> None:
    assert with_cover(list(reversed(numbered("1", "2", "3")))) == []


# ---- numbering start, declared inserts and gaps, closing count -------------------------------------


def closing(**declared: Any) -> DossierContext:
    return DossierContext(closing=ClosingFact(page=99, **{"sheet_count": None, **declared}))


def test_numbering_that_does_not_start_at_one_names_the_first_numbered_page() -> None:
    finding = only(with_cover(numbered("2", "3", first_page=3)), "first_not_one")
    assert (finding.severity, finding.pages, finding.detail) == ("error", [3], {"number": "2", "page": 3})
    assert "01" in finding.message_vi
    assert "first_not_one" not in codes(with_cover(numbered("1", "2")))
    # A "01" stamp is normalised to "1" by the reader; "1a" first is not 1.
    assert only(with_cover(numbered("1a", "1")), "first_not_one").detail == {"number": "1a", "page": 2}


def test_inserted_sheet_declared_in_the_closing_certificate_is_information() -> None:
    pages = [page(1, role="cover"), *numbered("1", "1a", "2")]
    declared = verify(pages, cover(sheet_count_declared=3), closing(duplicates=("1a",)))
    assert [(f.code, f.severity) for f in declared] == [("inserted_sheet", "info")]
    undeclared = only(verify(pages, cover(sheet_count_declared=3), closing(duplicates=("2a",))), "inserted_sheet")
    assert undeclared.severity == "error"
    assert "không ghi nhận" in undeclared.message_vi


def test_gap_and_duplicate_declared_in_the_closing_certificate_are_warnings() -> None:
    pages = [page(1, role="cover"), *numbered("1", "2", "2", "4")]
    findings = verify(pages, cover(sheet_count_declared=4), closing(skipped=("3",), duplicates=("2",)))
    assert [(f.code, f.severity) for f in findings] == [("duplicate", "warning"), ("gap", "warning")]
    assert "chứng từ kết thúc" in findings[1].message_vi
    # Declaring only some of the missing numbers leaves the gap an error.
    partly = verify(
        [page(1, role="cover"), *numbered("1", "4")], cover(sheet_count_declared=2), closing(skipped=("3",))
    )
    assert only(partly, "gap").severity == "error"


def test_closing_count_must_match_the_sheets() -> None:
    pages = [page(1, role="cover"), *numbered("1", "2", "3")]
    assert verify(pages, cover(), closing(sheet_count=3)) == []
    finding = only(verify(pages, cover(), closing(sheet_count=5)), "closing_count_mismatch")
    assert (finding.severity, finding.pages, finding.detail) == ("error", [99], {"declared": 5, "actual": 3})


# ---- documents: types carried forward, contents, penalty cases --------------------------------------


def doc(number: int, sheet_number: str | None, doc_type: str | None = None, **more: Any) -> PageFact:
    return PageFact(number, sheet_number, 0.95 if sheet_number else None, 0, "document", doc_type, **more)


PENALTY_CASE = [
    doc(2, "1", "quyet_dinh_kiem_tra", doc_number="1/QĐ-KT", doc_date="2024-03-01"),
    doc(3, "2", "bien_ban_kiem_tra", doc_date="2024-03-02"),
    doc(4, "3"),
    doc(5, "4", "bien_ban_vi_pham_hanh_chinh", doc_date="2024-03-02"),
    doc(6, "5", "quyet_dinh_xu_phat", doc_number="7/QĐ-XPHC", doc_date="2024-03-09"),
]


def test_pages_without_a_header_belong_to_the_document_before_them() -> None:
    pages = [
        page(1, role="toc"),
        doc(2, None),  # before any header: no document
        doc(3, "1", "quyet_dinh_kiem_tra"),
        doc(4, "2", "bien_ban_kiem_tra"),
        doc(5, "3"),
        page(6, role="blank"),  # a back: neither continues nor closes
        doc(7, None),
        page(8, role="closing"),  # closes the open document
        doc(9, None),
    ]
    documents = documents_of(pages)
    assert [(d.doc_type, d.pages) for d in documents] == [
        ("quyet_dinh_kiem_tra", [3]),
        ("bien_ban_kiem_tra", [4, 5, 7]),
    ]
    carried = [entry["doc_type"] for entry in report("d", "processed", pages, None)["pages"]]
    assert carried == [
        None,
        None,
        "quyet_dinh_kiem_tra",
        "bien_ban_kiem_tra",
        "bien_ban_kiem_tra",
        None,
        "bien_ban_kiem_tra",
        None,
        None,
    ]


def test_contents_that_match_the_documents_give_no_finding() -> None:
    entries = tuple(ContentsEntry(d.doc_type) for d in PENALTY_CASE if d.doc_type)
    context = DossierContext(contents=ContentsFact(page=1, entries=entries))
    assert "toc_mismatch" not in codes(verify(PENALTY_CASE, None, context))


def test_contents_mismatch_lists_missing_and_unlisted_documents() -> None:
    entries = (
        ContentsEntry("quyet_dinh_kiem_tra", "1/QĐ-KT", "1"),
        ContentsEntry("bien_ban_kiem_tra"),
        ContentsEntry("bien_ban_kiem_tra"),
        ContentsEntry("bien_ban_vi_pham_hanh_chinh"),
    )
    context = DossierContext(contents=ContentsFact(page=1, entries=entries))
    finding = only(verify(PENALTY_CASE, None, context), "toc_mismatch")
    assert finding.severity == "warning"
    assert finding.detail == {"missing": ["bien_ban_kiem_tra"], "unlisted": ["quyet_dinh_xu_phat"]}
    assert finding.pages == [1, 6]
    assert "Quyết định xử phạt" in finding.message_vi and "Biên bản kiểm tra" in finding.message_vi


def test_penalty_case_lacking_a_required_document() -> None:
    assert "document_missing" not in codes(verify(PENALTY_CASE, None))
    without_inspection = [p for p in PENALTY_CASE if p.doc_type not in ("quyet_dinh_kiem_tra", "bien_ban_kiem_tra")]
    finding = only(verify(without_inspection, None), "document_missing")
    assert (finding.severity, finding.detail) == ("error", {"doc_types": ["quyet_dinh_kiem_tra", "bien_ban_kiem_tra"]})
    assert finding.pages == [5, 6]
    assert "Quyết định kiểm tra" in finding.message_vi


def test_a_case_without_violation_record_or_penalty_is_not_a_penalty_case() -> None:
    inspection_only = PENALTY_CASE[:3]
    assert "document_missing" not in codes(verify(inspection_only, None))


# ---- reading quality, resolution, timeliness --------------------------------------------------------


def test_low_confidence_points_at_doubtful_sheet_numbers_and_text() -> None:
    pages = [doc(2, "1"), PageFact(3, "2", 0.4, 0, "document", None), doc(4, "3", mean_confidence=0.3)]
    pages.append(PageFact(5, None, None, 0, "blank", None, mean_confidence=0.1))
    finding = only(with_cover(pages, declared=3), "low_confidence")
    assert (finding.severity, finding.pages) == ("warning", [3, 4])
    assert finding.detail == {"pages": [3, 4], "sheet_numbers": [3], "text": [4]}


def test_low_resolution_pages_are_an_error() -> None:
    pages = [doc(2, "1", dpi=300.0), doc(3, "2", dpi=150.0), doc(4, "3", dpi=199.8)]
    finding = only(with_cover(pages), "low_resolution")
    assert (finding.severity, finding.pages, finding.detail) == ("error", [3], {"pages": [3], "dpi": [150]})
    assert "200 dpi" in finding.message_vi


def test_late_digitization_counts_48_hours_from_the_end_of_the_latest_document_day() -> None:
    # Latest document: 2024-03-09 (Vietnam time); the day ends 2024-03-09T17:00Z, the limit is 48 h later.
    in_time = DossierContext(uploaded_at=datetime(2024, 3, 11, 16, 59, tzinfo=UTC))
    assert "late_digitization" not in codes(verify(PENALTY_CASE, None, in_time))
    late = DossierContext(uploaded_at=datetime(2024, 3, 12, 17, 0, tzinfo=UTC))
    finding = only(verify(PENALTY_CASE, None, late), "late_digitization")
    assert (finding.severity, finding.pages) == ("warning", [6])
    assert finding.detail == {
        "latest_document_date": "2024-03-09",
        "uploaded_at": "2024-03-12T17:00:00+00:00",
        "hours": 72,
    }
    assert "09/03/2024" in finding.message_vi


def test_late_digitization_ignores_dates_after_the_upload_and_needs_an_upload_time() -> None:
    future = [*PENALTY_CASE, doc(7, "6", "cong_van", doc_date="2030-01-01")]
    late = DossierContext(uploaded_at=datetime(2024, 3, 20, tzinfo=UTC))
    assert only(verify(future, None, late), "late_digitization").detail["latest_document_date"] == "2024-03-09"
    assert "late_digitization" not in codes(verify(PENALTY_CASE, None))


# ---- duplex side inference --------------------------------------------------------------------------


def duplex(*sheets: tuple[str | None, str], back: str = "blank") -> list[PageFact]:
    """Pages of a duplex scan: each (sheet_number, role) front followed by a back of the given role."""
    pages: list[PageFact] = []
    for sheet_number, role in sheets:
        pages.append(page(len(pages) + 1, sheet_number, role=role))
        pages.append(page(len(pages) + 1, role=back))
    return pages


def test_duplex_backs_with_text_are_not_unnumbered() -> None:
    pages = [page(1, role="cover"), page(2, role="blank"), page(3, "1"), page(4), page(5, "2"), page(6)]
    pages += [page(7, "3"), page(8, role="blank")]
    assert verify(pages, cover(sheet_count_declared=3)) == []
    sides = [entry["side"] for entry in report("d", "processed", pages, cover())["pages"]]
    assert sides == ["front", "back"] * 4


def test_duplex_front_without_number_is_still_unnumbered() -> None:
    pages = duplex((None, "cover"), ("1", "document"), (None, "document"), ("2", "document"))
    assert only(verify(pages, cover(sheet_count_declared=3)), "unnumbered").pages == [5]


def test_number_at_a_blank_page_parity_means_the_scan_is_not_duplex() -> None:
    # A blank separator sheet in a one-sided scan: every unnumbered document page is a front.
    pages = [page(1, role="cover"), page(2, "1"), page(3, role="blank"), page(4, "2"), page(5)]
    findings = verify(pages, cover(sheet_count_declared=3))
    assert only(findings, "unnumbered").pages == [5]
    assert {entry["side"] for entry in report("d", "processed", pages, cover())["pages"]} == {"front"}


def test_blank_pages_at_both_parities_mean_the_scan_is_not_duplex() -> None:
    pages = [page(1, role="cover"), page(2, role="blank"), page(3, "1"), page(4), page(5, role="blank")]
    assert only(verify(pages, cover(sheet_count_declared=2)), "unnumbered").pages == [4]


def test_without_blank_pages_every_page_is_a_front() -> None:
    pages = [page(1, role="cover"), page(2), page(3), page(4)]
    assert only(verify(pages, cover(sheet_count_declared=3)), "unnumbered").pages == [2, 3, 4]


def test_duplex_sheet_count_ignores_backs() -> None:
    pages = duplex((None, "cover"), ("1", "document"), ("2", "document"), back="document")
    pages[1] = page(2, role="blank")
    assert verify(pages, cover(sheet_count_declared=2)) == []


# ---- report contract --------------------------------------------------------------------------------


def test_report_follows_the_contract() -> None:
    pages = [page(1, role="cover"), page(2, "1"), page(3, "2", rotation=180), page(4, "2")]
    result = report("dev-x", "processed", pages, cover(dossier_number=None))
    json.dumps(result)
    assert list(result) == ["dossier_id", "status", "page_count", "pages", "cover", "documents", "findings", "passed"]
    assert (result["dossier_id"], result["status"], result["page_count"]) == ("dev-x", "processed", 4)
    for entry in result["pages"]:
        assert set(entry) == {
            "page",
            "sheet_number",
            "sheet_confidence",
            "rotation",
            "role",
            "doc_type",
            "side",
        }
        assert isinstance(entry["page"], int)
        assert entry["rotation"] in (0, 90, 180, 270)
        assert entry["side"] in ("front", "back")
    assert result["pages"][0]["sheet_number"] is None
    assert result["pages"][1]["sheet_confidence"] == 0.9
    assert result["cover"] == {
        "present": True,
        "page": 1,
        "fields": {**FULL_COVER, "dossier_number": None},
        "blank_fields": ["dossier_number"],
    }
    for finding in result["findings"]:
        assert list(finding) == ["code", "severity", "pages", "detail", "message", "message_vi"]
        assert finding["severity"] in ("error", "warning", "info")
        assert all(isinstance(number, int) for number in finding["pages"])
        assert isinstance(finding["detail"], dict)
        assert finding["message"] and finding["message_vi"]
    assert [f["code"] for f in result["findings"]] == ["cover_field_blank", "duplicate", "upside_down"]
    assert result["passed"] is False


def test_report_without_cover() -> None:
    result = report("dev-y", "processed", numbered("1", first_page=1), None)
    assert result["cover"] == {"present": False, "page": None, "fields": {}, "blank_fields": []}
    assert [f["code"] for f in result["findings"]] == ["cover_missing"]
    assert result["passed"] is False


def test_report_passes_with_warnings_and_info_only() -> None:
    doubtful_two = PageFact(4, "2", 0.3, 0, "document", None)
    pages = [page(1, role="cover"), page(2, "1"), page(3, "1a", rotation=90), doubtful_two, page(5, role="closing")]
    closing = ClosingFact(page=5, sheet_count=3, duplicates=("1a",))
    result = report("dev-z", "processed", pages, cover(), DossierContext(closing=closing))
    assert [(f["code"], f["severity"]) for f in result["findings"]] == [
        ("inserted_sheet", "info"),
        ("low_confidence", "warning"),
        ("rotated", "info"),
    ]
    assert result["passed"] is True


def test_finding_to_dict_is_a_copy() -> None:
    finding = only(with_cover(numbered("1", "1")), "duplicate")
    as_dict = finding.to_dict()
    as_dict["detail"]["pages"].append(99)
    as_dict["pages"].append(99)
    assert finding.detail["pages"] == [2, 3] and finding.pages == [2, 3]


def test_every_code_is_documented_with_its_severity() -> None:
    docs = (REPO_ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    for code, severity in SEVERITIES.items():
        assert re.search(rf"^\| `{code}` \| {severity} \|", docs, re.MULTILINE), code
