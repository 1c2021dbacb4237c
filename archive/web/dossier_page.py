"""What the dossier page and the search page show beyond the dossier's own record: the page grid's states,
the page the viewer opens on, the dossier's audit trail, and the case facts of each search result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import NotFound

from archive.models import AuditEntry, Case, Dossier, Page, User
from archive.permissions import allows
from archive.web.dossiers import prior_case_counts
from archive.web.scope import unit_filter
from search.documents import DossierResult

# What a page tile says about its page, in the order the first that applies wins: a failed read and a
# finding need action; cover and blank are roles a reader looks for; ok is a page read without remarks.
PAGE_STATES = ("pending", "failed", "finding", "cover", "blank", "ok")
# Info findings (a page fed upside down, already turned) need no action, so they do not colour a tile.
ACTION_SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class PageTile:
    """One thumbnail of the dossier page's grid."""

    number: int
    sheet_number: str | None
    state: str


def page_tiles(dossier: Dossier, report: dict[str, Any] | None) -> list[PageTile]:
    """Every page of the dossier with its sheet number and one state of PAGE_STATES."""
    flagged = {
        page_number
        for finding in (report or {}).get("findings", [])
        if finding.get("severity") in ACTION_SEVERITIES
        for page_number in finding.get("pages", [])
    }
    return [PageTile(page.page_number, page.sheet_number, _page_state(page, flagged)) for page in dossier.pages]


def _page_state(page: Page, flagged: set[int]) -> str:
    if page.status in ("pending", "failed"):
        return page.status
    if page.page_number in flagged:
        return "finding"
    if page.role == "cover":
        return "cover"
    return "blank" if page.blank or page.role == "blank" else "ok"


def viewer_page(dossier: Dossier, requested: int | None) -> Page | None:
    """The page the viewer opens on: the one asked for, kept within the dossier; the first by default."""
    if not dossier.pages:
        return None
    number = min(max(requested or 1, 1), len(dossier.pages))
    return dossier.pages[number - 1]


def page_of(session: Session, dossier: Dossier, page_number: int) -> Page:
    """One page of a dossier the caller has already scope-checked; 404 for a number it does not have."""
    page = session.scalar(select(Page).where(Page.dossier_id == dossier.id, Page.page_number == page_number))
    if page is None:
        raise NotFound(f"Dossier {dossier.id!r} has no page {page_number}.")
    return page


AUDIT_TRAIL_LIMIT = 200
RECENT_READS_LIMIT = 20
# Entries the read hook (archive/web/audit_log.py) writes for every view and download of the dossier.
READ_ACTIONS = ("dossier.view", "dossier.download")


@dataclass(frozen=True)
class AuditTrail:
    """What the dossier page shows of the audit log about the dossier.

    ``changes``: handover steps, versions and any other change, for everyone who may see the dossier (it is
    the dossier's own history). ``reads`` and ``read_count``: who opened or downloaded it, only for roles that
    read the audit log (``audit.read``): that an inspector is looking at a case is not the team's to see.
    """

    changes: list[AuditEntry]
    reads: list[AuditEntry]
    read_count: int


def audit_trail(session: Session, user: User, dossier: Dossier) -> AuditTrail:
    """The audit entries about this dossier, newest first, limited to entries about units in the user's scope.

    The dossier is in scope, but an entry written while it belonged to another unit is only shown to those
    who cover that unit.
    """
    own = user.unit.path
    about = (
        AuditEntry.target_type == "dossier",
        AuditEntry.target_id == dossier.id,
        or_(AuditEntry.unit_path == own, AuditEntry.unit_path.startswith(own + "/", autoescape=True)),
    )
    newest = select(AuditEntry).where(*about).order_by(AuditEntry.id.desc())
    changes = session.scalars(newest.where(AuditEntry.action.not_in(READ_ACTIONS)).limit(AUDIT_TRAIL_LIMIT))
    if not allows(user.role, "audit.read"):
        return AuditTrail(list(changes), [], 0)
    reads = session.scalars(newest.where(AuditEntry.action.in_(READ_ACTIONS)).limit(RECENT_READS_LIMIT))
    read_count = session.scalar(
        select(func.count()).select_from(AuditEntry).where(*about, AuditEntry.action.in_(READ_ACTIONS))
    )
    return AuditTrail(list(changes), list(reads), read_count or 0)


@dataclass(frozen=True)
class ResultCase:
    """The case behind one search result: who it is about and how many earlier cases name the same business."""

    subject_name: str
    tax_code: str
    handover_state: str
    prior_cases: int


def result_cases(session: Session, user: User, result: DossierResult) -> dict[str, ResultCase]:
    """The case facts of each dossier in ``result``, by dossier id, read from the database within scope.

    The index holds the page text; who the case is about and its earlier cases come from the case records,
    like the dossier page's prior cases panel (docs/search.md says why).
    """
    ids = [group.dossier_id for group in result.dossiers]
    if not ids:
        return {}
    dossiers = session.scalars(
        select(Dossier)
        .join(Dossier.case)
        .join(Case.unit)
        .where(Dossier.id.in_(ids), unit_filter(user))
        .options(selectinload(Dossier.case))
    ).all()
    counts = prior_case_counts(
        session, user.unit.path, list({dossier.case.id: dossier.case for dossier in dossiers}.values())
    )
    return {
        dossier.id: ResultCase(
            dossier.case.subject_name, dossier.case.tax_code, dossier.handover_state, counts[dossier.case.id]
        )
        for dossier in dossiers
    }
