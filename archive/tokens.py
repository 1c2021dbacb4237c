"""API bearer tokens for scanner stations and scripts: ``Authorization: Bearer hoso_<random>``.

A token acts as its owner, with the owner's role and unit subtree, and nothing more. Only its SHA-256 is
stored: a token is 256 random bits, so a fast hash cannot be reversed by guessing, and a stolen database
yields no usable token. The token is shown once, when created; ``prefix`` (its first characters) lets a
person tell their tokens apart in lists. A token stops working when revoked, when it expires, or when its
owner is deactivated. Creating and revoking are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts import as_utc
from archive.models import ApiToken, User, utcnow

TOKEN_PREFIX = "hoso_"
TOKEN_BYTES = 32
PREFIX_CHARS = 12  # "hoso_" and 7 characters of the random part: enough to tell tokens apart, useless to guess
NAME_MAX_CHARS = 100
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request refused (no name, a bad expiry); the message is English."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """The stored row and the token itself, which exists only here: show it once, it cannot be recovered."""

    row: ApiToken
    token: str


def create(
    session: Session,
    owner: User,
    name: str,
    expires_days: int | None = None,
    actor: User | None = None,
    remote_addr: str = "",
) -> NewToken:
    """A named token for ``owner``; ``expires_days`` None: valid until revoked. ``actor`` None is the system (CLI)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_CHARS:
        raise TokenError(f"a token needs a name of 1-{NAME_MAX_CHARS} characters")
    if expires_days is not None and expires_days < 1:
        raise TokenError("expires_days must be at least 1")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    row = ApiToken(
        user=owner,
        name=name,
        prefix=token[:PREFIX_CHARS],
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    detail = {"name": name, "owner": owner.username, "prefix": row.prefix, "expires_days": expires_days}
    audit.append(session, actor, "token.create", "token", str(row.id), owner.unit.path, detail, remote_addr)
    session.commit()
    return NewToken(row, token)


def revoke(session: Session, row: ApiToken, actor: User | None = None, remote_addr: str = "") -> ApiToken:
    """Stop a token from working; revoking a revoked token changes nothing and writes nothing."""
    if row.revoked_at is not None:
        return row
    row.revoked_at = utcnow()
    detail = {"name": row.name, "owner": row.user.username, "prefix": row.prefix}
    audit.append(session, actor, "token.revoke", "token", str(row.id), row.user.unit.path, detail, remote_addr)
    session.commit()
    return row


def state(row: ApiToken, now: datetime | None = None) -> str:
    """active, revoked or expired (a deactivated owner is checked separately, on the user)."""
    if row.revoked_at is not None:
        return "revoked"
    expires_at = as_utc(row.expires_at)
    if expires_at is not None and expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def owner_of(session: Session, token: str) -> User | None:
    """The active owner of a working token, or None; records when the token was last used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or state(row) != "active" or not row.user.active:
        return None
    now = utcnow()
    last_used = as_utc(row.last_used_at)
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        row.last_used_at = now  # at most one write a minute per token: a busy scanner does not queue on the lock
        session.commit()
    return row.user


def tokens_of(session: Session, user: User | None = None) -> list[ApiToken]:
    """Tokens newest first, of one person or of everyone."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def _iso(moment: datetime | None) -> str | None:
    aware = as_utc(moment)
    return aware.isoformat() if aware else None


def as_dict(row: ApiToken) -> dict[str, object]:
    """What lists show: the first characters, never the token or its hash."""
    return {
        "id": row.id,
        "user": row.user.username,
        "name": row.name,
        "prefix": row.prefix,
        "state": state(row),
        "created_at": _iso(row.created_at),
        "expires_at": _iso(row.expires_at),
        "last_used_at": _iso(row.last_used_at),
        "revoked_at": _iso(row.revoked_at),
    }
