"""The values that cross the search boundary: what callers index (pages) and what they get back (hits).

Plain frozen dataclasses so every backend speaks the same language and callers never see engine types.
"""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class PageDocument:
    """One page of one dossier, with the case fields that make it findable and filterable."""

    dossier_id: str
    page: int  # 1-based page number
    case_number: str
    unit_code: str  # e.g. "LCI-D1"
    unit_path: str  # ancestry path like "VN/LCI/LCI-D1"; the scope filter matches on it
    text: str
    subject_name: str = ""
    tax_code: str = ""
    doc_type: str = ""
    violation: str = ""
    doc_date: date | None = None  # the date the dossier is filed under: date-range filter and year facet
    status: str = ""  # the dossier's handover state ("draft", "accepted"…): the status filter

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError(f"page numbers start at 1, got {self.page}")
        if not self.dossier_id:
            raise ValueError("a page needs a dossier_id")

    @property
    def year(self) -> int | None:
        return self.doc_date.year if self.doc_date else None


@dataclass(frozen=True)
class PageHit:
    """A page that matched a query, best first in `SearchResult.hits`."""

    dossier_id: str
    page: int
    case_number: str
    unit_code: str
    score: float
    snippet_html: str  # HTML-escaped page text with matched words in <mark>…</mark>


@dataclass(frozen=True)
class SearchResult:
    """`total` counts every in-scope page that matched; `hits` is the requested slice of them."""

    total: int
    hits: list[PageHit]


@dataclass(frozen=True)
class DossierHit:
    """A dossier with matching pages: its best pages (best first) and how many of its pages matched."""

    dossier_id: str
    case_number: str
    unit_code: str
    score: float  # the score of its best page, which ranks the dossier
    matched_pages: int
    pages: list[PageHit]


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet and the number of matching dossiers that have it."""

    value: str
    count: int


FACETS = ("unit", "year", "doc_type", "violation")


@dataclass(frozen=True)
class DossierResult:
    """Matching pages grouped by dossier; every number counts only what lies in the caller's scope.

    `dossiers` is the requested slice (offset, limit) of the ranked dossiers; `has_more` says whether
    another slice follows. `total_dossiers` is exact for small results and an estimate (HyperLogLog,
    within about 1%) for tens of thousands of dossiers. `facets` maps each name of FACETS to its values,
    most frequent first.
    """

    total_pages: int
    total_dossiers: int
    dossiers: list[DossierHit]
    has_more: bool
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)


SUGGESTION_KINDS = ("subject_name", "tax_code", "case_number")


@dataclass(frozen=True)
class Suggestion:
    """A value of a case field that starts with what the user typed, and how many in-scope dossiers have it."""

    kind: str  # one of SUGGESTION_KINDS
    value: str  # as entered on the case ("Công ty TNHH Minh Phát", "0101234567-001", "05/LCI")
    dossiers: int
