"""Archivist's acceptance rules for a scanned dossier: cover, sheet numbers (bút lục), contents, scan quality.

The rules judge page facts that OCR has already extracted; they never look at pixels, touch the database
or do I/O, so the same facts always give the same findings and the rules can be tested on hand-made
page lists. Each rule is a small ``_check_*`` function returning findings with a severity (the shape of
paperless-ngx's sanity checker); ``verify`` runs them in a fixed order and ``report`` wraps the result in
the JSON contract that the web UI, the API and the CLI read. Severities and their reasons are written
down in docs/verification.md.
"""

import copy
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"

# One place for severities, so docs/verification.md can be checked against it.
SEVERITIES: dict[str, str] = {
    "cover_missing": ERROR,
    "cover_field_blank": ERROR,
    "sheet_count_mismatch": ERROR,
    "unnumbered": ERROR,
    # A front whose number was not read, or read with low confidence against its neighbours, exactly where
    # one number is missing between them: most likely a misread, not a defect; a person confirms it.
    "sheet_number_doubtful": ERROR,
    "duplicate": ERROR,
    "gap": ERROR,
    "out_of_order": ERROR,
    "first_not_one": ERROR,
    # A letter suffix is the sanctioned way to insert a sheet after numbering: legitimate only when the
    # closing certificate declares it; a declared one is reported as INFO (see _check_inserted_sheets).
    "inserted_sheet": ERROR,
    "closing_count_mismatch": ERROR,
    "document_missing": ERROR,
    # Decree 30/2020 annex I: scans of at least 200 dpi; a rescan fixes it.
    "low_resolution": ERROR,
    # Read from an OCR'd table, so a person confirms before anyone acts on it.
    "toc_mismatch": WARNING,
    "low_confidence": WARNING,
    # A fact about the team's timing, not a defect of the dossier that a rescan could fix.
    "late_digitization": WARNING,
    # Scan accidents: the pipeline has already turned the page upright.
    "upside_down": INFO,
    "rotated": INFO,
    # The page could not be read (it failed, crashed its reader or kept killing its worker), or took longer
    # than HOSO_OCR_PAGE_TIMEOUT: nothing on it was checked, so a person looks at it or it is rescanned.
    "page_unreadable": ERROR,
    "page_timeout": ERROR,
}

# The documents every penalty case holds (Law on Handling Administrative Violations: inspection decision,
# inspection record, violation record, penalty decision). A case is a penalty case when it holds a
# violation record or a penalty decision.
PENALTY_CASE_DOCUMENTS: tuple[str, ...] = (
    "quyet_dinh_kiem_tra",
    "bien_ban_kiem_tra",
    "bien_ban_vi_pham_hanh_chinh",
    "quyet_dinh_xu_phat",
)
_PENALTY_CASE_MARKERS = frozenset({"bien_ban_vi_pham_hanh_chinh", "quyet_dinh_xu_phat"})
DOC_TYPE_NAMES_VI: dict[str, str] = {
    "quyet_dinh_kiem_tra": "Quyết định kiểm tra",
    "bien_ban_kiem_tra": "Biên bản kiểm tra",
    "bien_ban_vi_pham_hanh_chinh": "Biên bản vi phạm hành chính",
    "quyet_dinh_tam_giu": "Quyết định tạm giữ",
    "bien_ban_tam_giu": "Biên bản tạm giữ",
    "phu_luc_bang_ke": "Phụ lục bảng kê",
    "bao_cao": "Báo cáo",
    "cong_van": "Công văn",
    "quyet_dinh_xu_phat": "Quyết định xử phạt",
    "bien_ban_giao_nhan": "Biên bản giao nhận",
}
# Below this a sheet-number read is shown to a person (the reader's votes agree on less than 60%).
LOW_SHEET_CONFIDENCE = 0.6
# Below this mean word confidence a page's text (and so its document type) is doubtful.
LOW_TEXT_CONFIDENCE = 0.5
# Decree 30/2020/NĐ-CP annex I: scanned at 200 dpi or more. Half a dpi of slack for rounding.
MIN_DPI = 200
# Circular 22/2021/TT-BCT art. 7.4: paper documents digitised within 48 hours of signing.
DIGITIZATION_HOURS = 48
# Document dates are calendar days in Vietnam; the 48 hours run from the end of that day.
VIETNAM_TIME = timezone(timedelta(hours=7))

