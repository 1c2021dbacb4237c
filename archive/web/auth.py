"""Signing in and out with a session cookie, and the guard that keeps every other route behind it.

The guard is app-wide (default deny): a new route is private unless listed in ``PUBLIC_ENDPOINTS``.
Pages send an anonymous visitor to the login form; the API answers 401 JSON instead, since a script
cannot follow a redirect to a form.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from archive.accounts import authenticate
from archive.models import User
from archive.web import context
from archive.web.errors import is_api_request

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
USER_ID_KEY = "user_id"


@bp.before_app_request
def load_user() -> Response | None:
    """Set ``g.user`` from the session, then refuse anonymous requests to anything not public."""
    user_id = session.get(USER_ID_KEY)
    g.user = context.db().get(User, user_id) if user_id is not None else None
    if g.user is not None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if is_api_request():
        raise Unauthorized("Log in first; bearer tokens for scripts are not available yet.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect to another host would lend our login to phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    user = authenticate(context.db(), username, request.form.get("password", ""))
    if user is None:
        error = "Sai tên đăng nhập hoặc mật khẩu"
        return render_template("login.html", error=error, username=username, next=request.form.get("next", ""))
    session.clear()  # a fresh session on login, so a planted cookie cannot ride into the signed-in one
    session[USER_ID_KEY] = user.id
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))
