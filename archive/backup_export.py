"""`hoso export`: the whole archive as one self-describing BagIt package (RFC 8493) that `hoso import` restores.

Layout of the package directory::

    bagit.txt, bag-info.txt            what the package is (Hoso-* fields: format, schema revision, audit head)
    manifest-sha256.txt                SHA-256 of every payload file
    tagmanifest-sha256.txt             SHA-256 of the tag files above: its own SHA-256 is the package fingerprint
    data/records/<table>.jsonl         every row of every table, one JSON object a line, in primary key order
    data/objects/originals/…           the originals, under their store keys
    data/objects/derived/…             the archive copies (PDF/A) and pages PDFs, under their store keys

The records are read in one transaction, so the package is one consistent moment of the database even while
`hoso serve` runs; the objects are the ones those records name (objects are write-once, so every one the
snapshot names is still there unless something removed it, which is then reported). Rendered page images
are a cache and are left out. Accounts keep their password hashes and API token hashes, so a restored
instance signs in the same people (docs/backup.md says to keep packages as securely as the database).

The bag itself (payload manifest, oxum, tag manifest) is made by the Library of Congress's ``bagit`` library.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import bagit
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from archive import audit
from archive.fixity import root_unit_path
from archive.models import Base, Dossier
from archive.runtime import Runtime
from archive.storage import CHUNK_BYTES, StorageError, original_key
from ingest.archive_pdf import archive_pdf_key
from ingest.intake import pages_pdf_key

FORMAT = "hoso-backup/1"
RECORDS_DIR = "records"
OBJECTS_DIR = "objects"
MANIFEST_ALGORITHM = "sha256"
TAG_MANIFEST = f"tagmanifest-{MANIFEST_ALGORITHM}.txt"
ROWS_PER_FETCH = 1000


class BackupError(RuntimeError):
    """A package cannot be written or read as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ObjectProblem:
    key: str
    status: str  # "missing" or "altered"
    dossier_id: str
    expected_sha256: str | None


@dataclass
class ExportResult:
    directory: Path
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    object_bytes: int = 0
    problems: list[ObjectProblem] = field(default_factory=list)
    schema_revision: str = ""
    audit_head: str = ""
    fingerprint: str = ""  # SHA-256 of tagmanifest-sha256.txt: write it down to detect a rewritten package

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "format": FORMAT,
            "schema_revision": self.schema_revision,
            "audit_head": self.audit_head,
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "objects": self.objects,
            "object_bytes": self.object_bytes,
            "problems": [problem.__dict__ for problem in self.problems],
        }


class Progress:
    """The stages of a long run as a progress display sees them; this one shows nothing (the CLI draws bars)."""

    def stage(self, name: str, total: int | None, unit: str) -> None:
        """A new stage starts: ``total`` units of work (None when not known beforehand)."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""


def tables() -> list[Table]:
    """Every table of the schema, parents before the tables whose foreign keys point at them."""
    return list(Base.metadata.sorted_tables)


def encode(value: Any) -> Any:
    """A column value as JSON: dates and times in ISO 8601 (microseconds kept: the audit hashes cover them)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def schema_revision(session: Session) -> str:
    return MigrationContext.configure(session.connection()).get_current_revision() or ""