# The fields printed on a cover, in the order they appear on the form.
COVER_FIELDS: tuple[str, ...] = (
    "agency",
    "unit",
    "dossier_code",
    "dossier_number",
    "title",
    "start_date",
    "end_date",
    "sheet_count_declared",
    "retention",
)
_COVER_LABELS_EN = {
    "agency": "agency",
    "unit": "unit",
    "dossier_code": "dossier code",
    "dossier_number": "dossier number",
    "title": "title",
    "start_date": "start date",
    "end_date": "end date",
    "sheet_count_declared": "sheet count",
    "retention": "retention period",
}
COVER_LABELS_VI = {
    "agency": "Tên cơ quan",
    "unit": "Tên đơn vị",
    "dossier_code": "Mã hồ sơ",
    "dossier_number": "Hồ sơ số",
    "title": "Tiêu đề hồ sơ",
    "start_date": "Từ ngày",
    "end_date": "Đến ngày",
    "sheet_count_declared": "Gồm … tờ",
    "retention": "Thời hạn bảo quản",
}

# Roles that only ever sit on the front of a sheet.
_FRONT_ONLY_ROLES = frozenset({"cover", "toc", "closing"})
_SHEET_NUMBER = re.compile(r"([0-9]+)([a-z]*)")

SheetKey = tuple[int, str]
"""A sheet number as (integer, letter suffix): sorts "12" < "12a" < "12b" < "13"."""


@dataclass(frozen=True)
class PageFact:
    """What OCR established about one page; the only input the rules see."""

    page: int  # 1-based, scan order
    sheet_number: str | None  # normalised ("7", "12a") or None
    sheet_confidence: float | None
    rotation: int  # 0/90/180/270 as stored (content turned clockwise by this)
    role: str  # "cover" | "toc" | "document" | "closing" | "blank"
    doc_type: str | None  # from this page's own header; continuation pages have None
    doc_number: str | None = None  # "194/QĐ-KT", from the same header
    doc_date: str | None = None  # YYYY-MM-DD, from the same header
    dpi: float | None = None  # effective scan resolution
    mean_confidence: float | None = None  # mean OCR word confidence, 0..1
    error_code: str | None = None  # why the page could not be read: "page_unreadable" or "page_timeout"


@dataclass(frozen=True)
class ContentsEntry:
    """One row of the table of contents (mục lục văn bản) as far as OCR could read it."""

    doc_type: str | None
    number: str | None = None
    sheets: str | None = None  # the "Tờ số" cell as printed: "3-4", "7", "6-6a"


@dataclass(frozen=True)
class ContentsFact:
    """The table of contents page and its rows."""

    page: int
    entries: tuple[ContentsEntry, ...]


@dataclass(frozen=True)
class ClosingFact:
    """What the closing certificate (chứng từ kết thúc) declares; numbers are normalised sheet numbers."""

    page: int
    sheet_count: int | None  # "Hồ sơ này gồm có: N tờ"
    duplicates: tuple[str, ...] = ()  # "tờ số trùng": repeated or lettered numbers, e.g. "12a"
    skipped: tuple[str, ...] = ()  # "tờ số khuyết": numbers deliberately not used


@dataclass(frozen=True)
class Document:
    """One document of the dossier: its first page carries the header, the pages after it continue it."""

    doc_type: str
    pages: list[int]
    number: str | None
    date: str | None


@dataclass(frozen=True)
class CoverFact:
    """The cover page and the values read after its labels; a value of None means printed blank."""

    page: int
    fields: dict[str, str | int | None]


@dataclass(frozen=True)
class Finding:
    """One problem found in a dossier, worded for the archivist in English and Vietnamese."""

    code: str
    severity: str  # "error" | "warning" | "info"
    pages: list[int]
    detail: dict[str, Any]
    message: str
    message_vi: str

    def to_dict(self) -> dict[str, Any]:
        """Copy into plain JSON types, so callers cannot mutate the finding through the result."""
        return {
            "code": self.code,
            "severity": self.severity,
            "pages": list(self.pages),
            "detail": copy.deepcopy(self.detail),
            "message": self.message,
            "message_vi": self.message_vi,
        }


@dataclass(frozen=True)
class DossierContext:
    """Facts about the dossier beyond its pages: what its contents and closing pages declare, and when it
    was uploaded (an aware datetime). Every part is optional; a rule without its input stays silent."""

    contents: ContentsFact | None = None
    closing: ClosingFact | None = None
    uploaded_at: datetime | None = None
    # When the paper was scanned, from the PDF's own metadata (the scanner writes it); closer to the act of
    # digitising than the upload, so the 48-hour rule prefers it.
    scanned_at: datetime | None = None


@dataclass(frozen=True)
class _Dossier:
    """The facts every rule shares: the pages in scan order, the side each page is on, the documents."""

    pages: list[PageFact]
    sides: dict[int, str]
    cover: CoverFact | None
    documents: list[Document] = field(default_factory=list)
    context: DossierContext = field(default_factory=DossierContext)
    # Doubtful fronts (see _doubtful_fronts): page -> the number its neighbours say it carries.
    doubtful: dict[int, int] = field(default_factory=dict)

    @property
    def sheet_fronts(self) -> list[PageFact]:
        """Fronts of document sheets: what gets a number and what "Gồm: N tờ" counts."""
        return _sheet_fronts(self.pages, self.sides)

    @property
    def numbered(self) -> list[tuple[PageFact, SheetKey]]:
        """Pages carrying a usable sheet number, in scan order; doubtful reads take no part."""
        return [(p, key) for p, key in _numbered(self.pages) if p.page not in self.doubtful]


