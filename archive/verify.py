"""Archivist's acceptance rules for a scanned dossier: cover, sheet numbers (bút lục), order, orientation.

The rules judge page facts that OCR has already extracted; they never look at pixels, touch the database
or do I/O, so the same facts always give the same findings and the rules can be tested on hand-made
page lists. Each rule is a small ``_check_*`` function returning findings with a severity (the shape of
paperless-ngx's sanity checker); ``verify`` runs them in a fixed order and ``report`` wraps the result in
the JSON contract that the web UI, the API and the CLI read. Severities and their reasons are written
down in docs/verification.md.
"""

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    "duplicate": ERROR,
    "gap": ERROR,
    "out_of_order": ERROR,
    # A letter suffix is the sanctioned way to insert a sheet after numbering; whether it is legitimate
    # depends on the closing certificate, which is not an input yet (see docs/verification.md).
    "inserted_sheet": WARNING,
    # Scan accidents: the pipeline has already turned the page upright.
    "upside_down": INFO,
    "rotated": INFO,
}

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
    doc_type: str | None


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
class _Dossier:
    """The facts every rule shares: the pages in scan order and the side each page is on."""

    pages: list[PageFact]
    sides: dict[int, str]
    cover: CoverFact | None

    @property
    def sheet_fronts(self) -> list[PageFact]:
        """Fronts of document sheets: what gets a number and what "Gồm: N tờ" counts."""
        return [p for p in self.pages if p.role == "document" and self.sides[p.page] == "front"]

    @property
    def numbered(self) -> list[tuple[PageFact, SheetKey]]:
        """Pages carrying a usable sheet number, in scan order."""
        keyed = [(p, _sheet_key(p.sheet_number)) for p in self.pages]
        return [(p, key) for p, key in keyed if key is not None]


def verify(pages: Sequence[PageFact], cover: CoverFact | None) -> list[Finding]:
    """Run every rule over one dossier's page facts; findings come rule by rule, then in page order."""
    return _run_checks(_dossier(pages, cover))


def report(dossier_id: str, status: str, pages: Sequence[PageFact], cover: CoverFact | None) -> dict[str, Any]:
    """The verification report in the JSON contract other components read (see docs/verification.md)."""
    dossier = _dossier(pages, cover)
    findings = _run_checks(dossier)
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
                "doc_type": p.doc_type,
                "side": dossier.sides[p.page],
            }
            for p in dossier.pages
        ],
        "cover": _cover_dict(cover),
        "findings": [finding.to_dict() for finding in findings],
        "passed": not any(finding.severity == ERROR for finding in findings),
    }


def _dossier(pages: Sequence[PageFact], cover: CoverFact | None) -> _Dossier:
    ordered = sorted(pages, key=lambda p: p.page)
    return _Dossier(pages=ordered, sides=_infer_sides(ordered), cover=cover)


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


def _finding(code: str, pages: list[int], detail: dict[str, Any], message: str, message_vi: str) -> Finding:
    return Finding(code, SEVERITIES[code], pages, detail, message, message_vi)


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
    """Every document sheet front carries a number; backs never do, so they are not asked for one."""
    pages = [p.page for p in dossier.sheet_fronts if _sheet_key(p.sheet_number) is None]
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


def _check_duplicates(dossier: _Dossier) -> list[Finding]:
    """A number may be used once; a second sheet with it must be renumbered or marked as inserted (12a)."""
    pages_by_key: dict[SheetKey, list[int]] = {}
    for page, key in dossier.numbered:
        pages_by_key.setdefault(key, []).append(page.page)
    duplicates = sorted((pages, key) for key, pages in pages_by_key.items() if len(pages) > 1)
    return [
        _finding(
            "duplicate",
            pages,
            {"number": _sheet_label(key), "pages": pages},
            f"Sheet number {_sheet_label(key)} is used on {_pages_en(pages)}.",
            f"Số tờ {_sheet_label(key)} bị trùng ở các trang {_page_list(pages)}.",
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
    if not missing:
        return []
    next_pages = {min((key, page.page) for page, key in numbered if key > (number, ""))[1] for number in missing}
    pages = sorted(next_pages)
    return [
        _finding(
            "gap",
            pages,
            {"missing": [str(number) for number in missing]},
            f"Sheet numbers missing: {_number_ranges(missing)}.",
            f"Khuyết số tờ: {_number_ranges(missing)}.",
        )
    ]


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
    """A lettered number (12a) is a sheet inserted after numbering; the closing certificate must record it."""
    return [
        _finding(
            "inserted_sheet",
            [page.page],
            {"number": _sheet_label(key), "page": page.page},
            f"Inserted sheet {_sheet_label(key)} on page {page.page}; check that the closing certificate records it.",
            f"Tờ chèn thêm số {_sheet_label(key)} ở trang {page.page}; "
            "cần đối chiếu chứng từ kết thúc có ghi nhận tờ này.",
        )
        for page, key in dossier.numbered
        if key[1]
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


# The rules in the order their findings are reported: cover, count, numbering, orientation.
_CHECKS: tuple[Callable[[_Dossier], list[Finding]], ...] = (
    _check_cover_missing,
    _check_cover_fields,
    _check_sheet_count,
    _check_unnumbered,
    _check_duplicates,
    _check_gaps,
    _check_order,
    _check_inserted_sheets,
    _check_upside_down,
    _check_rotated,
)
