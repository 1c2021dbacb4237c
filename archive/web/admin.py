"""Administration pages: people (add, change role and unit, deactivate, unlock) and the unit tree (add).

Only roles with ``accounts.manage`` (admin) reach them, and only within the admin's own unit subtree: an
admin of a province manages that province's people and teams, and people or units outside it answer 404
like every other object out of scope. Each change goes through ``archive.accounts``, which audits it.
A new person's password is generated and shown once on the answer page, never sent by mail or kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from archive import accounts, fixity
from archive.accounts import AccountError
from archive.models import ROLES, Unit, User, covers
from archive.web import context
from archive.web.auth import remote_addr, require
from archive.web.scope import unit_filter, units_in_scope

bp = Blueprint("admin", __name__, url_prefix="/admin")

PERSON_ROLE_VI = {
    "officer": lazy_gettext("Cán bộ"),
    "team_leader": lazy_gettext("Đội trưởng"),
    "archivist": lazy_gettext("Văn thư lưu trữ"),
    "inspector": lazy_gettext("Kiểm soát viên"),
    "auditor": lazy_gettext("Kiểm tra nội bộ"),
    "admin": lazy_gettext("Quản trị hệ thống"),
}


def _admin() -> User:
    return require("accounts.manage")


def _unit_in_scope(admin: User, code: str) -> Unit:
    unit = context.db().scalar(select(Unit).where(Unit.code == code))
    if unit is None or not covers(admin, unit.path):
        raise NotFound(f"No unit {code!r} in your units.")
    return unit


def _user_in_scope(admin: User, user_id: int) -> User:
    user = context.db().get(User, user_id)
    if user is None or not covers(admin, user.unit.path):
        raise NotFound(f"No user {user_id} in your units.")
    return user


def _users_page(admin: User, status: int = 200, **shown: object) -> tuple[str, int]:
    session = context.db()
    people = session.scalars(select(User).join(User.unit).where(unit_filter(admin)).order_by(Unit.path, User.username))
    page = render_template(
        "admin/users.html",
        people=list(people),
        units=units_in_scope(session, admin),
        roles=ROLES,
        role_names={role: str(label) for role, label in PERSON_ROLE_VI.items()},
        now=accounts.utcnow(),
        as_utc=accounts.as_utc,
        **shown,
    )
    return page, status


@bp.get("/users")
def users() -> tuple[str, int]:
    return _users_page(_admin())


@bp.post("/users")
def add_user() -> tuple[str, int]:
    """Add a person; the answer shows the generated password once."""
    admin = _admin()
    unit = _unit_in_scope(admin, request.form.get("unit", ""))
    try:
        user, password = accounts.create_user(
            context.db(),
            admin,
            remote_addr(),
            request.form.get("username", "").strip(),
            request.form.get("role", ""),
            unit.code,
            request.form.get("full_name", "").strip(),
        )
    except AccountError as refused:
        context.db().rollback()
        return _users_page(admin, 400, error=refused.message_vi)
    return _users_page(admin, created=user, password=password)


@bp.post("/users/<int:user_id>")
def change_user(user_id: int) -> Response | tuple[str, int]:
    """Role, unit and active in one form; an admin cannot deactivate or demote themselves (no lock-out)."""
    admin = _admin()
    user = _user_in_scope(admin, user_id)
    unit = _unit_in_scope(admin, request.form.get("unit", ""))
    role, active = request.form.get("role", ""), request.form.get("active") == "1"
    if user.id == admin.id and (role != admin.role or not active):
        return _users_page(admin, 400, error=_("Không thể tự hạ quyền hoặc tự khóa tài khoản của mình."))
    try:
        accounts.change_user(context.db(), admin, remote_addr(), user, role, unit.code, active)
    except AccountError as refused:
        context.db().rollback()
        return _users_page(admin, 400, error=refused.message_vi)
    flash(_("Đã lưu thay đổi của %(name)s.", name=user.username), "info")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> tuple[str, int]:
    """A new generated password for someone who forgot theirs, shown once like a new person's."""
    admin = _admin()
    user = _user_in_scope(admin, user_id)
    password = accounts.generate_password()
    accounts.set_password(context.db(), admin, remote_addr(), user, password)
    return _users_page(admin, created=user, password=password)


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int) -> Response:
    admin = _admin()
    user = _user_in_scope(admin, user_id)
    accounts.unlock_user(context.db(), admin, remote_addr(), user)
    flash(_("Đã mở khóa tài khoản %(name)s.", name=user.username), "info")
    return redirect(url_for("admin.users"), code=303)


def _units_page(admin: User, status: int = 200, error: str = "") -> tuple[str, int]:
    units = units_in_scope(context.db(), admin)
    return render_template("admin/units.html", units=units, error=error), status


@bp.get("/units")
def units() -> tuple[str, int]:
    return _units_page(_admin())


@bp.post("/units")
def add_unit() -> Response | tuple[str, int]:
    """A unit under one in the admin's subtree (a team under a province, a province under the national unit)."""
    admin = _admin()
    parent = _unit_in_scope(admin, request.form.get("parent", ""))
    code = request.form.get("code", "").strip().upper()
    try:
        accounts.create_unit(context.db(), admin, remote_addr(), code, request.form.get("name", ""), parent.code)
    except AccountError as refused:
        context.db().rollback()
        return _units_page(admin, 400, refused.message_vi)
    flash(_("Đã thêm đơn vị %(code)s.", code=code), "info")
    return redirect(url_for("admin.units"), code=303)


@bp.get("/fixity")
def fixity_page() -> tuple[str, int]:
    """The newest fixity check: when, what was read, and the missing or altered objects of the admin's units.

    The counts are the whole archive's (one check covers every unit); the problem rows are only those of
    the admin's subtree, like every other list, with the number of others left out.
    """
    admin = _admin()
    session = context.db()
    runs = fixity.recent_runs(session)
    last = runs[0] if runs else None
    problems = list((last.problems or []) if last is not None else [])
    shown = [problem for problem in problems if covers(admin, problem.get("unit_path", ""))]
    page = render_template(
        "admin/fixity.html",
        last=last,
        runs=runs,
        problems=shown,
        hidden=len(problems) - len(shown),
        hours=context.runtime().settings.fixity_hours,
    )
    return page, 200