def _sheet_fronts(pages: Sequence[PageFact], sides: dict[int, str]) -> list[PageFact]:
    return [p for p in pages if p.role == "document" and sides[p.page] == "front"]


def _numbered(pages: Sequence[PageFact]) -> list[tuple[PageFact, SheetKey]]:
    keyed = [(p, _sheet_key(p.sheet_number)) for p in pages]
    return [(p, key) for p, key in keyed if key is not None]


def _doubtful_fronts(pages: Sequence[PageFact], sides: dict[int, str]) -> dict[int, int]:
    """Fronts whose number the reader missed or doubted (confidence below LOW_SHEET_CONFIDENCE) and that
    sit exactly in a one-number hole between surely read plain numbers (4 ... 6, or the start ... 2), the
    doubtful read not being the number that fits. A sheet the clerk left unnumbered leaves no hole (the
    numbering goes on), and a lost sheet leaves a hole with no page in it; a page in the hole is far more
    likely a number the machine could not read. Such pages are judged by no sequence rule (no
    `unnumbered`, `gap`, `duplicate`, `out_of_order` built on a misread) but reported as
    `sheet_number_doubtful`, an error a person clears by looking at one page."""
    fronts = [p for p in _sheet_fronts(pages, sides) if p.error_code is None]
    candidates = {
        p.page
        for p in fronts
        if _sheet_key(p.sheet_number) is None
        or (p.sheet_confidence is not None and p.sheet_confidence < LOW_SHEET_CONFIDENCE)
    }
    sure = [(p.page, key) for p, key in _numbered(pages) if p.page not in candidates]
    doubtful = {}
    for page in sorted(candidates):
        before_page, before = next(((q, key) for q, key in reversed(sure) if q < page), (0, (0, "")))
        after_page, after = next(((q, key) for q, key in sure if q > page), (0, None))
        if after is None or before[1] or after[1] or after[0] != before[0] + 2:
            continue
        alone = sum(before_page < p.page < after_page for p in fronts) == 1
        read = _sheet_key(next(p.sheet_number for p in fronts if p.page == page))
        if alone and read != (before[0] + 1, ""):
            doubtful[page] = before[0] + 1
    return doubtful


def verify(pages: Sequence[PageFact], cover: CoverFact | None, context: DossierContext | None = None) -> list[Finding]:
    """Run every rule over one dossier's page facts; findings come rule by rule, then in page order."""
    return _run_checks(_dossier(pages, cover, context))


def report(
    dossier_id: str,
    status: str,
    pages: Sequence[PageFact],
    cover: CoverFact | None,
    context: DossierContext | None = None,
) -> dict[str, Any]:
    """The verification report in the JSON contract other components read (see docs/verification.md).

    A page's ``doc_type`` is that of the document it belongs to (carried forward from the document's
    first page); ``documents`` lists the documents found. Both are additive to the issue-2 contract.
    """
    dossier = _dossier(pages, cover, context)
    findings = _run_checks(dossier)
    carried = _carried_doc_types(dossier.documents)
    return {
        "dossier_id": dossier_id,
        "status": status,
        "page_count": len(dossier.pages),
        "pages": [
            {
                "page": p.page,
                "sheet_number": p.sheet_number,
                "sheet_confidence": p.sheet_confidence,
                "rotation": p.rotation,
                "role": p.role,
                "doc_type": carried.get(p.page),
                "side": dossier.sides[p.page],
            }
            for p in dossier.pages
        ],
        "cover": _cover_dict(cover),
        "documents": [
            {"doc_type": d.doc_type, "number": d.number, "date": d.date, "pages": list(d.pages)}
            for d in dossier.documents
        ],
        "findings": [finding.to_dict() for finding in findings],
        "passed": not any(finding.severity == ERROR for finding in findings),
    }


def documents_of(pages: Sequence[PageFact]) -> list[Document]:
    """Group pages into documents: a page whose header names a type opens one; the pages after it belong to it.

    A document page without a header of its own (a continuation, a text back) continues the open
    document; blank pages neither continue nor close it (they are backs); the cover, the table of contents
    and the closing sheet close it. Document pages before any header belong to no document.
    """
    documents: list[Document] = []
    current: Document | None = None
    for page in sorted(pages, key=lambda p: p.page):
        if page.role == "document" and page.doc_type is not None:
            current = Document(page.doc_type, [page.page], page.doc_number, page.doc_date)
            documents.append(current)
        elif page.role == "document" and current is not None:
            current.pages.append(page.page)
        elif page.role != "blank":
            current = None
    return documents


