"""The server-rendered pages: dashboard, upload form, dossier detail, search.

Everything shown is autoescaped by Jinja; the search snippet is the one exception, because the search
package escapes the page text itself before adding its <mark> highlights.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import defer, selectinload
from werkzeug.wrappers import Response

from archive.models import Dossier, Page
from archive.web import context
from archive.web.dossiers import (
    IN_PROGRESS,
    archive_pdf_download,
    pages_done,
    prior_cases_of,
    recent_in_scope,
    report_for,
)
from archive.web.scope import dossier_in_scope, units_in_scope
from archive.web.search_request import active_filters, search_request
from archive.web.upload import upload as submit_upload
from ingest.errors import IngestError
from search.index import QuerySyntaxError

bp = Blueprint("pages", __name__)

SEARCH_PAGE_SIZE = 20
REFRESH_SECONDS = 3


@bp.get("/")
def dashboard() -> str:
    rows = recent_in_scope(context.db(), context.current_user())
    return render_template("dashboard.html", rows=rows)


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> Response | tuple[str, int] | str:
    user = context.current_user()
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
        flash("Tệp này đã có trong kho; đây là hồ sơ đã lưu trước đó.", "info")
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
    return render_template(
        "dossier.html",
        dossier=found,
        pages_done=pages_done(session, found),
        report=None if processing else report_for(found),
        refresh_seconds=REFRESH_SECONDS if processing else None,
        prior_cases=prior_cases_of(session, context.current_user(), found),
    )


@bp.get("/dossiers/<dossier_id>/archive.pdf")
def dossier_archive_pdf(dossier_id: str) -> Response:
    """The searchable PDF/A copy of a dossier in the user's units (404 otherwise, or before it is made)."""
    return archive_pdf_download(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@bp.get("/search")
def search() -> tuple[str, int] | str:
    """Dossiers whose pages match, SEARCH_PAGE_SIZE at a time, with the facets as links that add a filter."""
    query = request.args.get("q", "").strip()
    page_number = max(request.args.get("page", 1, type=int), 1)
    filters = active_filters(request.args)
    if not query:
        return render_template("search.html", query="", result=None, filters=filters)
    wanted = search_request(
        context.db(),
        context.current_user(),
        request.args,
        limit=SEARCH_PAGE_SIZE,
        offset=(page_number - 1) * SEARCH_PAGE_SIZE,
    )
    try:
        result = context.runtime().index.search_dossiers(wanted)
    except QuerySyntaxError as bad:
        page = render_template("search.html", query=query, result=None, filters=filters, error=str(bad))
        return page, 400
    return render_template(
        "search.html", query=query, result=result, filters=filters, page_number=page_number, page_size=SEARCH_PAGE_SIZE
    )
