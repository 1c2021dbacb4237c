"""What the pages and the API read about dossiers: the dashboard list, progress, the verification report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from archive.models import Case, Dossier, Page, Unit, User
from archive.web.scope import unit_filter
from ingest.pipeline import verification_report

DASHBOARD_LIMIT = 100
IN_PROGRESS = ("processing", "assembling")


def _finished_pages(dossier_id: Any) -> Any:
    """Pages whose job has ended, done or failed: what progress counts, so a failed page does not stall it."""
    return select(func.count()).select_from(Page).where(Page.dossier_id == dossier_id, Page.status != "pending")


def recent_in_scope(session: Session, user: User, limit: int = DASHBOARD_LIMIT) -> list[Row[Any]]:
    """The newest dossiers the user may see, each row with ``Dossier``, ``Case``, ``Unit`` and ``pages_done``."""
    pages_done = _finished_pages(Dossier.id).correlate(Dossier).scalar_subquery().label("pages_done")
    query = (
        select(Dossier, Case, Unit, pages_done)
        .join(Dossier.case)
        .join(Case.unit)
        .where(unit_filter(user))
        .order_by(Dossier.created_at.desc())
        .limit(limit)
    )
    return list(session.execute(query))


def pages_done(session: Session, dossier: Dossier) -> int:
    return session.scalar(_finished_pages(dossier.id)) or 0


def report_for(dossier: Dossier) -> dict[str, Any]:
    """The stored report once processed; before that one computed from the pages read so far.

    Its ``status`` field says which: findings of a dossier still processing are provisional.
    """
    return dossier.verify_report or verification_report(dossier)