def _carried_doc_types(documents: list[Document]) -> dict[int, str]:
    return {page: document.doc_type for document in documents for page in document.pages}


def _dossier(pages: Sequence[PageFact], cover: CoverFact | None, context: DossierContext | None) -> _Dossier:
    ordered = sorted(pages, key=lambda p: p.page)
    sides = _infer_sides(ordered)
    return _Dossier(
        pages=ordered,
        sides=sides,
        cover=cover,
        documents=documents_of(ordered),
        context=context or DossierContext(),
        doubtful=_doubtful_fronts(ordered, sides),
    )


def _run_checks(dossier: _Dossier) -> list[Finding]:
    return [finding for check in _CHECKS for finding in check(dossier)]


def _infer_sides(pages: Sequence[PageFact]) -> dict[int, str]:
    """Decide front/back for every page from the facts alone.

    A duplex scan alternates front and back. We call a dossier duplex when it has blank pages, all of
    them at the same page parity, and no page that can only be a front (a sheet number, the cover, the
    table of contents, the closing sheet) sits at that parity; every page at the blanks' parity is then a
    back, including backs that carry the next page of a two-sided document. Otherwise every page is a
    front. Limits are described in docs/verification.md.
    """
    blank_parities = {p.page % 2 for p in pages if p.role == "blank"}
    if len(blank_parities) == 1:
        back_parity = blank_parities.pop()
        front_only = [p for p in pages if p.sheet_number is not None or p.role in _FRONT_ONLY_ROLES]
        if all(p.page % 2 != back_parity for p in front_only):
            return {p.page: "back" if p.page % 2 == back_parity else "front" for p in pages}
    return {p.page: "front" for p in pages}


def _sheet_key(sheet_number: str | None) -> SheetKey | None:
    """Parse "12" or "12a"; anything else is no usable number (and so reported as unnumbered)."""
    if sheet_number is None:
        return None
    match = _SHEET_NUMBER.fullmatch(sheet_number.strip().lower())
    return (int(match[1]), match[2]) if match else None


def _sheet_label(key: SheetKey) -> str:
    return f"{key[0]}{key[1]}"


def _is_blank(value: str | int | None) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_fields(cover: CoverFact) -> list[str]:
    """Cover fields printed empty. A field the reader did not return at all is unknown, not blank."""
    return [name for name in COVER_FIELDS if name in cover.fields and _is_blank(cover.fields[name])]


def _declared_count(value: str | int | None) -> int | None:
    """The "Gồm: N tờ" count as an int, or None when it is blank or not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        return int(value.strip())
    return None


def _cover_dict(cover: CoverFact | None) -> dict[str, Any]:
    if cover is None:
        return {"present": False, "page": None, "fields": {}, "blank_fields": []}
    return {
        "present": True,
        "page": cover.page,
        "fields": dict(cover.fields),
        "blank_fields": _blank_fields(cover),
    }


def _finding(
    code: str, pages: list[int], detail: dict[str, Any], message: str, message_vi: str, severity: str | None = None
) -> Finding:
    return Finding(code, severity or SEVERITIES[code], pages, detail, message, message_vi)


def _declared(numbers: Sequence[str]) -> set[SheetKey]:
    return {key for key in (_sheet_key(number) for number in numbers) if key is not None}


def _page_list(pages: list[int]) -> str:
    return ", ".join(str(page) for page in pages)


def _pages_en(pages: list[int]) -> str:
    return ("page " if len(pages) == 1 else "pages ") + _page_list(pages)


def _number_ranges(numbers: list[int]) -> str:
    """Write [1, 2, 3, 7] as "1-3, 7": a misread number can open a long gap; messages stay short."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def _check_cover_missing(dossier: _Dossier) -> list[Finding]:
    """The cover identifies the dossier and declares its sheet count; without it nothing can be checked."""
    if dossier.cover is not None:
        return []
    return [_finding("cover_missing", [], {}, "No cover sheet was found.", "Không tìm thấy bìa hồ sơ.")]


def _check_cover_fields(dossier: _Dossier) -> list[Finding]:
    """Every field on the cover form must be filled in before the dossier is accepted."""
    if dossier.cover is None:
        return []
    blank = _blank_fields(dossier.cover)
    if not blank:
        return []
    return [
        _finding(
            "cover_field_blank",
            [dossier.cover.page],
            {"fields": blank},
            "Cover fields left blank: " + ", ".join(_COVER_LABELS_EN[name] for name in blank) + ".",
            "Bìa hồ sơ còn để trống: " + ", ".join(COVER_LABELS_VI[name] for name in blank) + ".",
        )
    ]


