"""Leases: the database records which worker process holds a page's or a dossier's job, and until when.

A queue loses jobs: Redis hands a job to the worker that pops it, and a worker killed with it (kill -9, a power
cut, the OOM killer) takes the job along. So the database, not the queue, says what is left to do and who is
doing it. A worker starting a job takes its lease with one conditional UPDATE (only one taker wins, so a job
queued twice is done once); a thread of the worker process renews the leases it holds every RENEW_SECONDS;
finishing the job clears the lease. A lease that has run out means its holder stopped renewing, that is, it
died: any worker's recovery pass (``JobQueue.recover``) takes the lapsed lease and queues the job again.

Leases compare times written by different machines, whose clocks must agree to a few seconds (NTP), far
inside LEASE_SECONDS.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.models import Dossier, Page
from archive.runtime import Runtime
from ingest import fork_guard

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # how long a job stays its worker's after the last renewal
RENEW_SECONDS = 15.0  # a live worker renews four times per lease: a slow database round does not lose it
RETRY_SECONDS = 60.0  # a dossier job that failed is queued again this long after (by the recovery pass)
UNFINISHED = ("processing", "assembling")

_owner: tuple[int, str] | None = None


def owner() -> str:
    """This process's name in leases: host, process id and a random part (a reused process id is another owner)."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = os.getpid(), f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    return _owner[1]


def now() -> datetime:
    return datetime.now(UTC)


def free(expires_at: InstrumentedAttribute[datetime | None], at: datetime) -> ColumnElement[bool]:
    """Held by nobody: never leased, released, or run out."""
    return or_(expires_at.is_(None), expires_at < at)


def claim_page(runtime: Runtime, session: Session, dossier_id: str, page_number: int) -> int | None:
    """Take the lease of a pending page nobody holds and count one more start of its job, committed before the
    reading begins (a worker killed during it leaves the count behind). The count, or None if not taken."""
    at = now()
    where = (Page.dossier_id == dossier_id, Page.page_number == page_number, Page.status == "pending")
    result: CursorResult = session.execute(  # type: ignore[assignment]
        update(Page)
        .where(*where, free(Page.lease_expires_at, at))
        .values(
            attempts=func.coalesce(Page.attempts, 0) + 1,
            lease_owner=owner(),
            lease_expires_at=at + timedelta(seconds=LEASE_SECONDS),
        )
    )
    session.commit()
    if result.rowcount != 1:
        return None
    _renewals.hold(runtime, ("page", dossier_id, page_number))
    return session.scalar(select(Page.attempts).where(*where[:2]))


def page_released() -> dict[str, None]:
    """The columns that release a page's lease, written with its facts when its job ends."""
    return {"lease_owner": None, "lease_expires_at": None}


def forget_page(dossier_id: str, page_number: int) -> None:
    _renewals.forget(("page", dossier_id, page_number))


@contextmanager
def dossier_job(runtime: Runtime, dossier_id: str, statuses: tuple[str, ...]) -> Iterator[bool]:
    """Hold the dossier's lease for one job (converting its TIFF, finishing it) if it is in one of ``statuses``
    and nobody holds it; yields whether it was taken. A job that raises leaves the lease to run out after
    RETRY_SECONDS, so the recovery pass queues it again then: a failing finish no longer stays "assembling"."""
    at = now()
    with runtime.sessions() as session:
        result: CursorResult = session.execute(  # type: ignore[assignment]
            update(Dossier)
            .where(Dossier.id == dossier_id, Dossier.status.in_(statuses), free(Dossier.lease_expires_at, at))
            .values(lease_owner=owner(), lease_expires_at=at + timedelta(seconds=LEASE_SECONDS))
        )
        session.commit()
    if result.rowcount != 1:
        yield False
        return
    key = ("dossier", dossier_id, None)
    _renewals.hold(runtime, key)
    try:
        yield True
    except BaseException:
        _release_dossier(runtime, dossier_id, now() + timedelta(seconds=RETRY_SECONDS))
        raise
    else:
        _release_dossier(runtime, dossier_id, None)
    finally:
        _renewals.forget(key)


