"""Units and people: the unit tree, users with memory-hard password hashes (Argon2id), signing in with a lock
after repeated wrong passwords, the audited changes an administrator makes, and the demo set-up.

Every change to a person or a unit appends an audit entry in the same transaction (``archive/audit.py``);
``actor`` is the administrator (None for the command line, recorded as "system" from ``cli@HOST``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive import audit
from archive.models import ROLES, Unit, User, utcnow

_hasher = PasswordHasher()

DEMO_PASSWORD = "hoso-demo"

# code, name, parent code
DEMO_UNITS: tuple[tuple[str, str, str | None], ...] = (
    ("VN", "Cục Quản lý thị trường", None),
    ("LCI", "Chi cục Quản lý thị trường tỉnh Lào Cai", "VN"),
    ("QNI", "Chi cục Quản lý thị trường tỉnh Quảng Ninh", "VN"),
    ("LCI-D1", "Đội Quản lý thị trường số 1 (Lào Cai)", "LCI"),
    ("LCI-D2", "Đội Quản lý thị trường số 2 (Lào Cai)", "LCI"),
    ("QNI-D1", "Đội Quản lý thị trường số 1 (Quảng Ninh)", "QNI"),
    ("QNI-D5", "Đội Quản lý thị trường số 5 (Quảng Ninh)", "QNI"),
)

# username, role, unit code, full name
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("canbo", "officer", "LCI-D1", "Nguyễn Văn An (cán bộ Đội 1)"),
    ("doitruong", "team_leader", "LCI-D1", "Trần Thị Bình (đội trưởng Đội 1)"),
    ("luutru", "archivist", "LCI", "Lê Thị Cúc (văn thư lưu trữ)"),
    ("kiemsoat", "inspector", "LCI", "Phạm Văn Dũng (kiểm soát viên)"),
    ("kiemtoan", "auditor", "VN", "Hoàng Thị Em (kiểm tra nội bộ)"),
    ("quantri", "admin", "VN", "Quản trị hệ thống"),
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def level_for(parent: Unit | None) -> str:
    if parent is None:
        return "national"
    return "province" if parent.level == "national" else "team"


def add_unit(session: Session, code: str, name: str, parent_code: str | None) -> Unit:
    """Add a unit under its parent (or return the existing one of that code); the path makes scope a prefix test."""
    existing = session.scalar(select(Unit).where(Unit.code == code))
    if existing is not None:
        return existing
    parent = session.scalar(select(Unit).where(Unit.code == parent_code)) if parent_code else None
    if parent_code and parent is None:
        raise ValueError(f"unknown parent unit {parent_code!r}")
    unit = Unit(
        code=code,
        name=name,
        parent=parent,
        level=level_for(parent),
        path=f"{parent.path}/{code}" if parent else code,
    )
    session.add(unit)
    session.flush()
    return unit


def add_user(session: Session, username: str, password: str, role: str, unit_code: str, full_name: str = "") -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise ValueError(f"unknown unit {unit_code!r}")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        session.add(user)
    user.role, user.unit, user.full_name = role, unit, full_name
    user.password_hash = hash_password(password)
    session.flush()
    return user


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    unit_code: str


def install_demo(session: Session) -> list[DemoLogin]:
    """The demo unit tree and one user per role; safe to run again (passwords are reset to the demo one)."""
    for code, name, parent_code in DEMO_UNITS:
        add_unit(session, code, name, parent_code)
    logins = []
    for username, role, unit_code, full_name in DEMO_USERS:
        add_user(session, username, DEMO_PASSWORD, role, unit_code, full_name)
        logins.append(DemoLogin(username, DEMO_PASSWORD, role, unit_code))
    session.commit()
    return logins


GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters, about 96 bits
MIN_PASSWORD_CHARS = 10


class AccountError(ValueError):
    """A change refused for a reason the person can fix (a taken name, an unknown unit).

    ``str()`` is the English detail (command line, logs); ``message_vi`` is what the web form shows.
    """

    def __init__(self, detail: str, message_vi: str):
        super().__init__(detail)
        self.message_vi = message_vi


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; hoso always stores UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def root_path(session: Session) -> str:
    """The national unit's path: where entries about no particular unit (an unknown user name) are filed."""
    return session.scalar(select(Unit.path).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)) or ""