def _check_sheet_count(dossier: _Dossier) -> list[Finding]:
    """The declared "Gồm: N tờ" must equal the document sheet fronts (no cover, contents, closing, backs)."""
    if dossier.cover is None:
        return []
    declared = _declared_count(dossier.cover.fields.get("sheet_count_declared"))
    actual = len(dossier.sheet_fronts)
    if declared is None or declared == actual:
        return []
    return [
        _finding(
            "sheet_count_mismatch",
            [dossier.cover.page],
            {"declared": declared, "actual": actual},
            f"The cover declares {declared} sheets but the dossier has {actual} document sheets.",
            f"Bìa ghi gồm {declared} tờ nhưng hồ sơ có {actual} tờ tài liệu.",
        )
    ]


def _check_unnumbered(dossier: _Dossier) -> list[Finding]:
    """Every document sheet front carries a number; backs never do, so they are not asked for one. A page
    that could not be read is not called unnumbered: nobody looked for its number, and its page failure
    finding already sends a person to it."""
    pages = [
        p.page
        for p in dossier.sheet_fronts
        if _sheet_key(p.sheet_number) is None and p.error_code is None and p.page not in dossier.doubtful
    ]
    if not pages:
        return []
    return [
        _finding(
            "unnumbered",
            pages,
            {"pages": pages},
            f"Document sheet without a sheet number on {_pages_en(pages)}.",
            f"Tờ tài liệu chưa đánh số tờ ở trang {_page_list(pages)}.",
        )
    ]


def _check_doubtful_numbers(dossier: _Dossier) -> list[Finding]:
    """Fronts read as no number or a doubtful one, exactly where the neighbours leave one number out."""
    if not dossier.doubtful:
        return []
    pages = sorted(dossier.doubtful)
    expected = [str(dossier.doubtful[page]) for page in pages]
    read = {p.page: p.sheet_number for p in dossier.pages}
    return [
        _finding(
            "sheet_number_doubtful",
            pages,
            {"pages": pages, "expected": expected, "read": [read[page] for page in pages]},
            f"Sheet number not read with certainty on {_pages_en(pages)}; by their neighbours they should be "
            + ", ".join(expected)
            + ".",
            f"Không đọc chắc chắn được số tờ ở trang {_page_list(pages)}; theo các tờ liền kề phải là số "
            + ", ".join(expected)
            + "; cần người kiểm tra.",
        )
    ]


def _check_duplicates(dossier: _Dossier) -> list[Finding]:
    """A number may be used once; a second sheet with it must be renumbered or marked as inserted (12a)."""
    pages_by_key: dict[SheetKey, list[int]] = {}
    for page, key in dossier.numbered:
        pages_by_key.setdefault(key, []).append(page.page)
    duplicates = sorted((pages, key) for key, pages in pages_by_key.items() if len(pages) > 1)
    closing = dossier.context.closing
    declared = _declared(closing.duplicates) if closing is not None else set()
    return [
        _finding(
            "duplicate",
            pages,
            {"number": _sheet_label(key), "pages": pages},
            f"Sheet number {_sheet_label(key)} is used on {_pages_en(pages)}"
            + (", as the closing certificate declares." if key in declared else "."),
            f"Số tờ {_sheet_label(key)} bị trùng ở các trang {_page_list(pages)}"
            + (" (đã ghi trong chứng từ kết thúc)." if key in declared else "."),
            severity=WARNING if key in declared else None,
        )
        for pages, key in duplicates
    ]


def _check_gaps(dossier: _Dossier) -> list[Finding]:
    """Numbers run 1..highest without holes; a hole is a lost sheet or a skipped number.

    Only plain numbers fill a slot: "6a" is inserted after 6 and does not stand in for a missing 6.
    Numbering that starts above 1 reports the numbers below it as missing. The finding points at the
    pages where the missing sheets should be: the next numbered sheet after each missing number.
    """
    numbered = dossier.numbered
    if not numbered:
        return []
    present = {key[0] for _, key in numbered if not key[1]}
    highest = max(key[0] for _, key in numbered)
    missing = [number for number in range(1, highest + 1) if number not in present]
    missing = [number for number in missing if number not in dossier.doubtful.values()]
    missing = [number for number in missing if number not in _numbers_unread_pages_may_hold(dossier, missing)]
    if not missing:
        return []
    next_pages = {min((key, page.page) for page, key in numbered if key > (number, ""))[1] for number in missing}
    pages = sorted(next_pages)
    closing = dossier.context.closing
    declared = closing is not None and {(number, "") for number in missing} <= _declared(closing.skipped)
    return [
        _finding(
            "gap",
            pages,
            {"missing": [str(number) for number in missing]},
            f"Sheet numbers missing: {_number_ranges(missing)}"
            + (", as the closing certificate declares." if declared else "."),
            f"Khuyết số tờ: {_number_ranges(missing)}" + (" (đã ghi trong chứng từ kết thúc)." if declared else "."),
            severity=WARNING if declared else None,
        )
    ]


