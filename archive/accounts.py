"""Units and people: the unit tree, users with memory-hard password hashes (Argon2id), and the demo set-up."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import ROLES, Unit, User

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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check, so timing does not reveal user names
        return None
    return user if password_matches(user.password_hash, password) else None
