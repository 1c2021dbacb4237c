"""`hoso import`: restore a package written by `hoso export` into an empty instance.

Order matters, so that a bad package changes nothing and a good one is restored whole:

1. the bag is checked before anything is written: structure, Payload-Oxum and completeness by ``bagit``,
   then every file of both manifests hashed again (with a progress bar) — one byte changed anywhere refuses
   the package;
2. the package must be hoso's format at this instance's schema revision, and the instance must be empty
   (no row in any table: importing over live records would mix two archives);
3. the objects are stored through the store protocol (write-once: an object already there with other bytes
   refuses), then every row is inserted through the ORM in one transaction, parents before children;
4. the audit chain, copied with its hashes, is verified; one ``backup.import`` entry is appended to it;
5. the search index is rebuilt from the restored records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import Date, DateTime, Table, func, insert, select, text
from sqlalchemy.orm import Session

from archive import audit
from archive.backup_export import (
    FORMAT,
    MANIFEST_ALGORITHM,
    OBJECTS_DIR,
    BackupError,
    Progress,
    records,
    schema_revision,
    tables,
)
from archive.fixity import root_unit_path
from archive.models import Base
from archive.reindex import dossiers_to_index, reindex
from archive.runtime import Runtime
from archive.storage import CHUNK_BYTES

ROWS_PER_INSERT = 1000


@dataclass
class ImportResult:
    directory: Path
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    audit_entries: int = 0
    audit_intact: bool = False
    pages_indexed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "rows": self.rows,
            "objects": self.objects,
            "audit_entries": self.audit_entries,
            "audit_intact": self.audit_intact,
            "pages_indexed": self.pages_indexed,
        }


def open_package(directory: Path) -> bagit.Bag:
    """The bag at ``directory``, structure and completeness checked (files hashed later, by ``check_package``)."""
    try:
        bag = bagit.Bag(str(directory))
        bag.validate(completeness_only=True)
    except bagit.BagError as refused:  # BagValidationError is one
        raise BackupError(f"{directory} is not a valid package: {_describe(refused)}") from refused
    if bag.info.get("Hoso-Format") != FORMAT:
        raise BackupError(f"{directory} is not a hoso package of format {FORMAT} (Hoso-Format is missing or other)")
    return bag


def _describe(error: bagit.BagError) -> str:
    details = getattr(error, "details", None) or []
    return "; ".join([str(error), *(str(detail) for detail in details[:5])])


def package_bytes(bag: bagit.Bag) -> int:
    """Bytes ``check_package`` will read: the total of its progress bar."""
    return sum((Path(bag.path) / relative).stat().st_size for relative in bag.entries)


def check_package(bag: bagit.Bag, progress: Progress) -> None:
    """Hash every file both manifests list and compare; raises BackupError naming the files that differ."""
    progress.stage("checking", package_bytes(bag), "B")
    mismatched: list[str] = []
    for relative, hashes in sorted(bag.entries.items()):
        expected = hashes.get(MANIFEST_ALGORITHM)
        if expected is None:
            raise BackupError(f"{relative} has no {MANIFEST_ALGORITHM} checksum in the package's manifests")
        digest = hashlib.sha256()
        with (Path(bag.path) / relative).open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                progress.advance(len(chunk))
        if digest.hexdigest() != expected.lower():
            mismatched.append(relative)
    if mismatched:
        raise BackupError(
            f"the package is damaged or was changed: {len(mismatched)} files do not match their checksums "
            f"({', '.join(mismatched[:5])}); nothing was imported"
        )


def _check_target(runtime: Runtime, bag: bagit.Bag) -> None:
    with runtime.sessions() as session:
        revision = schema_revision(session)
        if bag.info.get("Hoso-Schema-Revision") != revision:
            raise BackupError(
                f"the package is at schema revision {bag.info.get('Hoso-Schema-Revision')!r}, this instance at "
                f"{revision!r}: import it with the hoso version that exported it, then upgrade"
            )
        filled = [table.name for table in tables() if session.scalar(select(func.count()).select_from(table))]
    if filled:
        raise BackupError(
            f"this instance is not empty (rows in {', '.join(filled)}): import only into a new HOSO_HOME and database"
        )


def _object_files(package: Path) -> Iterator[tuple[str, Path]]:
    root = package / "data" / OBJECTS_DIR
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path.relative_to(root).as_posix(), path


def declared_rows(bag: bagit.Bag) -> int | None:
    """The row count the package declares (Hoso-Rows), if it does."""
    declared = bag.info.get("Hoso-Rows")
    return int(declared) if isinstance(declared, str) and declared.isdigit() else None


def _store_objects(runtime: Runtime, package: Path, result: ImportResult, progress: Progress) -> None:
    files = list(_object_files(package))
    progress.stage("objects", len(files), "object")
    for key, path in files:
        runtime.store.put_file(key, path)
        result.objects += 1
        progress.advance()


def _decoder(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turns a JSON row back into column values: the ISO dates and times back into dates and datetimes."""
    datetimes = [column.name for column in table.columns if isinstance(column.type, DateTime)]
    dates = [column.name for column in table.columns if isinstance(column.type, Date)]

    def decode(row: dict[str, Any]) -> dict[str, Any]:
        for name in datetimes:
            if row.get(name) is not None:
                row[name] = datetime.fromisoformat(row[name])
        for name in dates:
            if row.get(name) is not None:
                row[name] = date.fromisoformat(row[name])
        return row

    return decode


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a table whose foreign key points at itself (units.parent_id, dossiers.supersedes_id), ordered
    so that each row comes after the row it points at: the database checks the key on each insert."""
    (key,) = table.primary_key.columns
    links = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    by_key = {row[key.name]: row for row in rows}
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []

    def place(row: dict[str, Any], depth: int = 0) -> None:
        if row[key.name] in placed or depth > len(rows):
            return
        for link in links:
            parent = by_key.get(row.get(link))
            if parent is not None:
                place(parent, depth + 1)
        placed.add(row[key.name])
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


def _mapped_class(table: Table) -> Any:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    raise BackupError(f"no model maps the table {table.name}")


def _insert_rows(
    session: Session, package: Path, result: ImportResult, declared_rows: int | None, progress: Progress
) -> None:
    progress.stage("records", declared_rows, "row")
    for table in tables():
        model, decode = _mapped_class(table), _decoder(table)
        rows: Iterator[dict[str, Any]] = (decode(row) for row in records(package, table))
        if any(fk.column.table is table for fk in table.foreign_keys):
            rows = iter(_parents_first(table, list(rows)))
        count, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) >= ROWS_PER_INSERT:
                session.execute(insert(model), batch)
                count, batch = count + len(batch), []
                progress.advance(ROWS_PER_INSERT)
        if batch:
            session.execute(insert(model), batch)
            count += len(batch)
            progress.advance(len(batch))
        result.rows[table.name] = count


def _advance_sequences(session: Session) -> None:
    """PostgreSQL: the id sequences continue after the restored ids (explicit ids do not move them)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables():
        (key,) = table.primary_key.columns
        if key.type.python_type is not int:
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key.name}'), "
                f"COALESCE((SELECT MAX({key.name}) FROM {table.name}), 0) + 1, false)"
            )
        )