def _numbers_unread_pages_may_hold(dossier: _Dossier, missing: list[int]) -> set[int]:
    """Missing numbers that a page nobody could read may carry: a page that failed between the sheets
    numbered 4 and 6 probably is sheet 5, and calling 5 lost would send the archivist after a sheet that
    is in the scan. Each unread page accounts for at most one number, the lowest that fits between the
    numbered pages around it (by their integer part)."""
    numbered = dossier.numbered
    held: set[int] = set()
    for page in dossier.pages:
        if page.error_code is None:
            continue
        before = next((key[0] for p, key in reversed(numbered) if p.page < page.page), 0)
        after = next((key[0] for p, key in numbered if p.page > page.page), None)
        fitting = [n for n in missing if n not in held and n > before and (after is None or n < after)]
        if fitting:
            held.add(fitting[0])
    return held


def _check_order(dossier: _Dossier) -> list[Finding]:
    """Sheets must lie in number order; a number lower than the previous numbered page is out of place."""
    pages: list[int] = []
    previous: SheetKey | None = None
    for page, key in dossier.numbered:
        if previous is not None and key < previous:
            pages.append(page.page)
        previous = key
    if not pages:
        return []
    return [
        _finding(
            "out_of_order",
            pages,
            {"pages": pages},
            f"Sheet number lower than the one before it on {_pages_en(pages)}.",
            f"Số tờ nhỏ hơn số tờ liền trước (sai thứ tự) ở trang {_page_list(pages)}.",
        )
    ]


def _check_inserted_sheets(dossier: _Dossier) -> list[Finding]:
    """A lettered number (12a) is a sheet inserted after numbering: an error unless the closing certificate
    declares it among its "tờ số trùng", in which case it is only pointed out (INFO)."""
    closing = dossier.context.closing
    declared = _declared(closing.duplicates) if closing is not None else set()
    findings = []
    for page, key in dossier.numbered:
        if not key[1]:
            continue
        label = _sheet_label(key)
        if key in declared:
            findings.append(
                _finding(
                    "inserted_sheet",
                    [page.page],
                    {"number": label, "page": page.page},
                    f"Inserted sheet {label} on page {page.page}, declared in the closing certificate.",
                    f"Tờ chèn thêm số {label} ở trang {page.page}, đã được ghi trong chứng từ kết thúc.",
                    severity=INFO,
                )
            )
            continue
        where_en = (
            "the closing certificate does not declare it" if closing else "the dossier has no closing certificate"
        )
        where_vi = (
            "chứng từ kết thúc không ghi nhận tờ này" if closing else "hồ sơ không có chứng từ kết thúc ghi nhận tờ này"
        )
        findings.append(
            _finding(
                "inserted_sheet",
                [page.page],
                {"number": label, "page": page.page},
                f"Inserted sheet {label} on page {page.page}; {where_en}.",
                f"Tờ chèn thêm số {label} ở trang {page.page}; {where_vi}.",
            )
        )
    return findings


def _check_first_not_one(dossier: _Dossier) -> list[Finding]:
    """Numbering starts at 01 on the first document sheet (Circular 27/2020 art. 26): the first numbered
    front in scan order must carry 1. Holes below its number are also a gap; this finding names the page
    where the run starts wrong, which the gap finding cannot."""
    fronts = [(p, _sheet_key(p.sheet_number)) for p in dossier.sheet_fronts if p.page not in dossier.doubtful]
    first = next(((p, key) for p, key in fronts if key is not None), None)
    if first is None or first[1] == (1, ""):
        return []
    if any((p.error_code is not None or p.page in dossier.doubtful) and p.page < first[0].page for p in dossier.pages):
        return []  # an unread or doubtful page before it may carry 1: its own finding points there
    page, key = first
    label = _sheet_label(key)
    return [
        _finding(
            "first_not_one",
            [page.page],
            {"number": label, "page": page.page},
            f"Numbering starts at {label} on page {page.page}, not at 1.",
            f"Số tờ đầu tiên (trang {page.page}) là {label}, không phải 01.",
        )
    ]


def _check_closing_count(dossier: _Dossier) -> list[Finding]:
    """The closing certificate's "Hồ sơ này gồm có: N tờ" must equal the document sheet fronts, like the cover."""
    closing = dossier.context.closing
    if closing is None or closing.sheet_count is None:
        return []
    actual = len(dossier.sheet_fronts)
    if closing.sheet_count == actual:
        return []
    return [
        _finding(
            "closing_count_mismatch",
            [closing.page],
            {"declared": closing.sheet_count, "actual": actual},
            f"The closing certificate declares {closing.sheet_count} sheets but the dossier has {actual}.",
            f"Chứng từ kết thúc ghi gồm {closing.sheet_count} tờ nhưng hồ sơ có {actual} tờ tài liệu.",
        )
    ]


