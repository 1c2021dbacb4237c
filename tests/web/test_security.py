"""Web security: headers on every response, rate limits, the required secret key, hostile text shown only
escaped, no stack traces, no file outside the store, no state change without the form token.

docs/security.md maps each threat to the test here that guards it.
"""

from __future__ import annotations

import io
import os
import random
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import func, select

import archive.runtime
from archive import tokens
from archive.cli import EXIT_NOT_CONFIGURED, main
from archive.config import SETTINGS, MissingSecretKey, Settings
from archive.models import AuditEntry, Case, Dossier, User
from archive.runtime import Runtime
from archive.storage import LocalObjectStore, StorageError
from archive.web import create_app
from archive.web.security_headers import CONTENT_SECURITY_POLICY, add_security_headers
from ingest.queue import JobQueue
from search.documents import PageDocument
from tests.conftest import REPO_ROOT
from tests.web.helpers import csrf_token, login, pdf_bytes, plant_dossier

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
# What must never reach a page unescaped: the start of each payload as markup.
RAW_MARKUP = ("<script>alert", "<img src=x")
# As HTML shows it, and as JSON inside a page (the audit log's details, Jinja's tojson) shows it.
ESCAPED_MARKUP = ("&lt;script&gt;", "&lt;img src=x", "\\u003cscript\\u003e")
TEMPLATES = REPO_ROOT / "archive" / "web" / "templates"


def _new_app(runtime: Runtime, queue: JobQueue, **settings: object) -> Flask:
    runtime.settings = replace(runtime.settings, **settings)
    app = create_app(runtime, queue)
    app.config["TESTING"] = True
    return app


def _failed_login(client: FlaskClient, username: str = "canbo", password: str = "sai") -> Response:
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _token(runtime: Runtime, username: str) -> str:
    with runtime.sessions() as session:
        return tokens.create(session, session.scalars(select(User).where(User.username == username)).one(), "t").token


# --- headers -----------------------------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.partition(" ")[2] for part in (p.strip() for p in policy.split(";")) if part}


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    anonymous = [
        client.get("/login"),
        client.get("/"),
        client.get("/api/v1/search?q=x"),
        client.get("/static/hoso.css"),
    ]
    login(client, "canbo")
    signed_in = [client.get("/"), client.get("/api/v1/search?q=x"), client.get("/no-such-page"), client.get("/upload")]
    for response in anonymous + signed_in:
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", response.request.path
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "Strict-Transport-Security" not in headers, "HSTS only behind HTTPS (HOSO_SECURE_COOKIES)"
        response.close()


