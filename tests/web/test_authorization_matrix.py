"""Every route × anonymous and every role × an object of the caller's units and one of another province.

The table is ``tests/web/authz_matrix.py``; this module builds one app for all of it (a fresh HOSO_HOME from
the demo database), plants the objects, signs each caller in once and replays the session cookie (and, for
the API, a bearer token of the same person) on every call. No OCR: dossiers are planted with their facts.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from archive import audit, tokens
from archive.accounts import add_user
from archive.models import Dossier, HandoverBatch, Unit, User, utcnow
from archive.runtime import Runtime
from archive.storage import original_key
from archive.web import create_app
from ingest.archive_pdf import archive_pdf_key
from ingest.queue import JobQueue
from tests.databases import Template
from tests.web.authz_matrix import ARGUMENTS, MATRIX, Access
from tests.web.conftest import demo_runtime
from tests.web.helpers import csrf_token, pdf_bytes, plant_dossier

# Who calls, by role: all in the LCI province, so QNI-D1 is outside every one of them.
CALLERS = {
    "officer": "canbo",
    "team_leader": "doitruong",
    "archivist": "luutru",
    "inspector": "kiemsoat",
    "auditor": "mx_auditor",
    "admin": "mx_admin",
}
EXTRA_USERS = (  # username, role, unit
    ("mx_auditor", "auditor", "LCI"),
    ("mx_admin", "admin", "LCI"),
    ("mx_target", "officer", "LCI-D1"),
    ("mx_qni", "officer", "QNI-D1"),
)
INSIDE_MARKERS = ("MX-TRONG", "mx_target", "LCI-D2")
OUTSIDE_CASE = "MX-NGOAI"
SHARED_WORD = "matrixword"
# Signing in is not what this module tests: a low-cost Argon2 hash (verify reads the cost from the hash).
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("hoso-demo")
_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@dataclass
class Caller:
    role: str
    cookie: str
    csrf: str
    bearer: str = ""


@dataclass
class World:
    app: Flask
    callers: list[Caller]
    inside: dict[str, str]
    outside: dict[str, str]
    outside_markers: tuple[str, ...]
    revoke_tokens: dict[str, str] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=itertools.count)


def _store(runtime: Runtime, key: str, content: bytes, tmp: Path) -> None:
    source = tmp / "object"
    source.write_bytes(content)
    runtime.store.put_file(key, source)


def _plant_files(runtime: Runtime, dossier_id: str, tmp: Path) -> None:
    """A stored original (drawn by the page images) and an archive copy, so a 404 can only mean scope."""
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        _store(runtime, original_key(dossier.original_sha256), pdf_bytes(pages=2), tmp)
        dossier.archive_pdf_sha256 = dossier.original_sha256
        _store(runtime, archive_pdf_key(dossier.original_sha256), pdf_bytes(pages=2), tmp)
        session.commit()


def _plant_side(runtime: Runtime, team: str, province: str, case: str, tmp: Path) -> dict[str, str]:
    """One side's objects: a dossier still processing, one submitted (the queue), one in a received batch."""
    texts = [f"Bìa hồ sơ {case} {SHARED_WORD}", f"Biên bản kiểm tra {case} {SHARED_WORD}"]
    dossier_id = plant_dossier(runtime, team, f"{case}-1", texts, status="processing")
    _plant_files(runtime, dossier_id, tmp)
    submitted_id = plant_dossier(runtime, team, f"{case}-2", texts)
    accepted_id = plant_dossier(runtime, team, f"{case}-3", texts)
    with runtime.sessions() as session:
        submitted = session.get_one(Dossier, submitted_id)
        submitted.handover_state, submitted.submitted_at = "submitted", utcnow()
        batch = HandoverBatch(unit=session.scalars(select(Unit).where(Unit.code == province)).one())
        session.add(batch)
        session.flush()
        accepted = session.get_one(Dossier, accepted_id)
        accepted.handover_state, accepted.handover_batch_id, accepted.retention = "accepted", batch.id, "20 năm"
        audit.append(session, None, "handover.accept", "dossier", accepted_id, accepted.case.unit.path, {"case": case})
        session.commit()
        case_id = str(session.get_one(Dossier, dossier_id).case_id)
        ids = f"{dossier_id} {submitted_id} {accepted_id}"
        return {"dossier": dossier_id, "case": case_id, "batch": str(batch.id), "ids": ids}


def _user_id(runtime: Runtime, username: str) -> str:
    with runtime.sessions() as session:
        return str(session.scalars(select(User.id).where(User.username == username)).one())


def _token(runtime: Runtime, username: str, name: str) -> tokens.NewToken:
    with runtime.sessions() as session:
        owner = session.scalars(select(User).where(User.username == username)).one()
        return tokens.create(session, owner, name)