def _check_contents(dossier: _Dossier) -> list[Finding]:
    """Every document is listed in the table of contents and every row points at a document present.

    Rows and documents are compared by type (multisets): OCR breaks numbers across table lines far more
    often than it loses a row title, so the type is the reliable key.
    """
    contents = dossier.context.contents
    if contents is None:
        return []
    listed = Counter(entry.doc_type for entry in contents.entries if entry.doc_type)
    found = Counter(document.doc_type for document in dossier.documents)
    missing = sorted((listed - found).elements())
    unlisted = sorted((found - listed).elements())
    if not missing and not unlisted:
        return []
    unlisted_pages = sorted({document.pages[0] for document in dossier.documents if document.doc_type in set(unlisted)})
    parts_en, parts_vi = [], []
    if missing:
        parts_en.append("listed but not found: " + ", ".join(missing))
        parts_vi.append("có trong mục lục nhưng không thấy trong hồ sơ: " + _doc_names_vi(missing))
    if unlisted:
        parts_en.append("found but not listed: " + ", ".join(unlisted))
        parts_vi.append("có trong hồ sơ nhưng không có trong mục lục: " + _doc_names_vi(unlisted))
    return [
        _finding(
            "toc_mismatch",
            [contents.page, *unlisted_pages],
            {"missing": missing, "unlisted": unlisted},
            "Table of contents and documents disagree; " + "; ".join(parts_en) + ".",
            "Mục lục văn bản không khớp với tài liệu; " + "; ".join(parts_vi) + ".",
        )
    ]


def _doc_names_vi(doc_types: list[str]) -> str:
    return ", ".join(DOC_TYPE_NAMES_VI.get(doc_type, doc_type) for doc_type in doc_types)


def _check_documents_missing(dossier: _Dossier) -> list[Finding]:
    """A penalty case (it holds a violation record or a penalty decision) holds all of PENALTY_CASE_DOCUMENTS."""
    present = {document.doc_type for document in dossier.documents}
    if not present & _PENALTY_CASE_MARKERS:
        return []
    missing = [doc_type for doc_type in PENALTY_CASE_DOCUMENTS if doc_type not in present]
    if not missing:
        return []
    # The pages that make it a penalty case: where the archivist sees why these documents are expected.
    markers = [document.pages[0] for document in dossier.documents if document.doc_type in _PENALTY_CASE_MARKERS]
    return [
        _finding(
            "document_missing",
            markers,
            {"doc_types": missing},
            "Penalty case without: " + ", ".join(missing) + ".",
            "Hồ sơ xử phạt thiếu văn bản: " + _doc_names_vi(missing) + ".",
        )
    ]


def _check_low_confidence(dossier: _Dossier) -> list[Finding]:
    """Reads a person should confirm: a sheet number the reader doubts, or a page whose text OCR doubts."""
    numbers = [
        p.page
        for p in dossier.pages
        if p.sheet_number is not None and p.sheet_confidence is not None and p.sheet_confidence < LOW_SHEET_CONFIDENCE
    ]
    texts = [
        p.page
        for p in dossier.pages
        if p.role != "blank" and p.mean_confidence is not None and p.mean_confidence < LOW_TEXT_CONFIDENCE
    ]
    pages = sorted(set(numbers) | set(texts))
    if not pages:
        return []
    return [
        _finding(
            "low_confidence",
            pages,
            {"pages": pages, "sheet_numbers": numbers, "text": texts},
            f"Uncertain reading, please check {_pages_en(pages)}.",
            f"Máy đọc không chắc chắn (số tờ hoặc nội dung), cần người kiểm tra trang {_page_list(pages)}.",
        )
    ]


