"""API bearer tokens: made on the account page (shown once) or by the CLI, acting as their owner within the owner's
scope and role, refused (401 JSON) when revoked, expired, unknown or when the owner is deactivated; and
cookie-authenticated API writes that come from another site are refused."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from archive import tokens
from archive.models import ApiToken, AuditEntry, User, utcnow
from archive.runtime import Runtime
from tests.web.helpers import csrf_token, login, pdf_bytes, plant_dossier

_TOKEN = re.compile(r"hoso_[A-Za-z0-9_-]{40,}")


def _new_token(runtime: Runtime, username: str, name: str = "máy quét", expires_days: int | None = None) -> str:
    with runtime.sessions() as session:
        owner = session.scalars(select(User).where(User.username == username)).one()
        return tokens.create(session, owner, name, expires_days).token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_made_on_the_account_page_is_shown_once_and_stored_as_its_hash(
    client: FlaskClient, runtime: Runtime
) -> None:
    login(client, "canbo")
    data = {"name": "máy quét phòng 2", "expires_days": "30", "csrf_token": csrf_token(client, "/account/tokens")}
    page = client.post("/account/tokens", data=data).get_data(as_text=True)
    shown = _TOKEN.findall(page)
    assert len(shown) == 1
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "máy quét phòng 2" in listing and shown[0] not in listing and shown[0][:12] in listing
    with runtime.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(shown[0].encode()).hexdigest()
        assert row.expires_at is not None and row.user.username == "canbo"


def test_a_token_acts_as_its_owner_within_the_owners_units(client: FlaskClient, runtime: Runtime) -> None:
    inside = plant_dossier(runtime, "LCI-D1", "TK-1", ["Bìa hồ sơ"])
    outside = plant_dossier(runtime, "QNI-D1", "TK-2", ["Bìa hồ sơ"])
    token = _new_token(runtime, "canbo")
    assert client.get(f"/api/v1/dossiers/{inside}", headers=_bearer(token)).status_code == 200
    assert client.get(f"/api/v1/dossiers/{outside}", headers=_bearer(token)).status_code == 404
    with runtime.sessions() as session:
        assert session.scalars(select(ApiToken)).one().last_used_at is not None


def test_a_token_has_its_owners_role(client: FlaskClient, runtime: Runtime) -> None:
    token = _new_token(runtime, "kiemsoat")  # an inspector reads but does not upload
    data = {"file": (pdf_bytes(), "a.pdf"), "case_number": "1", "unit": "LCI-D1"}
    response = client.post("/api/v1/dossiers", data=data, headers=_bearer(token))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_revoked_expired_unknown_tokens_and_deactivated_owners_get_401_json(
    client: FlaskClient, runtime: Runtime
) -> None:
    revoked, expired, orphaned = (_new_token(runtime, name) for name in ("canbo", "doitruong", "kiemsoat"))
    with runtime.sessions() as session:
        rows = {row.user.username: row for row in session.scalars(select(ApiToken))}
        tokens.revoke(session, rows["canbo"])
        rows["doitruong"].expires_at = utcnow() - timedelta(minutes=1)
        rows["kiemsoat"].user.active = False
        session.commit()
    for token in (revoked, expired, orphaned, "hoso_not-a-real-token", "something-else"):
        response = client.get("/api/v1/search?q=x", headers=_bearer(token))
        assert response.status_code == 401, token
        assert response.get_json()["error"] == "unauthorized"


def test_a_bad_token_is_not_rescued_by_a_session_cookie(client: FlaskClient) -> None:
    login(client, "canbo")
    assert client.get("/api/v1/search?q=x", headers=_bearer("hoso_wrong")).status_code == 401


def test_bearer_tokens_open_the_api_only(client: FlaskClient, runtime: Runtime) -> None:
    token = _new_token(runtime, "canbo")
    assert client.get("/api/v1/search?q=x", headers=_bearer(token)).status_code == 200
    assert client.get("/", headers=_bearer(token)).status_code == 302, "pages need a signed-in person"


def test_only_the_owner_revokes_a_token_on_the_account_page(client: FlaskClient, runtime: Runtime) -> None:
    token = _new_token(runtime, "doitruong")
    with runtime.sessions() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    login(client, "canbo")  # same team, but not the owner
    revoke = f"/account/tokens/{token_id}/revoke"
    assert client.post(revoke, data={"csrf_token": csrf_token(client, "/account/tokens")}).status_code == 404
    assert client.get("/api/v1/search?q=x", headers=_bearer(token)).status_code == 200
    login(client, "doitruong")
    assert client.post(revoke, data={"csrf_token": csrf_token(client, "/account/tokens")}).status_code == 303
    assert client.get("/api/v1/search?q=x", headers=_bearer(token)).status_code == 401
    with runtime.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("token.create") == 1 and actions.count("token.revoke") == 1


def test_a_cookie_authenticated_api_write_from_another_site_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        response = client.post("/api/v1/dossiers", data={"case_number": "1"}, headers=headers)
        assert response.status_code == 403, headers
        assert response.get_json()["error"] == "cross_site_request"
    assert client.get("/api/v1/search?q=x", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200, "reads pass"
    same_site = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/dossiers", data={}, headers=same_site).get_json()["error"] == "missing_file"
    token = _new_token(runtime, "canbo")
    client.delete_cookie("session")
    bearer_from_anywhere = _bearer(token) | {"Origin": "https://scanner.example"}
    assert client.post("/api/v1/dossiers", data={}, headers=bearer_from_anywhere).get_json()["error"] == "missing_file"
