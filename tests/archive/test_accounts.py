"""People, units and tokens: the audited changes in ``archive.accounts`` and ``archive.tokens``, the sign-in lock,
and the `hoso user|unit|token` commands."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import accounts, tokens
from archive.accounts import AccountError, LockPolicy, sign_in
from archive.cli import main
from archive.models import AuditEntry, Unit, User
from archive.runtime import Runtime


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _actions(runtime: Runtime) -> list[tuple[str, str, str]]:
    with runtime.sessions() as session:
        return [(e.action, e.actor, e.unit_path) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_new_person_gets_a_generated_password_that_signs_in(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        admin = _user(session, "quantri")
        user, password = accounts.create_user(session, admin, "10.0.0.9", "nguoimoi", "inspector", "QNI", "Người Mới")
        assert len(password) >= 16 and user.password_hash != password
        assert sign_in(session, "nguoimoi", password, LockPolicy()).ok
        with pytest.raises(AccountError, match="taken"):
            accounts.create_user(session, admin, "", "nguoimoi", "officer", "QNI")
        with pytest.raises(AccountError, match="unknown role"):
            accounts.create_user(session, admin, "", "nguoi2", "chief", "QNI")
        with pytest.raises(AccountError, match="user name"):
            accounts.create_user(session, admin, "", "Có Dấu", "officer", "QNI")
    assert _actions(runtime) == [("user.add", "quantri", "VN/QNI"), ("login", "nguoimoi", "VN/QNI")]


def test_changes_record_before_and_after_and_a_deactivated_person_cannot_sign_in(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        user = _user(session, "canbo")
        accounts.change_user(session, None, "cli@host", user, "team_leader", "LCI-D2", active=True)
        accounts.change_user(session, None, "cli@host", user, "team_leader", "LCI-D2", active=True)  # no change
        accounts.deactivate_user(session, None, "cli@host", user)
        assert sign_in(session, "canbo", "hoso-demo", LockPolicy()).result == "inactive"
        details = [e.detail for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "user.change"))]
    assert details == [
        {"username": "canbo", "role": ["officer", "team_leader"], "unit": ["LCI-D1", "LCI-D2"]},
        {"username": "canbo", "active": [True, False]},
    ]


def test_the_lock_counts_failures_in_a_row_and_unlock_lifts_it(runtime: Runtime) -> None:
    policy = LockPolicy(max_failures=2, lock_minutes=10)
    with runtime.sessions() as session:
        assert sign_in(session, "canbo", "sai", policy).result == "wrong_password"
        assert sign_in(session, "canbo", "hoso-demo", policy).ok, "a success resets the count"
        assert sign_in(session, "canbo", "sai", policy).result == "wrong_password"
        locked = sign_in(session, "canbo", "sai", policy)
        assert locked.result == "locked_now" and locked.locked_until is not None
        assert sign_in(session, "canbo", "hoso-demo", policy).result == "locked"
        accounts.unlock_user(session, _user(session, "quantri"), "", _user(session, "canbo"))
        assert sign_in(session, "canbo", "hoso-demo", policy).ok
    actions = [action for action, _actor, _path in _actions(runtime)]
    assert actions == [
        "login_failed",
        "login",
        "login_failed",
        "account_locked",
        "login_failed",
        "user.unlock",
        "login",
    ]


def test_units_follow_the_tree(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        unit = accounts.create_unit(session, None, "", "LCI-D3", "Đội 3", "LCI")
        assert (unit.path, unit.level) == ("VN/LCI/LCI-D3", "team")
        with pytest.raises(AccountError, match="team has no units"):
            accounts.create_unit(session, None, "", "LCI-D3A", "Tổ", "LCI-D3")
        with pytest.raises(AccountError, match="taken"):
            accounts.create_unit(session, None, "", "LCI", "Lào Cai", "VN")
        with pytest.raises(AccountError, match="name the parent"):
            accounts.create_unit(session, None, "", "HNI", "Hà Nội", None)


def test_cli_adds_people_units_and_tokens_and_audits_them_as_system(runtime: Runtime) -> None:
    cli = CliRunner()
    added = cli.invoke(main, ["user", "add", "moi", "--role", "officer", "--unit", "LCI-D1", "--json"])
    assert added.exit_code == 0, added.output
    password = json.loads(added.output)["password"]
    given = cli.invoke(
        main, ["user", "add", "moi2", "--role", "auditor", "--unit", "VN", "--password-stdin"], "bí-mật-của-tôi\n"
    )
    assert given.exit_code == 0 and "bí-mật-của-tôi" not in given.output
    taken = cli.invoke(main, ["user", "add", "moi", "--role", "officer", "--unit", "LCI-D1"])
    assert taken.exit_code == 2 and "taken" in taken.output
    unit = cli.invoke(main, ["unit", "add", "QNI-D9", "--name", "Đội 9", "--parent", "QNI", "--json"])
    assert json.loads(unit.output)["path"] == "VN/QNI/QNI-D9"
    assert "QNI-D9" in cli.invoke(main, ["unit", "list"]).output

    created = json.loads(cli.invoke(main, ["token", "create", "--user", "moi", "--name", "máy quét", "--json"]).output)
    listed = cli.invoke(main, ["token", "list", "--user", "moi", "--json"]).output
    assert created["token"] not in listed and json.loads(listed)[0]["state"] == "active"
    with runtime.sessions() as session:
        assert tokens.owner_of(session, created["token"]) is not None
        assert sign_in(session, "moi", password, LockPolicy()).ok
    assert cli.invoke(main, ["user", "disable", "moi"]).exit_code == 0
    with runtime.sessions() as session:
        assert tokens.owner_of(session, created["token"]) is None, "a deactivated owner's token stops working"
    assert cli.invoke(main, ["token", "revoke", str(created["id"])]).exit_code == 0
    assert cli.invoke(main, ["token", "revoke", "9999"]).exit_code == 3
    assert json.loads(cli.invoke(main, ["token", "list", "--json"]).output)[0]["state"] == "revoked"
    assert [(a, actor) for a, actor, _ in _actions(runtime) if actor == "system"] == [
        ("user.add", "system"),
        ("user.add", "system"),
        ("unit.add", "system"),
        ("token.create", "system"),
        ("user.change", "system"),
        ("token.revoke", "system"),
    ]
    with runtime.sessions() as session:
        origins = set(session.scalars(select(AuditEntry.remote_addr).where(AuditEntry.actor == "system")))
        assert len(origins) == 1 and origins.pop().startswith("cli@")
        assert session.scalars(select(Unit).where(Unit.code == "QNI-D9")).one().level == "team"


def test_wrong_passwords_at_the_same_time_are_all_counted(runtime: Runtime) -> None:
    """Two guesses checked in parallel (each Argon2 check takes a while) must not both count from the same number."""
    policy = LockPolicy(max_failures=2)
    barrier = threading.Barrier(2)

    def guess() -> str:
        with runtime.sessions() as session:
            barrier.wait()
            return sign_in(session, "canbo", "sai", policy).result

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(lambda _: guess(), range(2)))
    assert results == ["locked_now", "wrong_password"]
    with runtime.sessions() as session:
        assert _user(session, "canbo").locked_until is not None


def test_cli_sets_a_new_password_and_refuses_a_short_one(runtime: Runtime) -> None:
    cli = CliRunner()
    result = cli.invoke(main, ["user", "password", "canbo", "--json"])
    assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        assert sign_in(session, "canbo", json.loads(result.output)["password"], LockPolicy()).ok
    short = cli.invoke(main, ["user", "password", "canbo", "--password-stdin"], "ngan\n")
    assert short.exit_code == 2 and "at least 10" in short.output
    assert cli.invoke(main, ["user", "password", "khong-co"]).exit_code == 3
