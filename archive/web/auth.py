"""Signing in and out, the guard that keeps every other route behind it, bearer tokens for the API, and the
permission check the views call.

The guard is app-wide (default deny): a new route is private unless listed in ``PUBLIC_ENDPOINTS``.
Pages send an anonymous visitor to the login form; the API answers 401 JSON instead, since a script
cannot follow a redirect to a form.

Who is asking:
- ``/api/`` requests with ``Authorization: Bearer hoso_…`` act as the token's owner (``archive/tokens.py``);
  a token that is unknown, revoked, expired or whose owner is deactivated is a 401, never a fall-back to
  the cookie.
- Otherwise the signed session cookie. The session is permanent with an idle limit
  (``HOSO_SESSION_HOURS``): Flask re-signs it on every request, and a cookie older than the limit is
  rejected by the server even if a browser kept it. A deactivated person's session ends at the next request.

The API is exempt from form CSRF tokens (scripts cannot fetch them), so a state-changing API request
authenticated by the *cookie* must not come from another site: browsers mark such requests with
``Sec-Fetch-Site`` (or, older ones, ``Origin``), and those are refused with 403 ``cross_site_request``.
Requests without either header come from programs, which no other site can make a browser send. This
is the check Go's ``http.CrossOriginProtection`` makes; SameSite=Lax on the cookie is the second layer.
Bearer requests carry no ambient credential and need no such check.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, Unauthorized
from werkzeug.wrappers import Response

from archive import tokens
from archive.accounts import LockPolicy, sign_in
from archive.models import User
from archive.permissions import allows, roles_for
from archive.web import context
from archive.web.errors import is_api_request
from archive.web.filters import vn_time

bp = Blueprint("auth", __name__)

# The language switch is on the login page too, so it must work before signing in (it only sets the session's "lang").
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "language.switch"})
USER_ID_KEY = "user_id"
# Kept across signing in: the interface language chosen before (see language.py).
KEPT_ON_LOGIN = ("lang",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = "bearer "


class CrossSiteRequest(Forbidden):
    name = "Cross Site Request"  # the API error code: cross_site_request
    description = "A cookie-authenticated API request that changes data must come from this site; use a token."


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Session lifetime and the Secure flag come from the settings of the app's runtime."""
    settings = state.app.extensions[context.RUNTIME_KEY].settings
    state.app.config.update(
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len(BEARER) :].strip() if header.lower().startswith(BEARER) else None


def _cookie_user() -> User | None:
    user_id = session.get(USER_ID_KEY)
    user = context.db().get(User, user_id) if user_id is not None else None
    if user is not None and not user.active:
        session.clear()
        return None
    return user


def _cross_site() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc != request.host


@bp.before_app_request
def load_user() -> Response | None:
    """Set ``g.user`` (and ``g.via_token``), then refuse anonymous requests to anything not public."""
    token = _bearer_token() if is_api_request() else None
    g.via_token = token is not None
    if token is not None:
        g.user = tokens.owner_of(context.db(), token)
        if g.user is None:
            raise Unauthorized("The bearer token is unknown, revoked or expired, or its owner is deactivated.")
        return None
    g.user = _cookie_user()
    if g.user is not None:
        if is_api_request() and request.method not in SAFE_METHODS and _cross_site():
            raise CrossSiteRequest()
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if is_api_request():
        raise Unauthorized("Log in first, or send `Authorization: Bearer <token>` (see docs/access.md).")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require(action: str) -> User:
    """The signed-in user if their role may take ``action`` (``archive/permissions.py``), else 403."""
    user = context.current_user()
    if not allows(user.role, action):
        allowed = ", ".join(sorted(roles_for(action)))
        raise Forbidden(f"A user with role {user.role!r} may not {action}; allowed: {allowed}.")
    return user


def remote_addr() -> str:
    return request.remote_addr or ""


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect to another host would lend our login to phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.dashboard")


def _refusal_message(result: str, locked_until: Any) -> str:
    if result in ("locked", "locked_now"):
        return _(
            "Tài khoản tạm khóa vì nhập sai mật khẩu nhiều lần. Thử lại sau %(until)s (giờ Việt Nam) "
            "hoặc nhờ quản trị mở khóa.",
            until=vn_time(locked_until),
        )
    if result == "inactive":
        return _("Tài khoản đã ngừng hoạt động. Liên hệ quản trị hệ thống.")
    return _("Sai tên đăng nhập hoặc mật khẩu")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    settings = context.runtime().settings
    policy = LockPolicy(settings.login_max_failures, settings.login_lock_minutes)
    outcome = sign_in(context.db(), username, request.form.get("password", ""), policy, remote_addr())
    if not outcome.ok or outcome.user is None:
        error = _refusal_message(outcome.result, outcome.locked_until)
        return render_template("login.html", error=error, username=username, next=request.form.get("next", ""))
    kept = {key: session[key] for key in KEPT_ON_LOGIN if key in session}
    session.clear()  # a fresh session on login, so a planted cookie cannot ride into the signed-in one
    session.update(kept)
    session.permanent = True
    session[USER_ID_KEY] = outcome.user.id
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))
