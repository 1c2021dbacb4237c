"""Case records in the web app: the list, the create and edit forms, the case page with its dossiers, an
upload for the case, and the same under /api/v1/cases.

Validation, scope, permission and the audit entry live in ``archive.cases``; this module reads forms and
JSON, and shapes pages and responses. A case outside the user's units answers 404 like a missing one;
a role that may not edit gets 403 on the forms and the write endpoints.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from archive import cases as domain
from archive.handover import Actor, versions_of
from archive.models import Case, Unit
from archive.permissions import allows
from archive.refusals import Refusal
from archive.web import context
from archive.web.auth import remote_addr, require
from archive.web.scope import unit_filter, units_in_scope
from archive.web.upload import upload

bp = Blueprint("cases", __name__)
api_bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")

PAGE_SIZE = 50
MAX_API_LIMIT = 200
# Keys of a case as the API returns it that a client may send back unchanged (GET, edit, PATCH); ignored.
READ_ONLY_FIELDS = frozenset({"case_id", "unit_name", "source", "created_at", "updated_at", "dossier_ids"})
FORM_FIELDS = (
    "case_number",
    "unit",
    "subject_name",
    "tax_code",
    "address",
    "decision_number",
    "decided_on",
    "opened_on",
    "closed_on",
    "fine_amount",
    "confiscated_value",
    "goods_sold_value",
)


def _actor() -> Actor:
    return Actor(context.current_user(), remote_addr())


def listing(args: MultiDict[str, str], limit: int, offset: int) -> tuple[int, list[Case]]:
    """Cases in the user's units matching ``q`` (number, subject, tax code, decision, violation), ``unit``
    (that unit and those below it) and ``year`` (of the record date, else of entry into hoso); newest first."""
    user = context.current_user()
    query: Select[Any] = select(Case).join(Case.unit).where(unit_filter(user))
    text = " ".join(args.get("q", "").split())
    if text:
        pattern = f"%{text}%"
        columns = (Case.case_number, Case.subject_name, Case.tax_code, Case.decision_number, Case.violation)
        query = query.where(or_(*(column.ilike(pattern) for column in columns)))
    unit_code = args.get("unit", "").strip()
    if unit_code:
        unit = context.db().scalar(select(Unit).where(Unit.code == unit_code))
        path = unit.path if unit is not None else "\0"  # an unknown unit matches nothing
        query = query.where(or_(Unit.path == path, Unit.path.startswith(path + "/", autoescape=True)))
    year = args.get("year", type=int)
    if year:
        start, end = date(year, 1, 1), date(year, 12, 31)
        query = query.where(
            or_(
                Case.opened_on.between(start, end),
                and_(Case.opened_on.is_(None), Case.created_at >= start, Case.created_at < date(year + 1, 1, 1)),
            )
        )
    session = context.db()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Case.unit), selectinload(Case.dossiers))
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def _case(case_id: int) -> Case:
    return domain.case_in_scope(context.db(), context.current_user(), case_id)


def _form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the raw fields ``archive.cases`` cleans; the violation rows are parallel lists."""
    values: dict[str, Any] = {name: form.get(name, "") for name in FORM_FIELDS}
    values["exceeds_authority"] = form.get("exceeds_authority") == "1"
    rows = zip(
        form.getlist("violation_description"),
        form.getlist("violation_legal_basis"),
        form.getlist("violation_fine"),
        strict=False,
    )
    # Rows left empty are dropped here, not later, so an error's row number is the row shown again.
    values["violations"] = [
        {"description": description, "legal_basis": basis, "fine_amount": fine}
        for description, basis, fine in rows
        if description.strip() or basis.strip() or fine.strip()
    ]
    return values


def _display(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values as the form shows them: dates ISO (for date inputs), amounts with dots."""
    shown = dict(values)
    for name, value in values.items():
        if isinstance(value, date):
            shown[name] = value.isoformat()
        elif name in domain.MONEY_FIELDS:
            shown[name] = vnd(value)
    shown["violations"] = [item | {"fine_amount": vnd(item["fine_amount"])} for item in values["violations"]]
    return shown


def vnd(amount: object) -> str:
    """15000000 -> "15.000.000", the way amounts are written in Vietnamese documents; text is kept."""
    return f"{amount:,}".replace(",", ".") if isinstance(amount, int) else str(amount or "")


def _form(case: Case | None, values: dict[str, Any], errors: dict[str, Any], status: int = 200) -> tuple[str, int]:
    units = units_in_scope(context.db(), context.current_user())
    page = render_template("cases/form.html", case=case, values=values, errors=errors, units=units)
    return page, status


@bp.get("/cases")
def index() -> str:
    page_number = max(request.args.get("page", 1, type=int), 1)
    total, rows = listing(request.args, PAGE_SIZE, (page_number - 1) * PAGE_SIZE)
    user = context.current_user()
    return render_template(
        "cases/list.html",
        cases=rows,
        total=total,
        page_number=page_number,
        page_size=PAGE_SIZE,
        args=request.args,
        units=units_in_scope(context.db(), user),
        can_create=user.role in domain.EDITOR_ROLES,
    )


@bp.route("/cases/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    """The form for a new case; the user's own unit is preselected."""
    user = context.current_user()
    _require_editor()
    if request.method == "GET":
        blank = {name: "" for name in FORM_FIELDS} | {"unit": user.unit.code, "violations": []}
        return _form(None, blank, {})
    values = _form_values(request.form)
    try:
        saved = domain.create_case(context.db(), _actor(), values)
    except domain.CaseInvalid as invalid:
        return _form(None, values, invalid.errors, invalid.http_status)
    except domain.CaseExists as exists:
        error = domain.FieldError(exists.detail, exists.message_vi)
        return _form(None, values, {"case_number": error}, exists.http_status)
    flash(_("Đã tạo vụ việc %(number)s.", number=saved.case.case_number), "info")
    return redirect(url_for("cases.detail", case_id=saved.case.id), code=303)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int) -> Response | tuple[str, int]:
    case = _case(case_id)
    _require_editor()
    if request.method == "GET":
        return _form(case, _display(domain.stored_values(case)), {})
    values = _form_values(request.form)
    try:
        saved = domain.update_case(context.runtime(), context.db(), _actor(), case_id, values)
    except domain.CaseInvalid as invalid:
        return _form(_case(case_id), values, invalid.errors, invalid.http_status)
    except domain.CaseExists as exists:
        error = domain.FieldError(exists.detail, exists.message_vi)
        return _form(_case(case_id), values, {"case_number": error}, exists.http_status)
    if not saved.changed:
        flash(_("Không có thay đổi nào."), "info")
    elif saved.index_stale:
        flash(_("Đã lưu; chỉ mục tìm kiếm chưa cập nhật, hãy chạy lại lập chỉ mục (hoso reindex)."), "error")
    else:
        flash(_("Đã lưu thay đổi."), "info")
    return redirect(url_for("cases.detail", case_id=case_id), code=303)