def import_package(runtime: Runtime, directory: Path, progress: Progress | None = None) -> ImportResult:
    """Check the package, then restore it into this empty instance (see the module's steps)."""
    progress = progress or Progress()
    directory = Path(directory).resolve()
    bag = open_package(directory)
    check_package(bag, progress)
    _check_target(runtime, bag)
    result = ImportResult(directory=directory)
    _store_objects(runtime, directory, result, progress)
    with runtime.sessions() as session:
        _insert_rows(session, directory, result, declared_rows(bag), progress)
        _advance_sequences(session)
        session.flush()
        chain = audit.verify_chain(session, expect_head=bag.info.get("Hoso-Audit-Head") or None)
        if not chain.intact:
            session.rollback()
            assert chain.problem is not None
            raise BackupError(f"the package's audit log does not verify: {chain.problem.message}; nothing was imported")
        audit.append(
            session,
            None,
            "backup.import",
            "backup",
            directory.name,
            root_unit_path(session),
            {"directory": str(directory), "rows": sum(result.rows.values()), "objects": result.objects},
        )
        session.commit()
        result.audit_entries = chain.entries + 1
    with runtime.sessions() as session:
        result.audit_intact = audit.verify_chain(session).intact
    progress.stage("index", dossiers_to_index(runtime)[1], "dossier")
    summary = reindex(runtime, restart=True, on_progress=lambda dossiers, _pages: progress.advance(dossiers))
    result.pages_indexed = summary.pages
    return result
