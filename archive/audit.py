"""The audit log: append-only and hash-chained, so an edited, reordered or deleted entry is detected.

Each entry's ``entry_hash`` is the SHA-256 of a canonical JSON of every column but ``id`` and the hash
itself, ``prev_hash`` included; the first entry's ``prev_hash`` is 64 zeros. Changing any entry changes its
hash, and the next entry's ``prev_hash`` no longer matches; deleting or swapping entries breaks the links.
Removing entries from the end leaves a valid shorter chain, which only a head recorded earlier (printed by
``hoso audit verify`` and on the handover documents) can reveal: ``verify_chain(expect_head=...)``.

An entry is written in the same transaction as the change it records, after ``lock_chain``: one writer at a
time reads the tail and appends, so two concurrent writers cannot both chain onto the same tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.models import AuditEntry, User, path_within, utcnow

GENESIS_HASH = "0" * 64
# Columns a verifier re-reads and a CSV export carries, in table order.
EXPORT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "unit_path",
    "detail",
    "remote_addr",
    "prev_hash",
    "entry_hash",
)
SYSTEM_ACTOR = "system"


def lock_chain(session: Session) -> None:
    """Make this transaction the only audit writer until it ends; call before reading state you will change.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock now, not at the first write, so the tail read
    next cannot be stale (a connection already in a transaction under the Python driver's implicit BEGIN has
    written, and so holds the lock). PostgreSQL: a table lock that conflicts with itself and with writes
    but not with readers.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver_connection: Any = connection.connection.dbapi_connection
        if not driver_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(text("LOCK TABLE audit_entries IN SHARE ROW EXCLUSIVE MODE"))


def _canonical_time(moment: datetime) -> str:
    """UTC with microseconds; SQLite hands back naive datetimes, which hoso always stores as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(entry: _EntryFields | AuditEntry) -> str:
    """The SHA-256 of the entry's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(
        {
            "prev_hash": entry.prev_hash,
            "at": _canonical_time(entry.at),
            "actor": {"id": entry.actor_id, "name": entry.actor},
            "action": entry.action,
            "target": {"type": entry.target_type, "id": entry.target_id},
            "unit_path": entry.unit_path,
            "detail": entry.detail,
            "remote_addr": entry.remote_addr,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(
    session: Session,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: str,
    unit_path: str,
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> AuditEntry:
    """Add one entry at the tail of the chain, in the caller's transaction (the caller commits)."""
    lock_chain(session)
    tail = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=actor.username if actor is not None else SYSTEM_ACTOR,
        action=action,
        target_type=target_type,
        target_id=target_id,
        unit_path=unit_path,
        # Through JSON once, so the hash covers exactly what the JSON column will give back.
        detail=json.loads(json.dumps(detail, ensure_ascii=False)) if detail is not None else None,
        remote_addr=remote_addr[:64],
        prev_hash=tail or GENESIS_HASH,
    )
    entry.entry_hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    position: int  # 1-based place in the chain as stored
    kind: str  # "edited", "broken_link" or "head_missing"
    message: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str  # entry_hash of the last entry, GENESIS_HASH for an empty log
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        problem = None if self.problem is None else self.problem.__dict__
        return {"intact": self.intact, "entries": self.entries, "head": self.head, "problem": problem}


class _EntryFields(Protocol):
    """What hashing reads: an ``AuditEntry`` or a plain row of the table (several times faster to load)."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    unit_path: str
    detail: dict[str, Any] | None
    remote_addr: str
    prev_hash: str
    entry_hash: str


def _entries(session: Session) -> Iterator[_EntryFields]:
    """Every entry in chain order as a plain row, streamed: the chain can be longer than memory allows."""
    table = AuditEntry.__table__
    query = select(table).order_by(table.c.id).execution_options(yield_per=1000)
    return iter(session.execute(query))  # type: ignore[arg-type]


def verify_chain(session: Session, expect_head: str | None = None) -> ChainReport:
    """Walk the chain in id order and report the first entry that does not hold.

    ``expect_head`` is an entry_hash recorded earlier (a previous head): it must still be in the chain,
    which is what catches entries deleted from the end.
    """
    previous_hash = GENESIS_HASH
    position = 0
    seen_expected = expect_head is None
    for entry in _entries(session):
        position += 1
        if entry.prev_hash != previous_hash:
            message = (
                f"entry {entry.id} (#{position}) does not follow the entry before it: an entry before it was "
                "deleted or rewritten, or entries were reordered"
            )
            return ChainReport(position, previous_hash, ChainProblem(entry.id, position, "broken_link", message))
        if compute_hash(entry) != entry.entry_hash:
            message = f"entry {entry.id} (#{position}) was edited: its content no longer matches its hash"
            return ChainReport(position, previous_hash, ChainProblem(entry.id, position, "edited", message))
        previous_hash = entry.entry_hash
        seen_expected = seen_expected or entry.entry_hash == expect_head
    if not seen_expected:
        message = f"the chain no longer contains the recorded head {expect_head}: entries were removed from the end"
        return ChainReport(position, previous_hash, ChainProblem(0, position + 1, "head_missing", message))
    return ChainReport(position, previous_hash, None)


def head(session: Session) -> str:
    """The newest entry's hash, GENESIS_HASH for an empty log: what to write down to detect truncation later."""
    return session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS_HASH


def export_rows(session: Session, unit_path: str | None = None) -> Iterator[dict[str, Any]]:
    """Every entry as a dict of EXPORT_COLUMNS in chain order; ``unit_path`` keeps one unit subtree."""
    for entry in _entries(session):
        if unit_path is not None and not path_within(entry.unit_path, unit_path):
            continue
        row = {column: getattr(entry, column) for column in EXPORT_COLUMNS}
        row["at"] = _canonical_time(entry.at)
        yield row


def latest_in_scope(session: Session, unit_path: str, limit: int = 200) -> list[AuditEntry]:
    """The newest entries about ``unit_path`` and the units below it: what an auditor of that unit may read."""
    in_scope = (AuditEntry.unit_path == unit_path) | AuditEntry.unit_path.startswith(unit_path + "/", autoescape=True)
    return list(session.scalars(select(AuditEntry).where(in_scope).order_by(AuditEntry.id.desc()).limit(limit)))
