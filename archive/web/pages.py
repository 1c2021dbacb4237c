"""The server-rendered pages: dashboard, upload form, dossier detail, search.

Everything shown is autoescaped by Jinja; the search snippet is the one exception, because the search
package escapes the page text itself before adding its <mark> highlights.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import defer, selectinload
from werkzeug.wrappers import Response

from archive.models import HANDOVER_STATES, Dossier, Page
from archive.web import context
from archive.web import dashboard as dashboard_queries
from archive.web.auth import require
from archive.web.dossier_page import audit_trail, page_tiles, result_cases, viewer_page
from archive.web.dossiers import (
    IN_PROGRESS,
    archive_pdf_download,
    original_download,
    pages_done,
    prior_cases_of,
    recent_in_scope,
    report_for,
)
from archive.web.filters import DOC_TYPE_VI
from archive.web.highlight import pieces
from archive.web.scope import dossier_in_scope, units_in_scope
from archive.web.search_request import active_filters, search_request
from archive.web.upload import upload as submit_upload
from ingest.errors import IngestError
from search.index import QuerySyntaxError

bp = Blueprint("pages", __name__)

SEARCH_PAGE_SIZE = 20
DASHBOARD_RECENT = 20
REFRESH_SECONDS = 3


@bp.get("/")
def dashboard() -> str:
    """Counts by status, what waits for this user (see ``dashboard.overview``), the newest dossiers."""
    session, user = context.db(), context.current_user()
    return render_template(
        "dashboard.html",
        rows=recent_in_scope(session, user, DASHBOARD_RECENT),
        overview=dashboard_queries.overview(session, user),
        errors_of=dashboard_queries.errors_of,
        late_finding=dashboard_queries.late_finding,
    )


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> Response | tuple[str, int] | str:
    user = require("dossier.upload")
    units = units_in_scope(context.db(), user)
    if request.method == "GET":
        return render_template("upload.html", units=units, case_number="", unit_code=user.unit.code)
    case_number = request.form.get("case_number", "")
    unit_code = request.form.get("unit", "")
    try:
        dossier, created = submit_upload(user, request.files.get("file"), case_number, unit_code)
    except IngestError as refused:
        page = render_template("upload.html", units=units, case_number=case_number, unit_code=unit_code, error=refused)
        return page, refused.http_status
    if not created:
        flash(_("Tệp này đã có trong kho; đây là hồ sơ đã lưu trước đó."), "info")
    return redirect(url_for("pages.dossier", dossier_id=dossier.id))


@bp.get("/dossiers/<dossier_id>")
def dossier(dossier_id: str) -> str:
    session = context.db()
    found = dossier_in_scope(
        session,
        context.current_user(),
        dossier_id,
        selectinload(Dossier.pages).options(defer(Page.words)),
    )
    processing = found.status in IN_PROGRESS
    report = None if processing else report_for(found)
    # The viewer opens on ?page=N (a finding's or a search hit's page) with ?q= marked in its text.
    query = request.args.get("q", "").strip()
    shown = viewer_page(found, request.args.get("page", type=int))
    return render_template(
        "dossier.html",
        dossier=found,
        pages_done=pages_done(session, found),
        report=report,
        poll_seconds=REFRESH_SECONDS if processing else None,
        prior_cases=prior_cases_of(session, context.current_user(), found),
        tiles=page_tiles(found, report),
        shown=shown,
        shown_text=pieces(shown.text, query) if shown is not None else [],
        query=query,
        audit_entries=audit_trail(session, context.current_user(), found),
    )


@bp.get("/dossiers/<dossier_id>/original")
def dossier_original(dossier_id: str) -> Response:
    """The original file as uploaded, for a dossier in the user's units (404 otherwise)."""
    return original_download(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/dossiers/<dossier_id>/archive.pdf")
def dossier_archive_pdf(dossier_id: str) -> Response:
    """The searchable PDF/A copy of a dossier in the user's units (404 otherwise, or before it is made)."""
    return archive_pdf_download(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/search")
def search() -> tuple[str, int] | str:
    """Dossiers whose pages match, SEARCH_PAGE_SIZE at a time, with the facets as links that add a filter.

    ``fragment=1`` answers the results alone, the same HTML, which search.js shows while the user types: the
    page renders one way with or without JavaScript, and the script never builds HTML from page text.
    """
    session, user = context.db(), context.current_user()
    query = request.args.get("q", "").strip()
    page_number = max(request.args.get("page", 1, type=int), 1)
    shown = {
        "query": query,
        "filters": active_filters(request.args),
        "fragment": request.args.get("fragment") == "1",
        "units": units_in_scope(session, user),
        "doc_type_codes": list(DOC_TYPE_VI),
        "handover_states": HANDOVER_STATES,
        "result": None,
    }
    if not query:
        return render_template("search.html", **shown)
    wanted = search_request(
        session, user, request.args, limit=SEARCH_PAGE_SIZE, offset=(page_number - 1) * SEARCH_PAGE_SIZE
    )
    try:
        result = context.runtime().index.search_dossiers(wanted)
    except QuerySyntaxError as bad:
        return render_template("search.html", error=str(bad), **shown), 400
    shown |= {"result": result, "cases": result_cases(session, user, result), "page_number": page_number}
    return render_template("search.html", **shown)
