"""Retention periods of archived dossiers and the list of those past it, for a person to review.

The cover's "Thời hạn bảo quản" ("10 năm", "05 năm", "70 năm", "Vĩnh viễn") is copied onto the dossier when
the archive accepts it. Under the Law on Archives a retention period runs from the year the matter ended, so
here it runs from 1 January after the year the case was closed (``Case.closed_on``), else after the year of
the cover's "Đến ngày" (the dossier's last document), else after the year the archive accepted it. A
dossier is listed from the first day after its period ends. Listing is all this module does: nothing is
ever deleted automatically; destroying records needs an appraisal council's decision (Decree 30/2020).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archive.handover import cover_fields
from archive.models import Case, Dossier, Unit
from archive.report_periods import vietnam_date
from archive.report_queries import subtree_filter

_YEARS = re.compile(r"(\d{1,3})\s*nam")
_PERMANENT = ("vinh vien",)


@dataclass(frozen=True)
class Retention:
    """``years`` is None for a permanent dossier."""

    years: int | None

    @property
    def permanent(self) -> bool:
        return self.years is None


def _folded(text: str) -> str:
    """Lower case without diacritics ("Vĩnh viễn" -> "vinh vien"), so typed variants read the same."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().split())


def parse_retention(text: str | None) -> Retention | None:
    """ "10 năm" -> 10 years, "05 năm" -> 5, "Vĩnh viễn" -> permanent; anything else (blank, "Lâu dài") -> None."""
    folded = _folded(text or "")
    if folded in _PERMANENT:
        return Retention(None)
    match = _YEARS.fullmatch(folded)
    if match and int(match[1]) > 0:
        return Retention(int(match[1]))
    return None


@dataclass(frozen=True)
class ReviewItem:
    """One archived dossier for review: ``status`` is "due" (past its retention) or "unknown" (unreadable text)."""

    dossier_id: str
    case_number: str
    unit_code: str
    retention_text: str
    status: str
    years: int | None
    counted_from: str  # "case_closed" | "cover_end_date" | "accepted"
    end_year: int | None
    review_from: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "case_number": self.case_number,
            "unit_code": self.unit_code,
            "retention": self.retention_text,
            "status": self.status,
            "years": self.years,
            "counted_from": self.counted_from,
            "end_year": self.end_year,
            "review_from": self.review_from.isoformat() if self.review_from else None,
        }


def _year_from_text(value: Any) -> int | None:
    try:
        return date.fromisoformat(str(value)).year
    except ValueError:
        return None


def end_year(dossier: Dossier) -> tuple[int | None, str]:
    """The year the retention counts from, and which fact gave it."""
    if dossier.case.closed_on is not None:
        return dossier.case.closed_on.year, "case_closed"
    cover_year = _year_from_text(cover_fields(dossier).get("end_date"))
    if cover_year is not None:
        return cover_year, "cover_end_date"
    if dossier.decided_at is not None:
        return vietnam_date(dossier.decided_at).year, "accepted"
    return None, "accepted"


def review_item(dossier: Dossier, today: date) -> ReviewItem | None:
    """The dossier's line on the review list, or None while it is within its retention (or permanent)."""
    retention = parse_retention(dossier.retention)
    year, counted_from = end_year(dossier)
    review_from = None
    if retention is not None and retention.years is not None and year is not None:
        review_from = date(year + retention.years + 1, 1, 1)
    if retention is not None and (review_from is None or review_from > today):
        return None
    return ReviewItem(
        dossier_id=dossier.id,
        case_number=dossier.case.case_number,
        unit_code=dossier.case.unit.code,
        retention_text=dossier.retention or "",
        status="unknown" if retention is None else "due",
        years=retention.years if retention else None,
        counted_from=counted_from,
        end_year=year,
        review_from=review_from,
    )


def review_list(session: Session, unit_path: str, today: date) -> list[ReviewItem]:
    """Archived (accepted) dossiers of the subtree past their retention or with an unreadable one; due first."""
    dossiers = session.scalars(
        select(Dossier)
        .join(Dossier.case)
        .join(Case.unit)
        .where(subtree_filter(unit_path), Dossier.handover_state == "accepted")
        .options(joinedload(Dossier.case).joinedload(Case.unit))
        .order_by(Unit.path, Case.case_number)
    )
    items = [item for item in (review_item(dossier, today) for dossier in dossiers) if item is not None]
    return sorted(items, key=lambda item: (item.status != "due", item.review_from or date.max, item.unit_code))
