"""The one entry point every intake path uses (CLI, API, web upload): receive, accept, queue the pages."""

from __future__ import annotations

from typing import IO

from archive.models import Dossier
from archive.runtime import Runtime
from ingest import pipeline
from ingest.errors import IngestError
from ingest.intake import receive
from ingest.queue import JobQueue


class MissingCaseNumber(IngestError):
    code = "missing_case_number"
    detail = "A case number is required."
    message_vi = "Chưa nhập số vụ việc."
    remedy_vi = "Nhập số vụ việc mà hồ sơ thuộc về."


def submit(
    runtime: Runtime,
    queue: JobQueue,
    stream: IO[bytes],
    filename: str,
    case_number: str,
    unit_code: str,
    uploaded_by_id: int | None = None,
) -> tuple[Dossier, bool]:
    """Take one uploaded file to an accepted dossier with its pages queued; (dossier, False) for a known original.

    The dossier returned is detached from any session: read its relations again in the caller's session.
    """
    if not case_number.strip():
        raise MissingCaseNumber()
    settings = runtime.settings
    received = receive(stream, filename, settings.temp_dir, settings.max_upload_bytes, settings.max_pages)
    try:
        dossier, created = pipeline.accept(runtime, received, case_number.strip(), unit_code, uploaded_by_id)
    finally:
        received.path.unlink(missing_ok=True)
    if created:
        queue.enqueue_pages(dossier.id, list(range(1, dossier.page_count + 1)))
    return dossier, created
