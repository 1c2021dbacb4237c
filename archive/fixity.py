"""Fixity: read back every stored object the records name and compare its SHA-256 with the one on record.

A disk that flips bits, a restore from the wrong backup or a hand that edits a file under the store leaves
the archive looking fine until someone opens that dossier; a scheduled re-hash finds it first. The objects
named by the database, per dossier:

- the original, ``originals/ab/<sha256>``: its key is its SHA-256;
- the archive copy (PDF/A), ``derived/ab/<sha256>.pdf``: its SHA-256 is ``Dossier.archive_pdf_sha256``;
- the pages PDF made from an image or repaired original, ``derived/ab/<original>/pages.pdf``: its SHA-256
  is ``Dossier.pages_pdf_sha256``, recorded by the first check that finds the object (intake writes it
  before the dossier row exists), so from then on a deleted or altered pages PDF is reported too.

Rendered page images (thumbnails, viewer images) are not named by the database and are not checked: they
are a cache, drawn again from the pages source when missing (docs/integrity.md).

Objects are read through the ``ObjectStore`` protocol only, so the check runs the same on the local
directory and on S3. Each run is stored in ``fixity_runs`` with its counts and problems and leaves one
audit entry; like paperless-ngx's sanity checker, the caller owns the progress display.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive import audit
from archive.models import Case, Dossier, FixityRun, Unit, utcnow
from archive.runtime import Runtime
from archive.storage import CHUNK_BYTES, ObjectStore, StorageError, original_key
from ingest.archive_pdf import archive_pdf_key
from ingest.intake import pages_pdf_key

log = logging.getLogger(__name__)

AUDIT_ACTION = "fixity.run"
# Problems kept on a run (and shown): a store that lost everything would otherwise make one huge row.
MAX_PROBLEMS_KEPT = 1000


@dataclass(frozen=True)
class Problem:
    """One object that is not as the records say: ``status`` is "missing" or "altered"."""

    key: str
    kind: str  # "original", "archive_pdf" or "pages_pdf"
    status: str
    dossier_id: str
    case_number: str
    unit_path: str
    expected_sha256: str
    found_sha256: str | None  # None when missing


@dataclass
class FixityResult:
    started_at: datetime
    finished_at: datetime | None = None
    trigger: str = "command"
    dossiers: int = 0
    objects_checked: int = 0
    bytes_checked: int = 0
    recorded: int = 0
    problems: list[Problem] = field(default_factory=list)
    run_id: int | None = None

    @property
    def missing(self) -> int:
        return sum(1 for problem in self.problems if problem.status == "missing")

    @property
    def altered(self) -> int:
        return sum(1 for problem in self.problems if problem.status == "altered")

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "intact": self.intact,
            "dossiers": self.dossiers,
            "objects_checked": self.objects_checked,
            "bytes_checked": self.bytes_checked,
            "missing": self.missing,
            "altered": self.altered,
            "recorded": self.recorded,
            "problems": [asdict(problem) for problem in self.problems],
        }


@dataclass(frozen=True)
class _DossierObjects:
    """What one dossier row says is stored: read as plain columns, never the pages."""

    dossier_id: str
    case_number: str
    unit_path: str
    original_sha256: str
    archive_pdf_sha256: str | None
    pages_pdf_sha256: str | None


def stream_sha256(store: ObjectStore, key: str, on_bytes: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(SHA-256, size) of the stored bytes, read back in chunks; raises StorageError when the object is gone."""
    digest, size = hashlib.sha256(), 0
    with store.open(key) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest(), size


def dossier_count(session: Session) -> int:
    """How many dossiers a run will visit: the total of a progress bar."""
    return session.scalar(select(func.count()).select_from(Dossier)) or 0


def _dossiers(session: Session) -> list[_DossierObjects]:
    query = (
        select(
            Dossier.id,
            Case.case_number,
            Unit.path,
            Dossier.original_sha256,
            Dossier.archive_pdf_sha256,
            Dossier.pages_pdf_sha256,
        )
        .join(Case, Dossier.case_id == Case.id)
        .join(Unit, Case.unit_id == Unit.id)
        .order_by(Dossier.id)
    )
    return [_DossierObjects(*row) for row in session.execute(query)]


class _Checker:
    """Checks one object at a time and keeps the tallies of the run."""

    def __init__(self, store: ObjectStore, result: FixityResult, on_bytes: Callable[[int], None] | None):
        self.store, self.result, self.on_bytes = store, result, on_bytes

    def read(self, key: str) -> tuple[str, int] | None:
        """The object's (SHA-256, size), or None when the store has no such object."""
        try:
            if not self.store.exists(key):
                return None
            found = stream_sha256(self.store, key, self.on_bytes)
        except (StorageError, FileNotFoundError):
            return None
        self.result.objects_checked += 1
        self.result.bytes_checked += found[1]
        return found

    def compare(self, dossier: _DossierObjects, key: str, kind: str, expected: str) -> None:
        found = self.read(key)
        if found is not None and found[0] == expected:
            return
        status = "missing" if found is None else "altered"
        problem = Problem(
            key=key,
            kind=kind,
            status=status,
            dossier_id=dossier.dossier_id,
            case_number=dossier.case_number,
            unit_path=dossier.unit_path,
            expected_sha256=expected,
            found_sha256=None if found is None else found[0],
        )
        log.warning("fixity: %s %s %s of dossier %s", kind, key, status, dossier.dossier_id)
        self.result.problems.append(problem)