def _release_dossier(runtime: Runtime, dossier_id: str, retry_at: datetime | None) -> None:
    with runtime.sessions() as session:
        session.execute(
            update(Dossier)
            .where(Dossier.id == dossier_id, Dossier.lease_owner == owner())
            .values(lease_owner=None, lease_expires_at=retry_at)
        )
        session.commit()


def take_lapsed_pages(runtime: Runtime, at: datetime) -> list[tuple[str, int]]:
    """Pending pages of unfinished dossiers whose lease ran out (their worker died reading them), each taken
    back by one conditional UPDATE, so two workers recovering at once queue each page once."""
    lapsed = Page.lease_expires_at < at
    query = (
        select(Page.dossier_id, Page.page_number)
        .join(Dossier, Dossier.id == Page.dossier_id)
        .where(Dossier.status == "processing", Page.status == "pending", lapsed)
    )
    taken = []
    with runtime.sessions() as session:
        for dossier_id, page_number in session.execute(query).all():
            result: CursorResult = session.execute(  # type: ignore[assignment]
                update(Page)
                .where(Page.dossier_id == dossier_id, Page.page_number == page_number, Page.status == "pending")
                .where(lapsed)
                .values(**page_released())
            )
            session.commit()
            if result.rowcount == 1:
                taken.append((dossier_id, page_number))
    return taken


def take_lapsed_dossiers(runtime: Runtime, at: datetime) -> list[str]:
    """Unfinished dossiers whose lease ran out (converting or finishing died, or failed RETRY_SECONDS ago)."""
    lapsed = and_(Dossier.status.in_(UNFINISHED), Dossier.lease_expires_at < at)
    taken = []
    with runtime.sessions() as session:
        for dossier_id in session.scalars(select(Dossier.id).where(lapsed)).all():
            result: CursorResult = session.execute(  # type: ignore[assignment]
                update(Dossier).where(Dossier.id == dossier_id, lapsed).values(lease_owner=None, lease_expires_at=None)
            )
            session.commit()
            if result.rowcount == 1:
                taken.append(dossier_id)
    return taken


def clear_unfinished(runtime: Runtime) -> None:
    """Drop every lease on unfinished work: for the embedded queue, whose one consumer starting means the
    previous one (and every lease holder) is gone."""
    with runtime.sessions() as session:
        unfinished = select(Dossier.id).where(Dossier.status.in_(UNFINISHED))
        session.execute(
            update(Dossier).where(Dossier.id.in_(unfinished)).values(lease_owner=None, lease_expires_at=None)
        )
        session.execute(update(Page).where(Page.dossier_id.in_(unfinished)).values(**page_released()))
        session.commit()


LeaseKey = tuple[str, str, int | None]


class _Renewals:
    """The leases this process holds, renewed by one daemon thread (started on the first lease, again after
    a fork: a forked worker process inherits neither the thread nor its parent's leases)."""

    def __init__(self) -> None:
        self._pid = -1
        self._held: dict[LeaseKey, Runtime] = {}
        self._lock = threading.Lock()

    def hold(self, runtime: Runtime, key: LeaseKey) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._held = os.getpid(), {}
                threading.Thread(target=self._run, name="lease-renewal", daemon=True).start()
            self._held[key] = runtime

    def forget(self, key: LeaseKey) -> None:
        with self._lock:
            self._held.pop(key, None)

    def _run(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            time.sleep(RENEW_SECONDS)
            with self._lock:
                held = list(self._held.items())
            for key, runtime in held:
                try:
                    with fork_guard.background_work():  # the worker process forks its page reader meanwhile
                        _renew(runtime, key)
                except Exception:  # noqa: BLE001 - the database is away: try again next round, the lease may hold
                    log.warning("could not renew the lease on %s", key, exc_info=True)


def _renew(runtime: Runtime, key: LeaseKey) -> None:
    kind, dossier_id, page_number = key
    expires_at = now() + timedelta(seconds=LEASE_SECONDS)
    with runtime.sessions() as session:
        if kind == "page":
            session.execute(
                update(Page)
                .where(Page.dossier_id == dossier_id, Page.page_number == page_number, Page.lease_owner == owner())
                .values(lease_expires_at=expires_at)
            )
        else:
            session.execute(
                update(Dossier)
                .where(Dossier.id == dossier_id, Dossier.lease_owner == owner())
                .values(lease_expires_at=expires_at)
            )
        session.commit()


_renewals = _Renewals()
