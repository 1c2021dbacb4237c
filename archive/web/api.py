"""The JSON API under /api/v1 for scanner stations and scripts.

Callers authenticate with the same session cookie as the pages for now (bearer tokens come with a later
issue). It is exempt from CSRF tokens, which a script cannot fetch; the SameSite=Lax session cookie is not
sent on cross-site POSTs, which is what keeps other sites from uploading in a signed-in user's name.
Errors are raised, never formatted here: ``errors.py`` turns them into ``{"error", "detail"}``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict
from typing import Any

from flask import Blueprint, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from archive.web import context
from archive.web.auth import require
from archive.web.dossier_page import page_of
from archive.web.dossiers import archive_pdf_download, pages_done, pages_failed, prior_cases_of, report_for
from archive.web.highlight import marked_spans
from archive.web.scope import dossier_in_scope
from archive.web.search_json import dossier_groups, suggestions
from archive.web.search_request import search_request
from archive.web.upload import upload

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_SEARCH_LIMIT = 100


@bp.post("/dossiers")
def create_dossier() -> tuple[dict[str, Any], int]:
    """201 for a new dossier, 200 with ``created: false`` when the same original was archived before."""
    dossier, created = upload(
        require("dossier.upload"),
        request.files.get("file"),
        request.form.get("case_number", ""),
        request.form.get("unit", ""),
        case_id=request.form.get("case_id", type=int),
    )
    body = {"dossier_id": dossier.id, "status": dossier.status, "page_count": dossier.page_count, "created": created}
    return body, 201 if created else 200


@bp.get("/dossiers/<dossier_id>")
def dossier_status(dossier_id: str) -> dict[str, Any]:
    session = context.db()
    dossier = dossier_in_scope(session, context.current_user(), dossier_id)
    return {
        "dossier_id": dossier.id,
        "status": dossier.status,
        "page_count": dossier.page_count,
        "pages_done": pages_done(session, dossier),
        "prior_cases": prior_cases_of(session, context.current_user(), dossier),
        # Progress is pages_done of page_count (read or failed); failed pages are also findings of the report.
        "pages_failed": pages_failed(session, dossier),
        "archive_pdf": url_for("api.dossier_archive_pdf", dossier_id=dossier.id)
        if dossier.archive_pdf_sha256
        else None,
    }


@bp.get("/dossiers/<dossier_id>/archive.pdf")
def dossier_archive_pdf(dossier_id: str) -> Response:
    """The searchable PDF/A copy (original page images, invisible OCR text); 404 outside the caller's units."""
    return archive_pdf_download(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/dossiers/<dossier_id>/verify")
def dossier_verify(dossier_id: str) -> dict[str, Any]:
    return report_for(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/dossiers/<dossier_id>/pages/<int:page_number>")
def dossier_page(dossier_id: str, page_number: int) -> dict[str, Any]:
    """One page's facts and OCR text, with ``marks`` (start, end offsets in ``text``) for the words of ``q``.

    The dossier viewer moves between pages with this; it inserts ``text`` as text, never as HTML.
    """
    session = context.db()
    dossier = dossier_in_scope(session, context.current_user(), dossier_id)
    page = page_of(session, dossier, page_number)
    text = unicodedata.normalize("NFC", page.text)
    return {
        "dossier_id": dossier.id,
        "page": page.page_number,
        "page_count": dossier.page_count,
        "status": page.status,
        "sheet_number": page.sheet_number,
        "rotation": page.rotation,
        "role": page.role,
        "doc_type": page.doc_type,
        "text": text,
        "marks": marked_spans(text, request.args.get("q", "")),
        "image": url_for("page_images.page_image", dossier_id=dossier.id, page_number=page.page_number),
        "thumbnail": url_for("page_images.thumbnail", dossier_id=dossier.id, page_number=page.page_number),
    }


@bp.get("/search")
def search() -> dict[str, Any]:
    """Dossiers whose pages match, best first, ``limit`` at a time from ``offset`` (no cap), with facets.

    Filters are described in ``search_request.py``. A query that cannot be read is a 400
    ``query_syntax`` error naming the character where it went wrong.
    """
    if not request.args.get("q", "").strip():
        raise BadRequest("The query parameter `q` is required.")
    limit = min(max(request.args.get("limit", 20, type=int), 1), MAX_SEARCH_LIMIT)
    offset = max(request.args.get("offset", 0, type=int), 0)
    wanted = search_request(context.db(), context.current_user(), request.args, limit=limit, offset=offset)
    index = context.runtime().index
    result = index.search_dossiers(wanted)
    return {
        "total_pages": result.total_pages,
        "total_dossiers": result.total_dossiers,
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if result.has_more else None,
        "dossiers": dossier_groups(context.db(), result.dossiers, wanted.query),
        "facets": {name: [asdict(value) for value in values] for name, values in result.facets.items()},
        "did_you_mean": None if result.total_pages else index.did_you_mean(wanted.query, wanted.scope),
    }


@bp.get("/search/suggest")
def search_suggest() -> dict[str, Any]:
    """Typeahead: business names, tax codes and case numbers of the caller's units starting with ``q``."""
    return suggestions(context.runtime().index, context.current_user(), request.args.get("q", "").strip())
