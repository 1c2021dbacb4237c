"""The pages PDF of a TIFF original, made by a queued job after the upload was accepted.

Decoding and compressing again every frame of a multi-page TIFF takes seconds per page of grey or colour
scan; done inside the upload request, it kept a scanner's user (and a web server thread) waiting for
minutes. The upload is acknowledged once the original is stored and its dossier committed (the frames'
headers were checked: count, pixel limit); this job makes the pages PDF, then the page jobs are queued.

Crash safety rests on the store, which says what is left to do: while a TIFF original has no pages PDF
(``intake.pages_pdf_pending``), its pending pages are not read, and a starting worker queues the
conversion again. The pages PDF is written to a temp file named after the original (a killed run's
leftovers are removed by the next) and stored under its write-once key in one step, after the pages whose
frames could not be decoded were marked failed; running the job again after a kill anywhere therefore
converts again or finds the work done, never makes a second object.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from archive.models import Dossier, Page
from archive.runtime import Runtime
from archive.storage import original_key
from ingest.errors import IngestError
from ingest.images import image_to_pdf, read_frames
from ingest.intake import pages_pdf_key, pages_pdf_pending
from ingest.page_job import PAGE_UNREADABLE

log = logging.getLogger(__name__)


def convert_pages(runtime: Runtime, dossier_id: str) -> None:
    """Make and store the pages PDF of a TIFF dossier, unless it is made already or the dossier is gone.

    A frame whose pixels cannot be decoded becomes a blank page of the pages PDF and its page is marked
    ``page_unreadable``; a file that cannot be converted at all marks every pending page so. Either way the
    dossier goes on to be finished, as with a PDF whose pages cannot be read.
    """
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None or dossier.status != "processing":
            return
        sha256, page_count = dossier.original_sha256, dossier.page_count
    if not pages_pdf_pending(runtime.store, sha256):
        return
    runtime.settings.temp_dir.mkdir(parents=True, exist_ok=True)
    target = runtime.settings.temp_dir / f"pages-{sha256}.pdf"
    _remove_leftovers(target)
    try:
        with runtime.store.local_path(original_key(sha256)) as original:
            # The limits were applied when the upload was accepted; a setting changed since changes nothing here.
            frames = read_frames(Path(original), page_count, sys.maxsize)
            unreadable = image_to_pdf(Path(original), "tiff", frames, target)
        if len(frames) != page_count:
            raise ValueError(f"the original has {len(frames)} frames, the dossier {page_count} pages")
        _mark_unreadable(runtime, dossier_id, unreadable, "the frame's pixels cannot be decoded")
        runtime.store.put_file(pages_pdf_key(sha256), target)
        log.info("dossier %s: pages PDF made from %d frames (%d unreadable)", dossier_id, page_count, len(unreadable))
    except (IngestError, ValueError) as failure:
        log.error("dossier %s: the TIFF cannot be converted: %s", dossier_id, failure)
        every_page = list(range(1, page_count + 1))
        _mark_unreadable(runtime, dossier_id, every_page, f"the TIFF cannot be converted: {failure}")
    finally:
        _remove_leftovers(target)


def _remove_leftovers(target: Path) -> None:
    """The temp PDF and its batch files (``NAME.0``, ``NAME.1``…), from this run or one that was killed."""
    for path in [target, *target.parent.glob(f"{target.name}.*")]:
        path.unlink(missing_ok=True)


def _mark_unreadable(runtime: Runtime, dossier_id: str, page_numbers: list[int], error: str) -> None:
    if not page_numbers:
        return
    with runtime.sessions() as session:
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier_id, Page.page_number.in_(page_numbers), Page.status == "pending")
            .values(status="failed", error_code=PAGE_UNREADABLE, error=error, processed_at=datetime.now(UTC))
        )
        session.commit()
