"""`hoso user …`, `hoso unit …` and `hoso token …`: people, the unit tree and API tokens from a terminal.

The command line is the server's operator (full database access), so it acts as "system" and is audited as
such, from ``cli@HOST``. It is how the first administrator and the units are set up, and how a token is
revoked when its owner cannot be reached. Passwords are never taken as arguments (shell history, ``ps``):
``--password-stdin`` reads one line, otherwise a password is generated and printed once.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import accounts, tokens
from archive.accounts import AccountError
from archive.cli_handover import EXIT_NOT_FOUND, EXIT_REFUSED, json_option
from archive.db import upgrade
from archive.models import ROLES, ApiToken, Unit, User
from archive.runtime import Runtime, current_runtime


def _runtime() -> Runtime:
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    return runtime


def _origin() -> str:
    return f"cli@{socket.gethostname()}"


def _emit(data: object, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


def _fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _stdin_password() -> str:
    given = sys.stdin.readline().rstrip("\n")
    if not given:
        _fail("no password on standard input")
    return given


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"no user {username!r}", EXIT_NOT_FOUND)
    return user


def _user_dict(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "unit": user.unit.code,
        "active": user.active,
        "locked_until": user.locked_until,
        "last_login_at": user.last_login_at,
    }


@click.group(name="user")
def user_group() -> None:
    """Add, list, disable and unlock people."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the person may do (docs/access.md).")
@click.option("--unit", "unit_code", required=True, help="Code of the person's unit; they see it and below.")
@click.option("--full-name", default="", help="Name shown in the interface and on handover documents.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@json_option
def add_user(username: str, role: str, unit_code: str, full_name: str, password_stdin: bool, as_json: bool) -> None:
    """Add a person; without --password-stdin a password is generated and printed once."""
    given = _stdin_password() if password_stdin else None
    with _runtime().sessions() as session:
        try:
            user, password = accounts.create_user(session, None, _origin(), username, role, unit_code, full_name, given)
        except AccountError as refused:
            _fail(str(refused))
        data = _user_dict(user) | ({} if given else {"password": password})
    shown = "" if given else f"\npassword (shown once): {password}"
    _emit(data, as_json, f"added {username} ({role}, {unit_code}){shown}")


@user_group.command("list")
@json_option
def list_users(as_json: bool) -> None:
    """Every person with role, unit, whether active, and lock and last sign-in times."""
    with _runtime().sessions() as session:
        people = [_user_dict(user) for user in session.scalars(select(User).join(User.unit).order_by(Unit.path))]
    lines = [
        f"{p['username']:<20} {p['role']:<12} {p['unit']:<10} {'active' if p['active'] else 'disabled'}" for p in people
    ]
    _emit(people, as_json, "\n".join(lines))


@user_group.command("disable")
@click.argument("username")
@json_option
def disable_user(username: str, as_json: bool) -> None:
    """Stop a person from signing in and their tokens from working (the record and its history stay)."""
    with _runtime().sessions() as session:
        user = accounts.deactivate_user(session, None, _origin(), _user(session, username))
        _emit(_user_dict(user), as_json, f"disabled {username}")


@user_group.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@json_option
def reset_password(username: str, password_stdin: bool, as_json: bool) -> None:
    """Give a person a new password (generated and printed once unless read from standard input)."""
    given = _stdin_password() if password_stdin else None
    password = given or accounts.generate_password()
    with _runtime().sessions() as session:
        try:
            accounts.set_password(session, None, _origin(), _user(session, username), password)
        except AccountError as refused:
            _fail(str(refused))
    shown = {} if given else {"password": password}
    _emit({"username": username} | shown, as_json, f"new password for {username}: {password}" if shown else "done")


@user_group.command("unlock")
@click.argument("username")
@json_option
def unlock_user(username: str, as_json: bool) -> None:
    """Lift a lock left by repeated wrong passwords."""
    with _runtime().sessions() as session:
        user = accounts.unlock_user(session, None, _origin(), _user(session, username))
        _emit(_user_dict(user), as_json, f"unlocked {username}")


@click.group(name="unit")
def unit_group() -> None:
    """Add and list the units of the tree (national, province, team)."""


def _unit_dict(unit: Unit) -> dict[str, object]:
    parent = unit.parent.code if unit.parent else None
    return {"code": unit.code, "name": unit.name, "level": unit.level, "parent": parent, "path": unit.path}


@unit_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name, e.g. 'Đội Quản lý thị trường số 3'.")
@click.option("--parent", "parent_code", default=None, help="Code of the unit above; none only for the first unit.")
@json_option
def add_unit(code: str, name: str, parent_code: str | None, as_json: bool) -> None:
    """Add a unit below its parent."""
    with _runtime().sessions() as session:
        try:
            unit = accounts.create_unit(session, None, _origin(), code, name, parent_code)
        except AccountError as refused:
            _fail(str(refused))
        _emit(_unit_dict(unit), as_json, f"added {unit.path} ({unit.level})")


@unit_group.command("list")
@json_option
def list_units(as_json: bool) -> None:
    """The unit tree, indented."""
    with _runtime().sessions() as session:
        units = list(session.scalars(select(Unit).order_by(Unit.path)))
        rows = [_unit_dict(unit) for unit in units]
    lines = ["  " * str(row["path"]).count("/") + f"{row['code']}  {row['name']}" for row in rows]
    _emit(rows, as_json, "\n".join(lines))


@click.group(name="token")
def token_group() -> None:
    """Create, list and revoke API bearer tokens."""


@token_group.command("create")
@click.option("--user", "username", required=True, help="The owner: the token acts as this person.")
@click.option("--name", required=True, help="What the token is for, e.g. 'máy quét phòng 2'.")
@click.option("--expires-days", type=click.IntRange(min=1), default=None, help="Days until it stops working.")
@json_option
def create_token(username: str, name: str, expires_days: int | None, as_json: bool) -> None:
    """Create a token and print it once (only its SHA-256 is kept)."""
    with _runtime().sessions() as session:
        try:
            created = tokens.create(session, _user(session, username), name, expires_days, None, _origin())
        except tokens.TokenError as refused:
            _fail(str(refused))
        data = tokens.as_dict(created.row) | {"token": created.token}
    _emit(data, as_json, f"{created.token}\n(shown once; send it as 'Authorization: Bearer <token>')")


@token_group.command("list")
@click.option("--user", "username", default=None, help="Only this person's tokens.")
@json_option
def list_tokens(username: str | None, as_json: bool) -> None:
    """Tokens with owner, name, first characters and state (never the token)."""
    with _runtime().sessions() as session:
        owner = _user(session, username) if username else None
        rows = [tokens.as_dict(row) for row in tokens.tokens_of(session, owner)]
    lines = [f"{r['id']:>5} {r['user']:<16} {r['prefix']}…  {r['state']:<8} {r['name']}" for r in rows]
    _emit(rows, as_json, "\n".join(lines))


@token_group.command("revoke")
@click.argument("token_id", type=int)
@json_option
def revoke_token(token_id: int, as_json: bool) -> None:
    """Stop a token from working (by the id `hoso token list` shows)."""
    with _runtime().sessions() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            _fail(f"no token {token_id}", EXIT_NOT_FOUND)
        tokens.revoke(session, row, None, _origin())
        _emit(tokens.as_dict(row), as_json, f"revoked token {token_id} ({row.name})")
