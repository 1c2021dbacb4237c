"""The JSON API under /api/v1 for scanner stations and scripts.

Callers authenticate with the same session cookie as the pages for now (bearer tokens come with a later
issue). It is exempt from CSRF tokens, which a script cannot fetch; the SameSite=Lax session cookie is not
sent on cross-site POSTs, which is what keeps other sites from uploading in a signed-in user's name.
Errors are raised, never formatted here: ``errors.py`` turns them into ``{"error", "detail"}``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest

from archive.web import context
from archive.web.dossiers import pages_done, report_for
from archive.web.scope import dossier_in_scope
from archive.web.upload import upload

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_SEARCH_LIMIT = 100


@bp.post("/dossiers")
def create_dossier() -> tuple[dict[str, Any], int]:
    """201 for a new dossier, 200 with ``created: false`` when the same original was archived before."""
    dossier, created = upload(
        context.current_user(),
        request.files.get("file"),
        request.form.get("case_number", ""),
        request.form.get("unit", ""),
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
    }


@bp.get("/dossiers/<dossier_id>/verify")
def dossier_verify(dossier_id: str) -> dict[str, Any]:
    return report_for(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/search")
def search() -> dict[str, Any]:
    query = request.args.get("q", "").strip()
    if not query:
        raise BadRequest("The query parameter `q` is required.")
    limit = min(max(request.args.get("limit", 20, type=int), 1), MAX_SEARCH_LIMIT)
    offset = max(request.args.get("offset", 0, type=int), 0)
    result = context.runtime().index.search(query, scope=context.current_user().unit.path, limit=limit, offset=offset)
    return {
        "total": result.total,
        "hits": [asdict(hit) for hit in result.hits],
    }