@dataclass(frozen=True)
class LoginOutcome:
    """``result``: ok, unknown_user, wrong_password, locked (already), locked_now (by this attempt), inactive."""

    result: str
    user: User | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"


@dataclass(frozen=True)
class LockPolicy:
    """How many wrong passwords in a row lock an account, and for how long (HOSO_LOGIN_*)."""

    max_failures: int = 5
    lock_minutes: float = 15


def _check_password(session: Session, username: str, password: str, policy: LockPolicy, now: datetime) -> LoginOutcome:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check, so timing does not reveal user names
        return LoginOutcome("unknown_user")
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        _hasher.hash(password)  # no check while locked: guessing on stays useless, and costs the same time
        return LoginOutcome("locked", user, locked_until)
    if not password_matches(user.password_hash, password):
        # One statement, so two guesses at once cannot both count from the same number; it also takes the
        # write lock the audit entry needs, so the count read back is this transaction's.
        session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1))
        session.refresh(user, ["failed_logins"])
        if user.failed_logins < policy.max_failures:
            return LoginOutcome("wrong_password", user)
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=policy.lock_minutes)
        return LoginOutcome("locked_now", user, user.locked_until)
    if not user.active:
        return LoginOutcome("inactive", user)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    return LoginOutcome("ok", user)


LOGIN_ACTIONS = {
    "ok": "login",
    "locked_now": "account_locked",
}


def sign_in(session: Session, username: str, password: str, policy: LockPolicy, remote_addr: str = "") -> LoginOutcome:
    """Check a password, count failures and lock after ``policy.max_failures`` in a row; audit every attempt.

    Entries: ``login``, ``login_failed`` (detail: why) and ``account_locked``, filed under the person's unit so
    auditors of that unit see them, or under the national unit for a name nobody has.
    """
    outcome = _check_password(session, username, password, policy, utcnow())
    user = outcome.user
    detail: dict[str, Any] = {"username": username}
    if not outcome.ok:
        detail["reason"] = outcome.result
    if outcome.locked_until is not None:
        detail["locked_until"] = outcome.locked_until.isoformat()
    audit.append(
        session,
        user,
        LOGIN_ACTIONS.get(outcome.result, "login_failed"),
        "user",
        str(user.id) if user else "",
        user.unit.path if user else root_path(session),
        detail,
        remote_addr,
    )
    session.commit()
    return outcome


def _unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise AccountError(f"unknown unit {code!r}", f"Không có đơn vị mã {code}.")
    return unit


@dataclass(frozen=True)
class NameRule:
    """What a new user name or unit code must look like, and the refusals (English, Vietnamese) when it does not."""

    pattern: re.Pattern[str]
    detail: str
    message_vi: str
    taken_detail: str  # {} is the name
    taken_vi: str


USERNAME = NameRule(
    re.compile(r"[a-z0-9][a-z0-9._-]{0,63}"),
    "a user name is 1-64 lower-case letters, digits, '.', '_' or '-'",
    "Tên đăng nhập gồm 1-64 chữ thường không dấu, chữ số, dấu chấm, gạch dưới hoặc gạch ngang.",
    "the user name {} is taken",
    "Tên đăng nhập {} đã có người dùng.",
)
UNIT_CODE = NameRule(
    re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}"),
    "a unit code is 1-32 upper-case letters, digits, '_' or '-'",
    "Mã đơn vị gồm 1-32 chữ in hoa không dấu, chữ số, gạch dưới hoặc gạch ngang.",
    "the unit code {} is taken",
    "Mã đơn vị {} đã có.",
)


