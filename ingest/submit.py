"""The one entry point every intake path uses (CLI, API, web upload, watched folder): receive, accept, queue."""

from __future__ import annotations

from typing import IO

from sqlalchemy import select

from archive.cases import normalise_case_number
from archive.models import Dossier, Unit
from archive.runtime import Runtime
from ingest import pipeline
from ingest.errors import IngestError, UnknownUnit
from ingest.intake import IntakeLimits, ReceivedFile, Spool, converted_by_worker, pages_pdf_key, receive, spool
from ingest.queue import JobQueue


class MissingCaseNumber(IngestError):
    code = "missing_case_number"
    detail = "A case number is required."
    message_vi = "Chưa nhập số vụ việc."
    remedy_vi = "Nhập số vụ việc mà hồ sơ thuộc về."


def submit(
    runtime: Runtime,
    queue: JobQueue,
    stream: IO[bytes] | Spool,
    filename: str,
    case_number: str,
    unit_code: str,
    uploaded_by_id: int | None = None,
) -> tuple[Dossier, bool]:
    """Take one uploaded file to an accepted dossier with its pages queued; (dossier, False) for a known original.

    The dossier returned is detached from any session: read its relations again in the caller's session.
    """
    case_number = normalise_case_number(case_number)
    if not case_number:
        raise MissingCaseNumber()
    settings = runtime.settings
    limits = IntakeLimits.from_settings(settings)
    spooled = stream if isinstance(stream, Spool) else spool(stream, settings.temp_dir, limits.max_bytes)
    try:
        known = _known_original(runtime, spooled.sha256)
    except BaseException:
        spooled.close()
        raise
    if known is not None:  # checked when it was first accepted: no need to read a large scan again
        spooled.close()
        return known, False
    received = receive(spooled, filename, settings.temp_dir, limits)
    try:
        if received.pages_pdf is not None:
            _store_pages_pdf(runtime, received, unit_code)
        dossier, created = pipeline.accept(runtime, received, case_number, unit_code, uploaded_by_id)
    finally:
        received.discard()
    if created and converted_by_worker(received.media_type):
        queue.enqueue_conversion(dossier.id)
    elif created:
        queue.enqueue_pages(dossier.id, list(range(1, dossier.page_count + 1)))
    return dossier, created


def _known_original(runtime: Runtime, sha256: str) -> Dossier | None:
    with runtime.sessions() as session:
        return session.scalar(select(Dossier).where(Dossier.original_sha256 == sha256))


def _store_pages_pdf(runtime: Runtime, received: ReceivedFile, unit_code: str) -> None:
    """Store the pages PDF before the original, so a committed dossier always has both.

    Refusals that ``accept`` would make are checked first, so a refused upload leaves no derived object.
    A crash between the two writes leaves at worst a derived object that the next upload of the same
    file finds and keeps (its key is named after the original).
    """
    assert received.pages_pdf is not None
    with runtime.sessions() as session:
        if session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
            raise UnknownUnit(f"No unit has the code {unit_code!r}.")
    key = pages_pdf_key(received.sha256)
    if not runtime.store.exists(key):
        runtime.store.put_file(key, received.pages_pdf)