def _check_late_digitization(dossier: _Dossier) -> list[Finding]:
    """Paper documents are digitised within 48 hours of signing (Circular 22/2021/TT-BCT art. 7.4).

    The clock starts at the end of the latest document date (Vietnam time; dates carry no hour) and stops
    when the paper was scanned: the scan time the PDF records when there is one, else the upload (which
    can only be later than the scan). Dates in the future of that moment are OCR slips and are ignored.
    """
    context = dossier.context
    clock, digitized_at = (
        ("scanned_at", context.scanned_at) if context.scanned_at else ("uploaded_at", context.uploaded_at)
    )
    if digitized_at is None:
        return []
    dated = [(date.fromisoformat(d.date), d) for d in dossier.documents if d.date and _is_iso_date(d.date)]
    end_of_day = {day: datetime.combine(day + timedelta(days=1), datetime.min.time(), VIETNAM_TIME) for day, _ in dated}
    dated = [(day, d) for day, d in dated if end_of_day[day] - timedelta(days=1) <= digitized_at]
    if not dated:
        return []
    latest = max(day for day, _ in dated)
    hours = (digitized_at - end_of_day[latest]).total_seconds() / 3600
    if hours <= DIGITIZATION_HOURS:
        return []
    pages = sorted({d.pages[0] for day, d in dated if day == latest})
    what_en, what_vi = ("Scanned", "quét") if clock == "scanned_at" else ("Uploaded", "tải lên")
    return [
        _finding(
            "late_digitization",
            pages,
            {"latest_document_date": latest.isoformat(), clock: digitized_at.isoformat(), "hours": int(hours)},
            f"{what_en} {int(hours)} hours after the end of {latest.isoformat()}, the latest document date "
            f"(limit {DIGITIZATION_HOURS} hours).",
            f"Số hóa chậm: {what_vi} sau {int(hours)} giờ kể từ hết ngày {latest.strftime('%d/%m/%Y')} "
            f"(ngày của văn bản mới nhất); quy định trong vòng {DIGITIZATION_HOURS} giờ.",
        )
    ]


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_low_resolution(dossier: _Dossier) -> list[Finding]:
    """Decree 30/2020/NĐ-CP annex I: digitised documents are scanned at 200 dpi or more."""
    low = [p for p in dossier.pages if p.dpi is not None and p.dpi + 0.5 < MIN_DPI]
    if not low:
        return []
    pages = [p.page for p in low]
    return [
        _finding(
            "low_resolution",
            pages,
            {"pages": pages, "dpi": [round(p.dpi or 0) for p in low]},
            f"Scanned below {MIN_DPI} dpi: {_pages_en(pages)}.",
            f"Trang {_page_list(pages)} được quét dưới {MIN_DPI} dpi; cần quét lại từ {MIN_DPI} dpi trở lên.",
        )
    ]


def _check_upside_down(dossier: _Dossier) -> list[Finding]:
    """Tell the archivist which pages were fed upside down; the stored view is already upright."""
    pages = [p.page for p in dossier.pages if p.rotation % 360 == 180]
    if not pages:
        return []
    return [
        _finding(
            "upside_down",
            pages,
            {"pages": pages},
            f"Scanned upside down and turned upright: {_pages_en(pages)}.",
            f"Trang {_page_list(pages)} bị quét ngược, đã được xoay lại cho đúng chiều.",
        )
    ]


def _check_rotated(dossier: _Dossier) -> list[Finding]:
    """Tell the archivist which pages were fed sideways; the stored view is already upright."""
    turned = [p for p in dossier.pages if p.rotation % 360 in (90, 270)]
    if not turned:
        return []
    pages = [p.page for p in turned]
    return [
        _finding(
            "rotated",
            pages,
            {"pages": pages, "rotations": [p.rotation % 360 for p in turned]},
            f"Scanned sideways and turned upright: {_pages_en(pages)}.",
            f"Trang {_page_list(pages)} bị quét nằm ngang, đã được xoay lại cho đúng chiều.",
        )
    ]


_PAGE_FAILURE_MESSAGES_VI = {
    "page_unreadable": "Không đọc được trang {pages}; cần kiểm tra tệp quét hoặc quét lại các trang này.",
    "page_timeout": "Trang {pages} xử lý quá thời gian cho phép nên đã bị dừng; cần kiểm tra hoặc quét lại.",
}


def _check_page_failures(dossier: _Dossier) -> list[Finding]:
    """Pages the pipeline could not read: none of the other rules saw their content."""
    findings = []
    for code, message_vi in _PAGE_FAILURE_MESSAGES_VI.items():
        pages = [p.page for p in dossier.pages if p.error_code == code]
        if pages:
            what = "Could not be read" if code == "page_unreadable" else "Stopped after the page time limit"
            findings.append(
                _finding(
                    code,
                    pages,
                    {"pages": pages},
                    f"{what}: {_pages_en(pages)}.",
                    message_vi.format(pages=_page_list(pages)),
                )
            )
    return findings


# The rules in the order their findings are reported: cover, count, numbering, contents, scan, orientation.
_CHECKS: tuple[Callable[[_Dossier], list[Finding]], ...] = (
    _check_page_failures,  # first: pages nobody could read explain findings about their numbers below
    _check_cover_missing,
    _check_cover_fields,
    _check_sheet_count,
    _check_closing_count,
    _check_unnumbered,
    _check_doubtful_numbers,
    _check_first_not_one,
    _check_duplicates,
    _check_gaps,
    _check_order,
    _check_inserted_sheets,
    _check_contents,
    _check_documents_missing,
    _check_low_confidence,
    _check_low_resolution,
    _check_late_digitization,
    _check_upside_down,
    _check_rotated,
)