def _snapshot(session: Session) -> None:
    """Make every read of this session one moment of the database (PostgreSQL needs asking; SQLite's one
    read transaction already is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _write_table(session: Session, table: Table, target: IO[str], progress: Progress) -> int:
    count = 0
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=ROWS_PER_FETCH)
    for row in session.execute(query).mappings():
        target.write(json.dumps({name: encode(value) for name, value in row.items()}, ensure_ascii=False) + "\n")
        count += 1
        progress.advance()
    return count


def _named_objects(session: Session) -> list[tuple[str, str, str | None]]:
    """(key, dossier id, expected SHA-256 or None) of every object the dossier rows name or imply."""
    named: list[tuple[str, str, str | None]] = []
    rows = session.execute(
        select(Dossier.id, Dossier.original_sha256, Dossier.archive_pdf_sha256, Dossier.pages_pdf_sha256).order_by(
            Dossier.id
        )
    )
    for dossier_id, original_sha256, archive_sha256, pages_sha256 in rows:
        named.append((original_key(original_sha256), dossier_id, original_sha256))
        if archive_sha256:
            named.append((archive_pdf_key(archive_sha256), dossier_id, archive_sha256))
        # Not always made (a clean PDF original is its own pages source): copied when the store has it.
        named.append((pages_pdf_key(original_sha256), dossier_id, pages_sha256))
    return named


def _copy_object(runtime: Runtime, key: str, target: Path) -> tuple[str, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with runtime.store.open(key) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_objects(
    runtime: Runtime, named: list[tuple[str, str, str | None]], root: Path, result: ExportResult, progress: Progress
) -> None:
    progress.stage("objects", len(named), "object")
    for key, dossier_id, expected in named:
        progress.advance()
        optional = key.endswith("/pages.pdf") and expected is None
        try:
            if not runtime.store.exists(key):
                raise StorageError(f"object {key} not found")
            found, size = _copy_object(runtime, key, root / OBJECTS_DIR / key)
        except StorageError:
            if not optional:
                result.problems.append(ObjectProblem(key, "missing", dossier_id, expected))
            continue
        result.objects += 1
        result.object_bytes += size
        if expected is not None and found != expected:
            result.problems.append(ObjectProblem(key, "altered", dossier_id, expected))


class _BaggedFiles(logging.Handler):
    """Counts the files bagit hashes (it logs one line per file), for a progress bar."""

    def __init__(self, progress: Progress):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Generating manifest lines for file"):
            self.progress.advance()


def _make_bag(root: Path, info: dict[str, str], progress: Progress) -> None:
    """The bag made by ``bagit``, its per-file log lines counted by the progress display and kept off stderr."""
    progress.stage("manifest", sum(1 for path in root.rglob("*") if path.is_file()), "file")
    bag_log = logging.getLogger("bagit")
    handler = _BaggedFiles(progress)
    saved = bag_log.level, bag_log.propagate
    bag_log.addHandler(handler)
    bag_log.setLevel(logging.INFO)
    bag_log.propagate = False
    try:
        bagit.make_bag(str(root), bag_info=info, checksums=[MANIFEST_ALGORITHM])
    finally:
        bag_log.removeHandler(handler)
        bag_log.level, bag_log.propagate = saved


def export_package(runtime: Runtime, directory: Path, progress: Progress | None = None) -> ExportResult:
    """Write the package to ``directory`` (which must not exist or be empty); complete or not there at all.

    An audit entry records the export first, so the package carries it. Objects that are missing or do not
    match their records are listed in the result (the package holds what the store had).
    """
    progress = progress or Progress()
    directory = Path(directory).resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} exists and is not an empty directory; choose a new one")
    building = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    result = ExportResult(directory=directory)
    try:
        with runtime.sessions() as session:
            audit.append(
                session,
                None,
                "backup.export",
                "backup",
                directory.name,
                root_unit_path(session),
                {"directory": str(directory)},
            )
            session.commit()
        with runtime.sessions() as session:
            _snapshot(session)
            result.schema_revision = schema_revision(session)
            result.audit_head = audit.head(session)
            (building / RECORDS_DIR).mkdir()
            counts = [session.scalar(select(func.count()).select_from(table)) or 0 for table in tables()]
            progress.stage("records", sum(counts), "row")
            for table in tables():
                with (building / RECORDS_DIR / f"{table.name}.jsonl").open("w", encoding="utf-8") as target:
                    result.rows[table.name] = _write_table(session, table, target, progress)
            named = _named_objects(session)
        _copy_objects(runtime, named, building, result, progress)
        _make_bag(building, _bag_info(result), progress)
        result.fingerprint = hashlib.sha256((building / TAG_MANIFEST).read_bytes()).hexdigest()
        if directory.exists():
            directory.rmdir()
        os.replace(building, directory)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return result


def _bag_info(result: ExportResult) -> dict[str, str]:
    return {
        "Source-Organization": "hoso",
        "External-Description": "hoso archive backup: every database row as JSON Lines under data/records, "
        "the originals and derived files under data/objects by store key. Restore with `hoso import`.",
        "Hoso-Format": FORMAT,
        "Hoso-Schema-Revision": result.schema_revision,
        "Hoso-Audit-Head": result.audit_head,
        "Hoso-Rows": str(sum(result.rows.values())),
        "Hoso-Objects": str(result.objects),
        "Hoso-Object-Problems": str(len(result.problems)),
    }


def records(package: Path, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of one table as the package holds them (encoded: see ``encode``)."""
    path = package / "data" / RECORDS_DIR / f"{table.name}.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