def test_the_content_security_policy_allows_nothing_inline() -> None:
    policy = _directives(CONTENT_SECURITY_POLICY)
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
    assert policy["object-src"] == policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == policy["form-action"] == "'self'"


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    """What the policy would block: a template that needs it must move it to a static file."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
    forbidden = {
        "inline script": inline_script,
        "style element": re.compile(r"<style\b", re.IGNORECASE),
        "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
        "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
        "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    }
    found = [
        f"{template.relative_to(TEMPLATES)}: {what}"
        for template in TEMPLATES.rglob("*.html")
        for what, pattern in forbidden.items()
        if pattern.search(template.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_pages_and_api_answers_are_not_kept_in_caches(client: FlaskClient, runtime: Runtime) -> None:
    assert "no-store" in client.get("/login").headers["Cache-Control"]
    login(client, "canbo")
    for path in ("/", "/search?q=x", "/api/v1/search?q=x", "/no-such-page"):
        assert "no-store" in client.get(path).headers["Cache-Control"], path
    static = client.get("/static/hoso.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_hsts_is_sent_only_behind_https(runtime: Runtime, queue: JobQueue) -> None:
    client = _new_app(runtime, queue, secure_cookies=True).test_client()
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_pdf_gets_only_the_framing_rule_so_the_browser_viewer_can_show_it(app: Flask) -> None:
    with app.test_request_context("/dossiers/x/archive.pdf"):
        response = add_security_headers(Response(b"%PDF-1.7", mimetype="application/pdf"))
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- rate limits -------------------------------------------------------------------------------------------


def test_failed_sign_ins_are_limited_per_address_with_retry_after(runtime: Runtime, queue: JobQueue) -> None:
    app = _new_app(runtime, queue, login_rate_limit="3/minute", login_max_failures=100)
    client = app.test_client()
    for _ in range(5):  # successful sign-ins do not count: an office behind one address signs in together
        login(client, "canbo")
    for _ in range(3):
        assert _failed_login(client).status_code == 200
    refused = _failed_login(client, password="hoso-demo")  # over the limit even the right password waits
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61  # the window, rounded up to whole seconds
    html = refused.get_data(as_text=True)
    assert "Quá nhiều yêu cầu" in html and "Bạn đã gửi quá nhiều yêu cầu" in html
    assert refused.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    login(elsewhere, "canbo")  # another address is not affected


def test_uploads_are_limited_per_person_across_routes_and_tokens(runtime: Runtime, queue: JobQueue) -> None:
    app = _new_app(runtime, queue, upload_rate_limit="2/hour")
    client = app.test_client()
    token = _token(runtime, "canbo")
    login(client, "canbo")

    def upload(marker: str, headers: dict[str, str] | None = None) -> Response:
        data = {"file": (io.BytesIO(pdf_bytes(marker=marker)), f"{marker}.pdf"), "case_number": marker}
        return client.post("/api/v1/dossiers", data=data, headers=headers or {})

    assert upload("1").status_code == 201
    assert upload("2", {"Authorization": f"Bearer {token}"}).status_code == 201  # a token counts as its owner
    refused = upload("3")
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"] == "rate_limited" and "limit" in body["detail"]
    assert int(refused.headers["Retry-After"]) > 60
    page = client.post("/upload", data={"csrf_token": csrf_token(client, "/upload"), "case_number": "4"})
    assert page.status_code == 429 and "Quá nhiều yêu cầu" in page.get_data(as_text=True)
    assert client.get("/upload").status_code == 200, "showing the form is not an upload"
    login(client, "doitruong")
    assert upload("5").status_code == 201, "another person has their own count"


def test_counts_are_shared_through_redis_between_app_machines(runtime: Runtime, queue: JobQueue) -> None:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as unreachable:
        pytest.skip(f"no Redis at {url}: {unreachable}")
    limits = {"login_rate_limit": "2/minute", "redis_url": url, "login_max_failures": 100}
    first, second = _new_app(runtime, queue, **limits).test_client(), _new_app(runtime, queue, **limits).test_client()
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # a fresh count
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = address
    assert _failed_login(first).status_code == 200
    assert _failed_login(second).status_code == 200
    assert _failed_login(first).status_code == 429
    assert _failed_login(second).status_code == 429


# --- the secret key ----------------------------------------------------------------------------------------


def _bare_settings(home: Path, patch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Settings of a fresh HOSO_HOME, also what a `hoso` command run in this process will build."""
    patch.setattr(archive.runtime, "_current", None)
    for name in SETTINGS:
        patch.delenv(name, raising=False)
    patch.setenv("HOSO_HOME", str(home))
    for name, value in env.items():
        patch.setenv(name, value)
    return Settings.from_env()


