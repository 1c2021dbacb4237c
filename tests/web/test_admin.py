"""The administration pages: people and units of the admin's own subtree, every change audited."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import add_user
from archive.models import AuditEntry, Unit, User, utcnow
from archive.runtime import Runtime
from tests.web.helpers import csrf_token, login

_PASSWORD = re.compile(r'<p class="code">([^<]+)</p>')


def _admin_of_lci(client: FlaskClient, runtime: Runtime) -> str:
    with runtime.sessions() as session:
        add_user(session, "quantri_lci", "hoso-demo", "admin", "LCI")
        session.commit()
    login(client, "quantri_lci")
    return csrf_token(client, "/admin/users")


def _user(runtime: Runtime, username: str) -> User:
    with runtime.sessions() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def test_an_admin_adds_a_person_whose_password_is_shown_once(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    data = {"username": "canbo2", "full_name": "Vũ Văn Giang", "role": "officer", "unit": "LCI-D2", "csrf_token": token}
    page = client.post("/admin/users", data=data).get_data(as_text=True)
    password = _PASSWORD.search(page)
    assert password is not None
    assert password.group(1) not in client.get("/admin/users").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    login(client, "canbo2", password.group(1))
    again = client.post("/admin/users", data=data | {"csrf_token": csrf_token(client, "/account/tokens")})
    assert again.status_code == 403, "the new officer is no admin"


def test_an_admin_sees_and_manages_only_their_subtree(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "canbo" in listing and "kiemtoan" not in listing and "QNI" not in listing
    kiemtoan = _user(runtime, "kiemtoan").id
    change = {"role": "officer", "unit": "LCI-D1", "active": "1", "csrf_token": token}
    assert client.post(f"/admin/users/{kiemtoan}", data=change).status_code == 404
    canbo = _user(runtime, "canbo").id
    assert client.post(f"/admin/users/{canbo}", data=change | {"unit": "QNI-D1"}).status_code == 404
    data = {"username": "x1", "role": "officer", "unit": "QNI-D1", "csrf_token": token}
    assert client.post("/admin/users", data=data).status_code == 404
    units = client.get("/admin/units").get_data(as_text=True)
    assert "LCI-D2" in units and "QNI" not in units


def test_role_unit_deactivation_and_unlock_are_audited(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    canbo = _user(runtime, "canbo").id
    with runtime.sessions() as session:
        session.get_one(User, canbo).locked_until = utcnow().replace(year=2100)
        session.commit()
    assert "Mở khóa" in client.get("/admin/users").get_data(as_text=True)
    assert client.post(f"/admin/users/{canbo}/unlock", data={"csrf_token": token}).status_code == 303
    change = {"role": "inspector", "unit": "LCI-D2", "csrf_token": token}  # no "active": deactivated
    assert client.post(f"/admin/users/{canbo}", data=change).status_code == 303
    user = _user(runtime, "canbo")
    assert (user.role, user.active, user.locked_until) == ("inspector", False, None)
    with runtime.sessions() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("user.%"))))
    assert [(e.action, e.actor, e.unit_path) for e in entries] == [
        ("user.unlock", "quantri_lci", "VN/LCI/LCI-D1"),
        ("user.change", "quantri_lci", "VN/LCI/LCI-D2"),
    ]
    assert entries[1].detail == {
        "username": "canbo",
        "role": ["officer", "inspector"],
        "unit": ["LCI-D1", "LCI-D2"],
        "active": [True, False],
    }


def test_an_admin_cannot_lock_themselves_out(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    own = _user(runtime, "quantri_lci").id
    response = client.post(f"/admin/users/{own}", data={"role": "admin", "unit": "LCI", "csrf_token": token})
    assert response.status_code == 400
    assert "Không thể tự hạ quyền" in response.get_data(as_text=True)
    assert _user(runtime, "quantri_lci").active


def test_units_are_added_under_a_unit_of_the_subtree(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    data = {"code": "lci-d3", "name": "Đội Quản lý thị trường số 3", "parent": "LCI", "csrf_token": token}
    assert client.post("/admin/units", data=data).status_code == 303
    with runtime.sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.code == "LCI-D3")).one()
        assert (unit.path, unit.level) == ("VN/LCI/LCI-D3", "team")
    refused = client.post("/admin/units", data=data | {"code": "LCI-D4", "parent": "LCI-D3"})
    assert refused.status_code == 400 and "Đội không có đơn vị trực thuộc" in refused.get_data(as_text=True)
    assert client.post("/admin/units", data=data | {"code": "QNI-D8", "parent": "QNI"}).status_code == 404


def test_an_admin_gives_a_forgetful_person_a_new_password(client: FlaskClient, runtime: Runtime) -> None:
    token = _admin_of_lci(client, runtime)
    page = client.post(f"/admin/users/{_user(runtime, 'doitruong').id}/password", data={"csrf_token": token})
    password = _PASSWORD.search(page.get_data(as_text=True))
    assert page.status_code == 200 and password is not None
    client.post("/logout", data={"csrf_token": token})
    login(client, "doitruong", password.group(1))
