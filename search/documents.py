"""The values that cross the search boundary: what callers index (pages) and what they get back (hits).

Plain frozen dataclasses so every backend speaks the same language and callers never see engine types.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageDocument:
    """One page of one dossier, with the case fields that make it findable."""

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

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError(f"page numbers start at 1, got {self.page}")
        if not self.dossier_id:
            raise ValueError("a page needs a dossier_id")


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
