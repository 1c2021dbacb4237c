"""What the pages and the API read about dossiers: the dashboard list, progress, the verification report,
downloads, the earlier cases of the same business."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Protocol

from flask import send_file
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session, selectinload
from stdnum.vn import mst
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from archive.models import Case, Dossier, Page, Unit, User
from archive.storage import StorageError, original_key
from archive.web import context
from archive.web.presigned import presigned_download
from archive.web.scope import unit_filter
from ingest.archive_pdf import archive_pdf_key
from ingest.pipeline import verification_report
from ingest.sniff import SNIFF_BYTES, sniff
from search.analyzer import normalise

log = logging.getLogger(__name__)

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
    """The dossier's searchable PDF/A copy; 404 until it has one. The caller checks scope.

    Served inline, so a search hit's link ``…/archive.pdf#page=N`` opens the browser's viewer at that page;
    the file name still comes with it for saving."""
    if not dossier.archive_pdf_sha256:
        raise NotFound(f"Dossier {dossier.id!r} has no archive copy yet (it is made when processing finishes).")
    key, download_name = archive_pdf_key(dossier.archive_pdf_sha256), f"hoso-{dossier.id}-pdfa.pdf"
    handed_over = presigned_download(key, "application/pdf", download_name, as_attachment=False)
    if handed_over is not None:
        return handed_over
    return send_file(
        context.runtime().store.open(key),
        mimetype="application/pdf",
        as_attachment=False,
        download_name=download_name,
        etag=dossier.archive_pdf_sha256,
    )


ORIGINAL_MEDIA_TYPES = {"pdf": "application/pdf", "tiff": "image/tiff", "jpeg": "image/jpeg", "png": "image/png"}
_UNSAFE_NAME_CHARACTERS = re.compile(r'[\x00-\x1f\x7f"*:<>?|\\/]+')
MAX_DOWNLOAD_NAME_CHARS = 150


def original_download(dossier: Dossier) -> Response:
    """The original exactly as uploaded, under its uploaded name made safe. The caller checks scope.

    The media type is sniffed from the stored bytes (the type intake accepted), not taken from the name,
    so a file named "x.html" is still sent as the PDF it is; it is always an attachment, never shown inline.
    """
    key, store = original_key(dossier.original_sha256), context.runtime().store
    try:
        with store.open_range(key, 0, SNIFF_BYTES) as head:
            media_type = ORIGINAL_MEDIA_TYPES.get(sniff(head.read()) or "", "application/octet-stream")
    except StorageError as error:
        log.error("the original of dossier %s cannot be read from the object store: %s", dossier.id, error)
        raise NotFound(f"The original of dossier {dossier.id!r} is not in the store.") from None
    download_name = safe_download_name(dossier.original_filename, f"hoso-{dossier.id}")
    handed_over = presigned_download(key, media_type, download_name, as_attachment=True)
    if handed_over is not None:
        return handed_over
    return send_file(
        store.open(key),
        mimetype=media_type,
        as_attachment=True,
        download_name=download_name,
        etag=dossier.original_sha256,
    )


def safe_download_name(uploaded_name: str, fallback: str) -> str:
    """A file name a browser can save as given: the last path part, no control or reserved characters.

    Vietnamese letters are kept (Flask sends them as RFC 6266 ``filename*``); a name left empty, or made
    of dots only, becomes ``fallback``. Long names keep their extension.
    """
    base = PureWindowsPath(PurePosixPath(uploaded_name).name).name
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", unicodedata.normalize("NFC", base)).strip(" .")
    if not cleaned.strip("_"):
        return fallback
    if len(cleaned) > MAX_DOWNLOAD_NAME_CHARS:
        stem, dot, extension = cleaned.rpartition(".")
        keep = extension if dot and len(extension) <= 8 else ""
        cleaned = cleaned[: MAX_DOWNLOAD_NAME_CHARS - len(keep) - 1].rstrip(" .") + (f".{keep}" if keep else "")
    return cleaned


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
    business = Business.of(tax_code, subject_name)
    if not business:
        return []
    excluded = exclude_case.id if exclude_case is not None else None
    matched = {
        row.id: matched_on
        for row in _named_cases(session, scope, [business])
        if row.id != excluded and (matched_on := business.matched_on(row.tax_code, row.subject_name))
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


def prior_case_counts(session: Session, scope: str, cases: list[Case]) -> dict[int, int]:
    """For each case, how many cases in ``scope`` name the same business and were filed no later (as
    ``prior_cases`` counts them), from one query for all: what a search result page shows per dossier."""
    businesses = {case.id: Business.of(case.tax_code, case.subject_name) for case in cases}
    named = _named_cases(session, scope, [business for business in businesses.values() if business])
    counts = {}
    for case in cases:
        business, until = businesses[case.id], _filed_on(case)
        counts[case.id] = sum(
            1
            for row in named
            if row.id != case.id and business.matched_on(row.tax_code, row.subject_name) and _filed_on(row) <= until
        )
    return counts


@dataclass(frozen=True)
class Business:
    """Who a case is about, as prior cases compare it: the business a tax code identifies, and the name."""

    tax_identity: str
    name: str

    @classmethod
    def of(cls, tax_code: str, subject_name: str) -> Business:
        return cls(_tax_identity(tax_code), _name_key(subject_name))

    def __bool__(self) -> bool:
        return bool(self.tax_identity or self.name)

    def matched_on(self, tax_code: str, subject_name: str) -> str | None:
        """ "tax_code" or "subject_name" when the other case names this business, else None."""
        if self.tax_identity and _tax_identity(tax_code) == self.tax_identity:
            return "tax_code"
        if self.name and _name_key(subject_name) == self.name:
            return "subject_name"
        return None


def _named_cases(session: Session, scope: str, businesses: list[Business]) -> list[Row[Any]]:
    """Cases in ``scope`` that may name one of ``businesses``: a tax code starting with one of theirs, or any
    name when one of them has a name (names are compared after ``normalise``, in Python)."""
    wanted = [
        Case.tax_code.startswith(business.tax_identity[:10], autoescape=True)
        for business in businesses
        if business.tax_identity
    ]
    if any(business.name for business in businesses):
        wanted.append(Case.subject_name != "")
    if not wanted:
        return []
    query = (
        select(Case.id, Case.tax_code, Case.subject_name, Case.opened_on, Case.created_at)
        .join(Case.unit)
        .where(or_(Unit.path == scope, Unit.path.startswith(scope + "/", autoescape=True)), or_(*wanted))
    )
    return list(session.execute(query))


def _tax_identity(tax_code: str) -> str:
    """The business a tax code identifies: the 10-digit MST for a valid MST or branch code, else the code."""
    compact = _TAX_CODE_SEPARATORS.sub("", tax_code)
    if len(compact) in (10, 13) and mst.is_valid(compact):
        return compact[:10]
    return compact


def _name_key(subject_name: str) -> str:
    return normalise(" ".join(subject_name.split()))


class _Filed(Protocol):
    opened_on: date | None
    created_at: datetime


def _filed_on(case: _Filed) -> date:
    """When a case began: its opening date when recorded, else the day it entered hoso."""
    return case.opened_on or case.created_at.date()
