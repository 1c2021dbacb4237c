"""Signing in and out, the login guard (redirect for pages, 401 JSON for the API), CSRF on forms, the lock
after repeated wrong passwords, inactive accounts, the idle session limit, and the audit of sign-ins."""

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.models import AuditEntry, User, utcnow
from archive.runtime import Runtime
from archive.web import create_app
from archive.web.filters import vn_time
from ingest.queue import JobQueue
from tests.web.helpers import csrf_token, login


def test_login_with_the_right_password_opens_the_dashboard(client: FlaskClient) -> None:
    login(client, "canbo")
    page = client.get("/")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_vietnamese(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "canbo", "password": "sai", "csrf_token": token})
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_pages_send_anonymous_visitors_to_the_login_form(client: FlaskClient) -> None:
    response = client.get("/search?q=abc")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/search")
    assert "Đăng nhập" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_api_answers_anonymous_callers_401_json(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/dossiers/abc"), client.post("/api/v1/dossiers")):
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"


def test_login_returns_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    data = {"username": "canbo", "password": "hoso-demo", "csrf_token": csrf_token(client), "next": "/search?q=x"}
    assert client.post("/login", data=data).headers["Location"] == "/search?q=x"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    data = data | {"next": "//evil.example/", "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).headers["Location"] == "/"


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_form_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "canbo", "password": "hoso-demo"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    login(client, "canbo")
    assert client.post("/logout").status_code == 400


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "canbo", "password": "hoso-demo", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def _attempt(client: FlaskClient, username: str, password: str) -> str:
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data).get_data(as_text=True)


def _audit_actions(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [(entry.action, entry.actor) for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _user(runtime: Runtime, username: str) -> User:
    with runtime.sessions() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def test_repeated_wrong_passwords_lock_the_account_until_a_time_shown_in_vietnamese(
    client: FlaskClient, runtime: Runtime
) -> None:
    runtime.settings = replace(runtime.settings, login_max_failures=3, login_lock_minutes=15)
    for _ in range(2):
        assert "Sai tên đăng nhập hoặc mật khẩu" in _attempt(client, "canbo", "sai")
    locked = _attempt(client, "canbo", "sai")
    assert "Tài khoản tạm khóa vì nhập sai mật khẩu nhiều lần" in locked
    locked_until = _user(runtime, "canbo").locked_until
    assert locked_until is not None
    assert vn_time(locked_until) in locked
    assert "Tài khoản tạm khóa" in _attempt(client, "canbo", "hoso-demo"), "the right password must wait out the lock"
    assert client.get("/").status_code == 302
    actions = _audit_actions(runtime)
    assert actions == [("login_failed", "canbo")] * 2 + [("account_locked", "canbo"), ("login_failed", "canbo")]


def test_the_lock_ends_after_its_minutes_and_a_good_login_resets_the_count(
    client: FlaskClient, runtime: Runtime
) -> None:
    runtime.settings = replace(runtime.settings, login_max_failures=2)
    _attempt(client, "canbo", "sai")
    _attempt(client, "canbo", "sai")
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.username == "canbo")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
        session.commit()
    login(client, "canbo")
    user = _user(runtime, "canbo")
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert user.last_login_at is not None
    assert _audit_actions(runtime)[-1] == ("login", "canbo")


def test_an_inactive_person_cannot_sign_in_and_loses_a_running_session(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    with runtime.sessions() as session:
        session.scalars(select(User).where(User.username == "canbo")).one().active = False
        session.commit()
    assert client.get("/").status_code == 302
    assert "Tài khoản đã ngừng hoạt động" in _attempt(client, "canbo", "hoso-demo")
    assert "Sai tên đăng nhập" in _attempt(client, "canbo", "sai"), "a wrong password tells nothing about the account"


def test_an_unknown_name_is_audited_under_the_national_unit(client: FlaskClient, runtime: Runtime) -> None:
    _attempt(client, "khong-co-ai", "sai")
    with runtime.sessions() as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor, entry.unit_path) == ("login_failed", "system", "VN")
    assert entry.detail == {"username": "khong-co-ai", "reason": "unknown_user"}
    assert entry.remote_addr == "127.0.0.1"


def test_the_session_ends_after_the_idle_hours(
    runtime: Runtime, queue: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings = replace(runtime.settings, session_hours=2)
    client = create_app(runtime, queue).test_client()
    login(client, "canbo")
    cookie = client.get("/").headers["Set-Cookie"]
    assert "Expires=" in cookie, "a permanent session, re-signed on each request"
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 1.5 * 3600)
    assert client.get("/").status_code == 200, "active within the idle limit"
    monkeypatch.setattr(time, "time", lambda: now + 3.0 * 3600)
    assert client.get("/").status_code == 200, "the previous request renewed the session"
    kept = client.get_cookie("session")
    assert kept is not None
    monkeypatch.setattr(time, "time", lambda: now + 5.1 * 3600)
    client.set_cookie("session", kept.value)  # a browser (or a thief) that kept the cookie past its expiry
    assert client.get("/").status_code == 302, "two idle hours later the server refuses the cookie"


def test_secure_cookies_are_a_setting(runtime: Runtime, queue: JobQueue) -> None:
    assert create_app(runtime, queue).config["SESSION_COOKIE_SECURE"] is False
    runtime.settings = replace(runtime.settings, secure_cookies=True)
    assert create_app(runtime, queue).config["SESSION_COOKIE_SECURE"] is True


def test_a_person_changes_their_password_with_the_current_one(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    token = csrf_token(client, "/account/password")
    form = {"current_password": "hoso-demo", "new_password": "mat-khau-moi-2026", "csrf_token": token}
    refusals = [
        (form | {"current_password": "sai", "confirm_password": "mat-khau-moi-2026"}, "Mật khẩu hiện tại không đúng."),
        (form | {"confirm_password": "mat-khau-khac"}, "Hai lần nhập mật khẩu mới không khớp."),
        (form | {"new_password": "ngan", "confirm_password": "ngan"}, "Mật khẩu phải có ít nhất 10 ký tự."),
    ]
    for data, message in refusals:
        response = client.post("/account/password", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.post("/account/password", data=form | {"confirm_password": "mat-khau-moi-2026"}).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "Sai tên đăng nhập" in _attempt(client, "canbo", "hoso-demo")
    login(client, "canbo", "mat-khau-moi-2026")
    with runtime.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password")).one()
    assert (entry.actor, entry.detail) == ("canbo", {"username": "canbo"})