def _check_new_name(session: Session, rule: NameRule, column: InstrumentedAttribute[str], name: str) -> None:
    if not rule.pattern.fullmatch(name):
        raise AccountError(rule.detail, rule.message_vi)
    if session.scalar(select(column).where(column == name)) is not None:
        raise AccountError(rule.taken_detail.format(repr(name)), rule.taken_vi.format(name))


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            f"a password has at least {MIN_PASSWORD_CHARS} characters",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự.",
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}", "Vai trò không hợp lệ.")


def _record(
    session: Session, actor: User | None, action: str, target: User | Unit, detail: dict[str, Any], remote_addr: str
) -> None:
    kind, path = ("user", target.unit.path) if isinstance(target, User) else ("unit", target.path)
    audit.append(session, actor, action, kind, str(target.id), path, detail, remote_addr)


def create_user(
    session: Session,
    actor: User | None,
    remote_addr: str,
    username: str,
    role: str,
    unit_code: str,
    full_name: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """A new person (never an existing one overwritten); returns the user and the password, generated if not given."""
    _check_new_name(session, USERNAME, User.username, username)
    _check_role(role)
    _unit(session, unit_code)
    if password is not None:
        _check_password_length(password)
    password = password or generate_password()
    user = add_user(session, username, password, role, unit_code, full_name)
    _record(session, actor, "user.add", user, {"username": username, "role": role, "unit": unit_code}, remote_addr)
    session.commit()
    return user, password


def change_user(
    session: Session, actor: User | None, remote_addr: str, user: User, role: str, unit_code: str, active: bool
) -> User:
    """Set role, unit and whether the person may sign in; records the before and after of what changed."""
    _check_role(role)
    unit = _unit(session, unit_code)
    before = {"role": user.role, "unit": user.unit.code, "active": user.active}
    after = {"role": role, "unit": unit.code, "active": active}
    if before == after:
        return user
    user.role, user.unit, user.active = role, unit, active
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    _record(session, actor, "user.change", user, {"username": user.username, **changed}, remote_addr)
    session.commit()
    return user


def deactivate_user(session: Session, actor: User | None, remote_addr: str, user: User) -> User:
    """Deactivated, never deleted: the audit log keeps pointing at the person; their tokens stop working too."""
    return change_user(session, actor, remote_addr, user, user.role, user.unit.code, active=False)


def set_password(session: Session, actor: User | None, remote_addr: str, user: User, password: str) -> None:
    """A new password chosen by the person, or generated by an admin; the audit entry never holds it."""
    _check_password_length(password)
    user.password_hash = hash_password(password)
    _record(session, actor, "user.password", user, {"username": user.username}, remote_addr)
    session.commit()


def unlock_user(session: Session, actor: User | None, remote_addr: str, user: User) -> User:
    user.failed_logins, user.locked_until = 0, None
    _record(session, actor, "user.unlock", user, {"username": user.username}, remote_addr)
    session.commit()
    return user


def create_unit(
    session: Session, actor: User | None, remote_addr: str, code: str, name: str, parent_code: str | None
) -> Unit:
    """A new unit under its parent (a province under the national unit, a team under a province)."""
    _check_new_name(session, UNIT_CODE, Unit.code, code)
    if not name.strip():
        raise AccountError("a unit needs a name", "Đơn vị phải có tên.")
    if parent_code is not None:
        parent = _unit(session, parent_code)
        if parent.level == "team":
            raise AccountError("a team has no units below it", "Đội không có đơn vị trực thuộc.")
    elif session.scalar(select(Unit.id).limit(1)) is not None:
        raise AccountError(
            "the national unit exists; name the parent of the new unit", "Chọn đơn vị cấp trên của đơn vị mới."
        )
    unit = add_unit(session, code, name.strip(), parent_code)
    _record(session, actor, "unit.add", unit, {"code": code, "name": unit.name, "parent": parent_code}, remote_addr)
    session.commit()
    return unit