def _require_editor() -> None:
    user = context.current_user()
    if user.role not in domain.EDITOR_ROLES:
        raise domain.CaseEditNotAllowed(f"A user with role {user.role!r} may not create or edit case records.")


@bp.get("/cases/<int:case_id>")
def detail(case_id: int) -> str:
    session = context.db()
    case = _case(case_id)
    user = context.current_user()
    originals = [dossier for dossier in case.dossiers if dossier.supersedes_id is None]
    chains = [versions_of(session, dossier) for dossier in sorted(originals, key=lambda d: d.created_at)]
    return render_template(
        "cases/detail.html",
        case=case,
        chains=chains,
        can_edit=domain.may_edit(user, case.unit.path),
        can_upload=allows(user.role, "dossier.upload"),
    )


@bp.route("/cases/<int:case_id>/upload", methods=["GET", "POST"])
def upload_for_case(case_id: int) -> Response | tuple[str, int]:
    """The upload form with the case fixed: the file goes to this case, whatever its number looks like."""
    case = _case(case_id)
    user = require("dossier.upload")
    if request.method == "GET":
        return render_template("cases/upload.html", case=case), 200
    try:
        dossier, created = upload(user, request.files.get("file"), "", "", case_id=case.id)
    except Refusal as refused:
        return render_template("cases/upload.html", case=case, error=refused), refused.http_status
    if not created:
        flash(_("Tệp này đã có trong kho; đây là hồ sơ đã lưu trước đó."), "info")
    return redirect(url_for("pages.dossier", dossier_id=dossier.id))


# The API: the same functions, JSON in and out.


@api_bp.errorhandler(domain.CaseInvalid)
def _invalid(invalid: domain.CaseInvalid) -> tuple[dict[str, Any], int]:
    """The usual error shape plus ``fields``: each invalid field with its English detail and Vietnamese message."""
    return invalid.to_dict(), invalid.http_status


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send the case fields as a JSON object (Content-Type: application/json).")
    unknown = sorted(set(body) - domain.KNOWN_FIELDS - READ_ONLY_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown fields: {', '.join(unknown)}; see docs/cases.md.")
    return {name: value for name, value in body.items() if name not in READ_ONLY_FIELDS}


@api_bp.get("/cases")
def api_list() -> dict[str, Any]:
    """``q``, ``unit``, ``year`` as on the page; ``limit`` (1-200, default 50) and ``offset``."""
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int), 1), MAX_API_LIMIT)
    offset = max(request.args.get("offset", 0, type=int), 0)
    total, rows = listing(request.args, limit, offset)
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if offset + limit < total else None,
        "cases": [domain.case_record(case) for case in rows],
    }


@api_bp.post("/cases")
def api_create() -> tuple[dict[str, Any], int]:
    saved = domain.create_case(context.db(), _actor(), _json_body())
    return domain.case_record(saved.case), 201


@api_bp.get("/cases/<int:case_id>")
def api_case(case_id: int) -> dict[str, Any]:
    return domain.case_record(_case(case_id))


@api_bp.patch("/cases/<int:case_id>")
def api_update(case_id: int) -> dict[str, Any]:
    """The fields sent change, the others stay; ``changed`` lists what differed (empty: nothing written)."""
    body = _json_body()
    saved = domain.update_case(context.runtime(), context.db(), _actor(), case_id, body)
    record = domain.case_record(_case(case_id))
    return record | {"changed": sorted(saved.changed), "index_stale": saved.index_stale}


@api_bp.post("/cases/<int:case_id>/dossiers")
def api_upload(case_id: int) -> tuple[dict[str, Any], int]:
    """Multipart ``file`` for this case; the answer is that of ``POST /api/v1/dossiers``."""
    case = _case(case_id)  # scope before role, as on the page: another unit's case does not exist
    user = require("dossier.upload")
    dossier, created = upload(user, request.files.get("file"), "", "", case_id=case.id)
    body = {"dossier_id": dossier.id, "status": dossier.status, "page_count": dossier.page_count, "created": created}
    return body, 201 if created else 200


def register(app: Flask) -> None:
    """Blueprints (the API exempt from form CSRF tokens, like the rest of /api/v1) and the amount filter."""
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.extensions["csrf"].exempt(api_bp)
    app.add_template_filter(vnd)