def check_objects(
    runtime: Runtime,
    trigger: str = "command",
    on_dossier: Callable[[], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> FixityResult:
    """Re-hash every object the records name, store the run and its audit entry, and return the result.

    ``on_dossier`` is called after each dossier's objects are checked, ``on_bytes`` with each chunk read:
    what a progress bar counts.
    """
    result = FixityResult(started_at=utcnow(), trigger=trigger)
    with runtime.sessions() as session:
        dossiers = _dossiers(session)
    checker = _Checker(runtime.store, result, on_bytes)
    first_seen: dict[str, str] = {}
    for dossier in dossiers:
        checker.compare(dossier, original_key(dossier.original_sha256), "original", dossier.original_sha256)
        if dossier.archive_pdf_sha256:
            checker.compare(
                dossier, archive_pdf_key(dossier.archive_pdf_sha256), "archive_pdf", dossier.archive_pdf_sha256
            )
        pages_key = pages_pdf_key(dossier.original_sha256)
        if dossier.pages_pdf_sha256:
            checker.compare(dossier, pages_key, "pages_pdf", dossier.pages_pdf_sha256)
        elif (found := checker.read(pages_key)) is not None:
            first_seen[dossier.dossier_id] = found[0]
        result.dossiers += 1
        if on_dossier is not None:
            on_dossier()
    result.recorded = len(first_seen)
    result.finished_at = utcnow()
    _save(runtime, result, first_seen)
    return result


def _save(runtime: Runtime, result: FixityResult, first_seen: dict[str, str]) -> None:
    """The run's row, the pages PDF checksums seen for the first time, and the audit entry, in one transaction."""
    with runtime.sessions() as session:
        for dossier_id, sha256 in first_seen.items():
            session.execute(
                update(Dossier)
                .where(Dossier.id == dossier_id, Dossier.pages_pdf_sha256.is_(None))
                .values(pages_pdf_sha256=sha256)
            )
        run = FixityRun(
            started_at=result.started_at,
            finished_at=result.finished_at,
            trigger=result.trigger,
            dossiers=result.dossiers,
            objects_checked=result.objects_checked,
            bytes_checked=result.bytes_checked,
            missing=result.missing,
            altered=result.altered,
            recorded=result.recorded,
            problems=[asdict(problem) for problem in result.problems[:MAX_PROBLEMS_KEPT]],
        )
        session.add(run)
        session.flush()
        result.run_id = run.id
        detail = {
            "dossiers": result.dossiers,
            "objects_checked": result.objects_checked,
            "missing": result.missing,
            "altered": result.altered,
            "recorded": result.recorded,
            "trigger": result.trigger,
            "problem_keys": [problem.key for problem in result.problems[:20]],
        }
        audit.append(session, None, AUDIT_ACTION, "fixity_run", str(run.id), root_unit_path(session), detail)
        session.commit()


def root_unit_path(session: Session) -> str:
    """The top unit's path: a run is about the whole archive, so the national auditors see its entry."""
    return session.scalar(select(Unit.path).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)) or ""


def last_run(session: Session) -> FixityRun | None:
    return session.scalar(select(FixityRun).order_by(FixityRun.id.desc()).limit(1))


def recent_runs(session: Session, limit: int = 10) -> list[FixityRun]:
    return list(session.scalars(select(FixityRun).order_by(FixityRun.id.desc()).limit(limit)))


class FixitySchedule(threading.Thread):
    """Runs a check every ``hours`` inside `hoso serve`, counting from the newest stored run.

    The due time is read from ``fixity_runs`` each time, so a restart does not re-run a check done an hour
    ago, and several `hoso serve` processes on one database mostly skip a run another has just done.
    """

    def __init__(self, runtime: Runtime, hours: float):
        super().__init__(name="hoso-fixity", daemon=True)
        self.runtime, self.interval = runtime, timedelta(hours=hours)
        self.stopped = threading.Event()

    def seconds_until_due(self) -> float:
        with self.runtime.sessions() as session:
            newest = session.scalar(select(FixityRun.started_at).order_by(FixityRun.id.desc()).limit(1))
        if newest is None:
            return 0.0
        if newest.tzinfo is None:  # SQLite hands back naive UTC
            newest = newest.replace(tzinfo=utcnow().tzinfo)
        return max(0.0, (newest + self.interval - utcnow()).total_seconds())

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                wait = self.seconds_until_due()
                if wait <= 0:
                    result = check_objects(self.runtime, trigger="schedule")
                    log.info(
                        "fixity run %s: %d objects, %d problems",
                        result.run_id,
                        result.objects_checked,
                        len(result.problems),
                    )
                    continue
            except Exception:  # noqa: BLE001 - a failed run is logged and tried again later; serving goes on
                log.exception("the scheduled fixity check failed; trying again in an hour")
                wait = 3600.0
            self.stopped.wait(min(wait, 3600.0))

    def stop(self) -> None:
        self.stopped.set()