def test_the_app_refuses_to_start_without_a_secret_key_unless_a_demo(
    runtime: Runtime, queue: JobQueue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _bare_settings(tmp_path / "bare", monkeypatch)
    with pytest.raises(MissingSecretKey, match="HOSO_SECRET_KEY is not set"):
        create_app(Runtime(settings), queue)
    assert not (settings.home / "secret_key").exists()
    keyed = _bare_settings(tmp_path / "bare", monkeypatch, HOSO_SECRET_KEY="k" * 64)
    assert create_app(Runtime(keyed), queue).secret_key == "k" * 64
    settings.mark_demo()
    demo_key = create_app(Runtime(settings), queue).secret_key
    assert demo_key == (settings.home / "secret_key").read_text().strip()
    assert (settings.home / "secret_key").stat().st_mode & 0o077 == 0


def test_hoso_init_demo_marks_the_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _bare_settings(tmp_path / "plain", monkeypatch)
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert not settings.is_demo()
    settings = _bare_settings(tmp_path / "demo", monkeypatch)
    assert CliRunner().invoke(main, ["init", "--demo", "--json"]).exit_code == 0
    assert settings.is_demo()


def test_hoso_serve_without_a_key_exits_with_a_clear_error(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    env |= {"HOSO_HOME": str(tmp_path / "home"), "HOSO_PORT": "1"}  # never listens: it stops before
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", "serve", "--no-worker"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == EXIT_NOT_CONFIGURED
    log = done.stderr.decode()
    assert "ERROR" in log and "HOSO_SECRET_KEY is not set" in log and "hoso init --demo" in log
    assert "Traceback" not in log


# --- hostile text is shown escaped -------------------------------------------------------------------------


def _assert_escaped(body: str, where: str, shown: bool = False) -> None:
    for raw in RAW_MARKUP:
        assert raw not in body, f"unescaped {raw!r} on {where}"
    if shown:
        assert any(escaped in body for escaped in ESCAPED_MARKUP), f"{where} does not show the text at all"


def _plant_hostile(runtime: Runtime) -> tuple[str, int]:
    """A processed dossier whose OCR text, case number and business name carry markup; (dossier id, case id)."""
    texts = [f"HỒ SƠ VỤ VIỆC {SCRIPT}", f"Biên bản kiểm tra alert {SCRIPT} {IMAGE}", f"Quyết định alert {IMAGE}"]
    dossier_id = plant_dossier(runtime, "LCI-D1", f"7{IMAGE}", texts)
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        dossier.case.subject_name = f"Công ty Hòa Bình {SCRIPT}"
        dossier.case.violation = IMAGE
        case_id, unit_path = dossier.case_id, dossier.case.unit.path
        session.commit()
    runtime.index.add_pages(
        [
            PageDocument(
                dossier_id=dossier_id,
                page=number,
                case_number=f"7{IMAGE}",
                unit_code="LCI-D1",
                unit_path=unit_path,
                text=text,
                subject_name=f"Công ty Hòa Bình {SCRIPT}",
                violation=IMAGE,
            )
            for number, text in enumerate(texts, start=1)
        ]
    )
    return dossier_id, case_id


def test_hostile_text_from_scans_names_and_case_numbers_is_only_ever_shown_escaped(
    client: FlaskClient, runtime: Runtime
) -> None:
    planted, planted_case = _plant_hostile(runtime)
    _failed_login(client, username=SCRIPT)  # an audit entry whose actor is markup
    login(client, "canbo")
    form = {
        "file": (io.BytesIO(pdf_bytes(marker="hostile")), f"{IMAGE}{SCRIPT}.pdf"),
        "case_number": SCRIPT,
        "csrf_token": csrf_token(client, "/upload"),
    }
    uploaded = client.post("/upload", data=form)
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    uploaded_id = uploaded.headers["Location"].rsplit("/", 1)[-1]
    with runtime.sessions() as session:
        uploaded_case = session.get_one(Dossier, uploaded_id).case_id
    login(client, "doitruong")
    reason = {"action": "submit", "reason": f"Giải trình {SCRIPT} {IMAGE}"}
    assert client.post(f"/api/v1/dossiers/{planted}/handover", json=reason).status_code == 200

    pages = {
        "canbo": [
            ("/", True),
            (f"/dossiers/{planted}", True),
            (f"/dossiers/{planted}?page=2&q=alert", True),
            (f"/dossiers/{uploaded_id}", True),
            ("/search?q=alert", True),
            ("/search?q=alert&fragment=1", True),
            ("/cases", True),
            (f"/cases/{planted_case}", True),
            (f"/cases/{uploaded_case}", True),
            (f"/cases/{planted_case}/edit", True),
            ("/handover", True),
            ("/reports", False),
        ],
        "luutru": [("/handover", True), ("/", True), ("/reports/retention", False)],
        "kiemtoan": [("/audit", True), (f"/dossiers/{planted}", True)],
    }
    for username, paths in pages.items():
        login(client, username)
        for path, shown in paths:
            response = client.get(path)
            assert response.status_code == 200, (username, path)
            _assert_escaped(response.get_data(as_text=True), f"{username} {path}", shown)

    login(client, "canbo")
    found = client.get("/api/v1/search?q=alert")
    snippets = [page["snippet_html"] for group in found.get_json()["dossiers"] for page in group["pages"]]
    assert snippets, "the planted pages are found"
    for snippet in snippets:
        _assert_escaped(snippet, "snippet_html of /api/v1/search", shown=True)
    json_answers = [
        found,
        client.get("/api/v1/search/suggest?q=cong+ty+hoa"),
        client.get(f"/api/v1/dossiers/{planted}/pages/2"),
        client.get(f"/api/v1/dossiers/{planted}"),
    ]
    assert json_answers[1].get_json()["suggestions"], "the business name is suggested"
    for answer in json_answers:
        # JSON carries the text as data, never as a page: the browser may not sniff it into HTML.
        assert answer.mimetype == "application/json" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert SCRIPT in json_answers[2].get_json()["text"]  # kept exactly: the viewer inserts it as text
    login(client, "kiemtoan")
    audit = client.get("/api/v1/audit").get_json()
    assert SCRIPT in [entry["detail"].get("username") for entry in audit["entries"]], "the log keeps it exactly"


# --- errors, traversal, CSRF -------------------------------------------------------------------------------


def test_an_exception_in_production_mode_shows_the_generic_page_and_json(runtime: Runtime, queue: JobQueue) -> None:
    app = create_app(runtime, queue)  # TESTING off, DEBUG off: as `hoso serve` runs it
    assert not app.debug and not app.testing

    def explode() -> str:
        raise RuntimeError("secret internals at /srv/hoso/var")

    app.add_url_rule("/explode", view_func=explode)
    app.add_url_rule("/api/v1/explode", "api_explode", view_func=explode)
    client = app.test_client()
    login(client, "canbo")
    page, api = client.get("/explode"), client.get("/api/v1/explode")
    assert page.status_code == api.status_code == 500
    for body in (page.get_data(as_text=True), api.get_data(as_text=True)):
        assert "secret internals" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert "Lỗi hệ thống" in page.get_data(as_text=True)
    assert api.get_json()["error"] == "internal_error"


TRAVERSALS = [
    "..%2f..%2fhoso.db",
    "%2e%2e%2f%2e%2e%2fhoso.db",
    "%2e%2e",
    "..",
    "%2fetc%2fpasswd",
    "..%5c..%5choso.db",
    "secret_key",
    "originals%2f..%2f..%2fsecret_key",
]


def test_paths_with_dots_or_outside_the_store_never_reach_a_file(client: FlaskClient, runtime: Runtime) -> None:
    planted = plant_dossier(runtime, "LCI-D1", "01/LCI", ["trang một", "trang hai"])
    secrets_on_disk = [(runtime.settings.home / "secret_key"), (runtime.settings.home / "hoso.db")]
    secrets_on_disk[0].write_text("the-secret-key-file")
    login(client, "canbo")
    urls = []
    for bad in TRAVERSALS:
        urls += [
            f"/dossiers/{bad}",
            f"/dossiers/{bad}/original",
            f"/dossiers/{bad}/archive.pdf",
            f"/dossiers/{bad}/pages/1.png",
            f"/dossiers/{bad}/pages/1/thumb.png",
            f"/api/v1/dossiers/{bad}",
            f"/api/v1/dossiers/{bad}/archive.pdf",
            f"/api/v1/dossiers/{bad}/pages/1",
            f"/api/v1/dossiers/{planted}/pages/{bad}",
            f"/dossiers/{planted}/pages/{bad}.png",
            f"/handover/batches/1/{bad}.pdf",
            f"/api/v1/reports/{bad}",
            f"/static/{bad}",
            f"/static/..%2f..%2f{bad}",
        ]
    urls += [f"/dossiers/{planted}/pages/{number}.png" for number in ("0", "-1", "99999")]
    urls += ["/static/%2fetc%2fpasswd", "/static//etc/passwd", "/dossiers/..%2F..%2F..%2Fetc%2Fpasswd/original"]
    for url in urls:
        response = client.get(url, follow_redirects=True)  # werkzeug merges "//" with a redirect first
        body = response.get_data()
        assert response.status_code in (400, 404), (url, response.status_code)
        assert b"SQLite format" not in body and b"the-secret-key-file" not in body and b"root:" not in body, url
        response.close()
    store = LocalObjectStore(runtime.settings.storage_dir)
    for key in ("../hoso.db", "/etc/passwd", "originals/../../secret_key", "", "originals/ab/../../../hoso.db"):
        with pytest.raises(StorageError):
            store.open(key)


def _fill(rule_path: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda found: values.get(found.group(1), "1"), rule_path)


def test_every_state_change_needs_the_form_token_or_a_same_site_api_call(
    app: Flask, client: FlaskClient, runtime: Runtime
) -> None:
    planted = plant_dossier(runtime, "LCI-D1", "01/LCI", ["trang một"])
    with runtime.sessions() as session:
        case_id = session.get_one(Dossier, planted).case_id
    values = {"dossier_id": planted, "case_id": str(case_id), "user_id": "1", "token_id": "1"}
    writes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
    ]
    assert len(writes) > 20, "the walk found the routes"
    login(client, "doitruong")
    with runtime.sessions() as session:
        entries_before = session.scalar(select(func.count()).select_from(AuditEntry))
    for rule, method in writes:
        url = _fill(rule.rule, values)
        if rule.rule.startswith("/api/"):
            # Exempt from form tokens: a browser's cross-site request is refused instead.
            for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
                response = client.open(url, method=method, data={"case_number": "x"}, headers=headers)
                assert response.status_code == 403, (method, url, headers)
                assert response.get_json()["error"] == "cross_site_request"
        else:
            response = client.open(url, method=method, data={"case_number": "x", "username": "doitruong"})
            assert response.status_code == 400, (method, url, response.status_code)
            assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in response.get_data(as_text=True), url
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before, "nothing changed"
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert client.get("/").status_code == 200, "still signed in: logout without a token did nothing"


def test_only_api_routes_are_exempt_from_the_form_token(app: Flask) -> None:
    """The exemption must not spread to pages: only /api/ routes skip it (they have the cross-site rule)."""
    csrf = app.extensions["csrf"]
    exempt = {blueprint.name for blueprint in csrf._exempt_blueprints}
    assert exempt and not csrf._exempt_views
    for rule in app.url_map.iter_rules():
        if rule.endpoint.rpartition(".")[0] in exempt:
            assert rule.rule.startswith("/api/"), rule.rule


def test_the_threat_table_names_tests_that_exist() -> None:
    """docs/security.md names the test guarding each threat: a renamed or removed test fails here."""
    page = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    table = page[page.index("## Threats, defences") :]
    missing = []
    for cell in re.findall(r"\|([^|\n]*`[^|\n]*)", table):
        current = ""
        for reference in re.findall(r"`([^`]+)`", cell):
            path, _, test = reference.partition("::")
            if path == "security":
                path = "tests/web/test_security.py"
            if path:
                if not path.endswith(".py"):
                    continue  # a setting, a command, a header value
                current = path
            if not (REPO_ROOT / current).exists():
                missing.append(current)
            elif test and not re.search(rf"^def {test}\(", (REPO_ROOT / current).read_text(), re.MULTILINE):
                missing.append(f"{current}::{test}")
    assert missing == []
