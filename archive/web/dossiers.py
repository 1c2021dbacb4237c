"""What the pages and the API read about dossiers: the dashboard list, progress, the verification report,
the earlier cases of the same business."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import send_file
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session, selectinload
from stdnum.vn import mst
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from archive.models import Case, Dossier, Page, Unit, User
from archive.web import context
from archive.web.scope import unit_filter
from ingest.archive_pdf import archive_pdf_key
from ingest.pipeline import verification_report
from search.analyzer import normalise

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


def pages_failed(session: Session, dossier: Dossier) -> int:
    """Pages the pipeline gave up on (page_unreadable, page_timeout): counted in pages_done as well."""
    query = select(func.count()).select_from(Page).where(Page.dossier_id == dossier.id, Page.status == "failed")
    return session.scalar(query) or 0


def archive_pdf_download(dossier: Dossier) -> Response:
    """The dossier's searchable PDF/A copy as a download; 404 until it has one. The caller checks scope."""
    if not dossier.archive_pdf_sha256:
        raise NotFound(f"Dossier {dossier.id!r} has no archive copy yet (it is made when processing finishes).")
    return send_file(
        context.runtime().store.open(archive_pdf_key(dossier.archive_pdf_sha256)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"hoso-{dossier.id}-pdfa.pdf",
        etag=dossier.archive_pdf_sha256,
    )


def report_for(dossier: Dossier) -> dict[str, Any]:
    """The stored report once processed; before that one computed from the pages read so far.

    Its ``status`` field says which: findings of a dossier still processing are provisional.
    """
    return dossier.verify_report or verification_report(dossier)


PRIOR_CASES_LIMIT = 50
_TAX_CODE_SEPARATORS = re.compile(r"[\s.\-]")


def prior_cases_of(session: Session, user: User, dossier: Dossier) -> list[dict[str, Any]]:
    """The earlier cases, within ``user``'s scope, of the business the dossier's case names."""
    case = dossier.case
    return prior_cases(
        session,
        tax_code=case.tax_code,
        subject_name=case.subject_name,
        scope=user.unit.path,
        exclude_case=case,
    )


def prior_cases(
    session: Session, *, tax_code: str, subject_name: str, scope: str, exclude_case: Case | None = None
) -> list[dict[str, Any]]:
    """Cases in ``scope`` naming the same tax code or business as given, filed no later than ``exclude_case``.

    Read from the case records, not the search index (docs/search.md says why). A tax code matches by
    the business it identifies: a valid MST (``stdnum.vn.mst``) and its branches ``NNNNNNNNNN-NNN``
    are one business; an invalid or 12-digit code (a personal ID) matches only itself. A name matches
    when equal after ``normalise`` (case, Unicode form, tone placement). Newest first.
    """
    tax_identity = _tax_identity(tax_code)
    name = normalise(" ".join(subject_name.split()))
    if not tax_identity and not name:
        return []
    wanted = []
    if tax_identity:
        wanted.append(Case.tax_code.startswith(tax_identity[:10], autoescape=True))
    if name:
        wanted.append(Case.subject_name != "")
    candidates = session.execute(
        select(Case.id, Case.tax_code, Case.subject_name)
        .join(Case.unit)
        .where(or_(Unit.path == scope, Unit.path.startswith(scope + "/", autoescape=True)), or_(*wanted))
        .where(Case.id != (exclude_case.id if exclude_case is not None else -1))
    )
    matched = {
        case_id: "tax_code" if tax_identity and _tax_identity(other_tax) == tax_identity else "subject_name"
        for case_id, other_tax, other_name in candidates
        if (tax_identity and _tax_identity(other_tax) == tax_identity)
        or (name and normalise(" ".join(other_name.split())) == name)
    }
    if not matched:
        return []
    cases = session.scalars(
        select(Case).where(Case.id.in_(matched)).options(selectinload(Case.unit), selectinload(Case.dossiers))
    ).all()
    until = _filed_on(exclude_case) if exclude_case is not None else date.max
    earlier = sorted((case for case in cases if _filed_on(case) <= until), key=_filed_on, reverse=True)
    return [
        {
            "case_number": case.case_number,
            "unit_code": case.unit.code,
            "subject_name": case.subject_name,
            "tax_code": case.tax_code,
            "filed_on": _filed_on(case).isoformat(),
            "matched_on": matched[case.id],
            "dossier_ids": [dossier.id for dossier in case.dossiers],
        }
        for case in earlier[:PRIOR_CASES_LIMIT]
    ]


def _tax_identity(tax_code: str) -> str:
    """The business a tax code identifies: the 10-digit MST for a valid MST or branch code, else the code."""
    compact = _TAX_CODE_SEPARATORS.sub("", tax_code)
    if len(compact) in (10, 13) and mst.is_valid(compact):
        return compact[:10]
    return compact


def _filed_on(case: Case) -> date:
    """When a case began: its opening date when recorded, else the day it entered hoso."""
    return case.opened_on or case.created_at.date()
