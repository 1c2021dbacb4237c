"""The signed-in person's own account: their password, and their API tokens (list, create, shown once; revoke).

Changing the password needs the current one, so a session left open on a shared computer cannot be turned
into a lasting account. Every role may hold tokens (``tokens.own``): a token does no more than its owner
may. Another person's token answers 404, whoever asks; administrators revoke others' tokens from the
command line (``hoso token revoke``), which is audited like everything else.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from archive import accounts, tokens
from archive.models import ApiToken
from archive.web import context
from archive.web.auth import remote_addr, require

bp = Blueprint("account", __name__, url_prefix="/account")

STATE_VI = {
    "active": lazy_gettext("Đang dùng"),
    "revoked": lazy_gettext("Đã thu hồi"),
    "expired": lazy_gettext("Hết hạn"),
}


def _page(status: int = 200, **shown: object) -> tuple[str, int]:
    rows = tokens.tokens_of(context.db(), require("tokens.own"))
    states = {row.id: tokens.state(row) for row in rows}
    state_names = {state: str(label) for state, label in STATE_VI.items()}
    return render_template("account/tokens.html", rows=rows, states=states, state_names=state_names, **shown), status


@bp.get("/tokens")
def list_tokens() -> tuple[str, int]:
    return _page()


@bp.post("/tokens")
def create_token() -> tuple[str, int]:
    owner = require("tokens.own")
    expires = request.form.get("expires_days", "").strip()
    if expires and not expires.isdigit():
        return _page(400, error=_("Số ngày hết hạn phải là số nguyên dương."))
    try:
        created = tokens.create(
            context.db(), owner, request.form.get("name", ""), int(expires) if expires else None, owner, remote_addr()
        )
    except tokens.TokenError:
        context.db().rollback()
        return _page(400, error=_("Đặt tên cho mã (1-100 ký tự) và số ngày hết hạn từ 1 trở lên."))
    return _page(new_token=created.token)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    owner = require("tokens.own")
    row = context.db().get(ApiToken, token_id)
    if row is None or row.user_id != owner.id:
        raise NotFound(f"No token {token_id} of yours.")
    tokens.revoke(context.db(), row, owner, remote_addr())
    flash(_("Đã thu hồi mã %(name)s.", name=row.name), "info")
    return redirect(url_for("account.list_tokens"), code=303)


def _password_page(status: int = 200, error: str = "") -> tuple[str, int]:
    return render_template("account/password.html", error=error, min_chars=accounts.MIN_PASSWORD_CHARS), status


@bp.get("/password")
def password_form() -> tuple[str, int]:
    return _password_page()


@bp.post("/password")
def change_password() -> Response | tuple[str, int]:
    user = context.current_user()
    new = request.form.get("new_password", "")
    if not accounts.password_matches(user.password_hash, request.form.get("current_password", "")):
        return _password_page(400, _("Mật khẩu hiện tại không đúng."))
    if new != request.form.get("confirm_password", ""):
        return _password_page(400, _("Hai lần nhập mật khẩu mới không khớp."))
    try:
        accounts.set_password(context.db(), user, remote_addr(), user, new)
    except accounts.AccountError as refused:
        context.db().rollback()
        return _password_page(400, refused.message_vi)
    flash(_("Đã đổi mật khẩu."), "info")
    return redirect(url_for("pages.dashboard"), code=303)