def _caller(app: Flask, runtime: Runtime, role: str, username: str | None) -> Caller:
    client = app.test_client()
    if username is None:
        token = csrf_token(client)
    else:
        token = csrf_token(client)
        response = client.post("/login", data={"username": username, "password": "hoso-demo", "csrf_token": token})
        assert response.status_code == 302, f"{username} could not sign in"
        token = csrf_token(client, "/account/tokens")
    cookie = client.get_cookie("session")
    assert cookie is not None
    bearer = _token(runtime, username, "matrix").token if username else ""
    return Caller(role, cookie.value, token, bearer)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, demo_database: Template) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as patch, demo_runtime(tmp / "home", patch, demo_database) as runtime:
        with runtime.sessions() as session:
            for username, role, unit in EXTRA_USERS:
                add_user(session, username, "hoso-demo", role, unit)
            for user in session.scalars(select(User)):  # the same password, checked in milliseconds
                user.password_hash = CHEAP_HASH
            session.commit()
        app = create_app(runtime, JobQueue(runtime.settings))
        app.config["TESTING"] = True
        inside = _plant_side(runtime, "LCI-D1", "LCI", "MX-TRONG", tmp)
        outside = _plant_side(runtime, "QNI-D1", "QNI", OUTSIDE_CASE, tmp)
        inside |= {"user": _user_id(runtime, "mx_target"), "unit": "LCI-D1", "province": "LCI"}
        outside |= {"user": _user_id(runtime, "mx_qni"), "unit": "QNI-D1", "province": "QNI"}
        outside["token"] = str(_token(runtime, "mx_qni", "qni").row.id)
        callers = [_caller(app, runtime, "anonymous", None)]
        callers += [_caller(app, runtime, role, username) for role, username in CALLERS.items()]
        world = World(app, callers, inside, outside, (OUTSIDE_CASE, "QNI-D1", "mx_qni", *outside["ids"].split()))
        world.revoke_tokens = {role: str(_token(runtime, name, "to revoke").row.id) for role, name in CALLERS.items()}
        yield world


def _values(world: World, caller: Caller, inside: bool) -> dict[str, str]:
    values = dict(world.inside if inside else world.outside)
    if inside and caller.role in world.revoke_tokens:
        values["token"] = world.revoke_tokens[caller.role]
    values["unique"] = str(next(world.counter))
    for name, source in ARGUMENTS.items():  # data and JSON name objects like the URL does: {dossier_id}
        values[name] = source[1:] if source.startswith("=") else values.get(source, "")
    return values


def _fill(template: object, values: dict[str, str]) -> object:
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


def _path(rule: str, values: dict[str, str]) -> str:
    return _ARGUMENT.sub(lambda match: values[match.group(1)], rule)


def _call(
    world: World, caller: Caller, method: str, rule: str, access: Access, inside: bool, bearer: bool
) -> TestResponse:
    values = _values(world, caller, inside)
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {caller.bearer}"} if bearer else {}
    if not bearer:
        client.set_cookie("session", caller.cookie)
    path = _path(rule, values) + (f"?{access.query}" if access.query else "")
    if access.json is not None:
        return client.open(path, method=method, json=_fill(access.json, values), headers=headers)
    data = dict(_fill(access.data, values))  # type: ignore[call-overload]
    if method == "POST" and not rule.startswith("/api/"):
        data["csrf_token"] = caller.csrf
    if access.file:
        data["file"] = (io.BytesIO(b"not a scan"), "ghi-chu.txt")
    return client.open(path, method=method, data=data, headers=headers)


def _expected(access: Access, role: str, inside: bool, api: bool) -> int:
    if role not in access.allowed and role == "anonymous":
        return 401 if api else 302
    if role in access.allowed:
        return access.ok if inside or access.out is None else access.out
    return access.denied if inside else access.denied_out


def _leaks(world: World, body: str) -> list[str]:
    return [marker for marker in world.outside_markers if marker in body]


def test_every_route_has_a_row_in_the_matrix(world: World) -> None:
    routes = {
        (method, rule.rule)
        for rule in world.app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without a row in tests/web/authz_matrix.py: {missing}"
    assert not stale, f"rows in tests/web/authz_matrix.py for routes that no longer exist: {stale}"


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX), ids=lambda part: str(part))
def test_route_answers_each_caller_as_the_matrix_says(world: World, method: str, rule: str) -> None:
    access = MATRIX[(method, rule)]
    if not any(r.rule == rule and method in (r.methods or ()) for r in world.app.url_map.iter_rules()):
        pytest.skip("route not registered (reported by test_every_route_has_a_row_in_the_matrix)")
    api = rule.startswith("/api/")
    wrong: list[str] = []
    for caller in world.callers:
        for inside in (True, False) if access.out is not None else (True,):
            for bearer in (False, True) if api and caller.bearer else (False,):
                response = _call(world, caller, method, rule, access, inside, bearer)
                where = f"{caller.role}{' (token)' if bearer else ''} {'inside' if inside else 'outside'}"
                expected = _expected(access, caller.role, inside, api)
                if response.status_code != expected:
                    wrong.append(f"{where}: {response.status_code}, expected {expected}")
                if api and response.status_code >= 400 and not (response.is_json and "error" in response.get_json()):
                    wrong.append(f"{where}: an API error without the JSON error shape")
                if access.lists and response.status_code == 200:
                    body = response.get_data(as_text=True)
                    if leaks := _leaks(world, body):
                        wrong.append(f"{where}: shows another province's {leaks}")
                    if not any(marker in body for marker in INSIDE_MARKERS):
                        wrong.append(f"{where}: shows nothing of the caller's own units")
    assert not wrong, "\n".join(wrong)
