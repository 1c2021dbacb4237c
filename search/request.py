"""What a grouped search asks for: the query text, the caller's scope, filters and the slice of dossiers.

One value shared by every backend and by the web, API and CLI callers, so a filter means the same thing
everywhere. Filters narrow pages before anything is counted, like the scope.
"""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SearchFilters:
    """Every filter set here must hold for a page to count; an empty filter keeps everything."""

    unit_path: str | None = None  # a unit subtree ("VN/LCI"), intersected with the caller's scope
    case_number: str | None = None
    doc_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    violation: str | None = None  # the case's violation exactly as a facet lists it
    date_from: date | None = None  # inclusive
    date_to: date | None = None  # inclusive

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the date range ends ({self.date_to}) before it starts ({self.date_from})")


@dataclass(frozen=True)
class SearchRequest:
    """A page of dossier groups: `offset` dossiers skipped, `limit` returned, no cap on `offset`."""

    query: str
    scope: str | None  # the caller's unit path; None or "" for the whole archive
    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = 20
    offset: int = 0
    pages_per_dossier: int = 3
    facets: bool = True

    def __post_init__(self) -> None:
        if self.limit < 1 or self.offset < 0 or self.pages_per_dossier < 1:
            raise ValueError(
                f"limit and pages_per_dossier must be at least 1 and offset at least 0, "
                f"got {self.limit}, {self.pages_per_dossier} and {self.offset}"
            )
