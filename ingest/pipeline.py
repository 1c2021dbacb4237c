"""The stages of one dossier, in order. Each stage is idempotent and keeps its state in the database, so a
worker killed anywhere leaves a dossier that the next worker resumes without duplicates.

    accept()          store the original (write-once, by SHA-256), record case, dossier and pending pages
    process_page()    one job per page: rasterise, orient, OCR, sheet number, classify; facts written at once
    claim_assembly()  the last page to finish moves the dossier on, exactly once
    finish_dossier()  store the searchable PDF/A copy, index the pages, run the verification rules, mark it processed
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from archive import verify, verify_inputs
from archive.models import Case, Dossier, Page, Unit
from archive.page_image_keys import THUMBNAIL, image_key
from archive.reindex import page_documents
from archive.runtime import Runtime
from archive.storage import StorageError, file_sha256, original_key
from ingest import leases, page_job
from ingest.archive_pdf import TextLayerPage, archive_pdf_key, write_archive_pdf
from ingest.errors import UnknownUnit
from ingest.intake import ReceivedFile, pages_pdf_pending, pages_source_key
from ocr.deskew import MIN_CORRECTED_DEGREES
from ocr.facts import PageFacts
from ocr.page import read_page

log = logging.getLogger(__name__)

# Starts of one page's job after which it is given up on: two restarts after a worker was killed under it.
MAX_PAGE_ATTEMPTS = 3
# Pages whose words are fetched at once while the archive copy is written.
TEXT_LAYER_BATCH = 20


def accept(
    runtime: Runtime, received: ReceivedFile, case_number: str, unit_code: str, uploaded_by_id: int | None = None
) -> tuple[Dossier, bool]:
    """Make a received file a dossier. Returns the dossier and whether it is new (False: same SHA-256 seen before).

    The original is stored and read back before the database commit, so an acknowledged upload is never lost.
    Two uploads at the same moment may race to insert the same original or the same new case number: the loser's
    commit breaks a unique constraint, and it tries once more, finding then what the winner committed.
    """
    try:
        return _accept_once(runtime, received, case_number, unit_code, uploaded_by_id)
    except IntegrityError:
        log.info("upload of %s raced another one; trying again", received.sha256[:12])
        return _accept_once(runtime, received, case_number, unit_code, uploaded_by_id)


def _accept_once(
    runtime: Runtime, received: ReceivedFile, case_number: str, unit_code: str, uploaded_by_id: int | None
) -> tuple[Dossier, bool]:
    with runtime.sessions() as session:
        existing = session.scalar(select(Dossier).where(Dossier.original_sha256 == received.sha256))
        if existing is not None:
            return existing, False
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise UnknownUnit(f"No unit has the code {unit_code!r}.")
        key = original_key(received.sha256)
        runtime.store.put_file(key, received.path)
        if runtime.store.sha256(key) != received.sha256:
            raise StorageError(f"stored object {key} does not match the uploaded bytes")
        case = _case_for(session, unit, case_number)
        dossier = Dossier(
            case=case,
            original_sha256=received.sha256,
            original_filename=received.filename,
            size_bytes=received.size_bytes,
            page_count=received.page_count,
            status="processing",
            uploaded_by_id=uploaded_by_id,
            scanned_at=verify_inputs.pdf_scanned_at(received.path) if received.media_type == "pdf" else None,
        )
        session.add(dossier)
        session.add_all(Page(dossier=dossier, page_number=n) for n in range(1, received.page_count + 1))
        session.commit()
        log.info("accepted dossier %s (%d pages, sha256 %s)", dossier.id, dossier.page_count, received.sha256)
        return dossier, True


def _case_for(session: Session, unit: Unit, case_number: str) -> Case:
    case = session.scalar(select(Case).where(Case.unit_id == unit.id, Case.case_number == case_number))
    if case is None:
        case = Case(unit=unit, case_number=case_number)
        session.add(case)
    return case


def process_page(runtime: Runtime, dossier_id: str, page_number: int) -> None:
    """OCR one page and write its facts. A page already finished is skipped. A page whose reading fails, crashes
    or runs past HOSO_OCR_PAGE_TIMEOUT is marked failed with its error code; one whose job has started
    MAX_PAGE_ATTEMPTS times without finishing (it keeps taking its worker down) is given up on. Either way the
    dossier goes on, so one bad page never stalls it or the queue."""
    started = _start_attempt(runtime, dossier_id, page_number)
    if started is None:
        return
    try:
        _read_and_record(runtime, dossier_id, page_number, *started)
    finally:  # written or not, this process stops renewing the lease: if not, it runs out and the page is queued
        leases.forget_page(dossier_id, page_number)


def _read_and_record(runtime: Runtime, dossier_id: str, page_number: int, sha256: str, attempts: int) -> None:
    if attempts > MAX_PAGE_ATTEMPTS:
        outcome = page_job.PageOutcome.failed(
            page_job.PAGE_UNREADABLE, f"the page's job started {MAX_PAGE_ATTEMPTS} times without finishing"
        )
    else:
        settings = runtime.settings
        try:
            with runtime.store.local_path(pages_source_key(runtime.store, sha256)) as pdf_path:
                outcome = page_job.reader_for(read_page).read_page(
                    Path(pdf_path), page_number, settings.ocr_dpi, settings.ocr_page_timeout
                )
        except Exception as failure:  # noqa: BLE001 - no reader could be run: the page fails, the queue goes on
            outcome = page_job.PageOutcome.failed(page_job.PAGE_UNREADABLE, f"{type(failure).__name__}: {failure}")
    if outcome.facts is None:
        log.error("page %d of dossier %s failed: %s: %s", page_number, dossier_id, outcome.error_code, outcome.error)
    else:
        _store_thumbnail(runtime, sha256, outcome.facts)
    values = _done_values(outcome.facts) if outcome.facts is not None else _failed_values(outcome)
    with runtime.sessions() as session:
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier_id, Page.page_number == page_number, Page.status == "pending")
            .values(processed_at=datetime.now(UTC), **values, **leases.page_released())
        )
        session.commit()


def _store_thumbnail(runtime: Runtime, sha256: str, facts: PageFacts) -> None:
    """Keep the page's grid thumbnail where the web app looks for it (``archive/page_image_keys.py``).

    Best effort: the web app draws a missing one itself, so a failure here is logged and the page goes on. The
    key may exist already (the web app drew the page while it waited, under the same rotation): that one stays.
    """
    if facts.thumbnail_png is None:
        return
    key = image_key(sha256, THUMBNAIL, facts.page, facts.rotation)
    try:
        if runtime.store.exists(key):
            return
        with tempfile.NamedTemporaryFile(dir=runtime.settings.temp_dir, prefix="page-image-", suffix=".png") as temp:
            temp.write(facts.thumbnail_png)
            temp.flush()
            runtime.store.put_file(key, Path(temp.name))
    except (OSError, StorageError) as failure:
        log.warning("thumbnail of page %d of %s not stored: %s", facts.page, sha256[:12], failure)


def _start_attempt(runtime: Runtime, dossier_id: str, page_number: int) -> tuple[str, int] | None:
    """Take the page's lease, counting one more start of its job (``leases.claim_page``). Returns the original's
    SHA-256 and the count, or None when the page is finished or gone, another worker is reading it (its job
    was queued twice), or its TIFF's pages PDF is not made yet."""
    with runtime.sessions() as session:
        page = session.scalar(select(Page).where(Page.dossier_id == dossier_id, Page.page_number == page_number))
        if page is None or page.status != "pending":
            return None
        sha256 = page.dossier.original_sha256
        if pages_pdf_pending(runtime.store, sha256):  # its conversion job queues it again
            return None
        attempts = leases.claim_page(runtime, session, dossier_id, page_number)
    return None if attempts is None else (sha256, attempts)


def _done_values(facts: PageFacts) -> dict[str, object]:
    return {
        "status": "done",
        "text": facts.text,
        "mean_confidence": facts.mean_confidence,
        "rotation": facts.rotation,
        "sheet_number": facts.sheet_number,
        "sheet_confidence": facts.sheet_confidence,
        "role": facts.role,
        "doc_type": facts.doc_type,
        "blank": facts.blank,
        "width_px": facts.width_px,
        "height_px": facts.height_px,
        "dpi": facts.dpi,
        "words": facts.to_dict()["words"],
        "facts": facts.details,
        "skew": facts.skew,
        "error_code": None,
        "error": None,
    }


def _failed_values(outcome: page_job.PageOutcome) -> dict[str, object]:
    return {"status": "failed", "error_code": outcome.error_code, "error": outcome.error}


def page_counts(session: Session, dossier_id: str) -> dict[str, int]:
    """Pages per status ("pending", "done", "failed"), counted in SQL: a progress poll twice a second must
    not load every page's words (it grew the `hoso ingest --wait` client past the memory budget)."""
    rows = session.execute(select(Page.status, func.count()).where(Page.dossier_id == dossier_id).group_by(Page.status))
    return {status: count for status, count in rows}


def pages_remaining(runtime: Runtime, dossier_id: str) -> int:
    with runtime.sessions() as session:
        return page_counts(session, dossier_id).get("pending", 0)


def claim_assembly(runtime: Runtime, dossier_id: str) -> bool:
    """True for exactly one caller once every page is finished: that caller queues ``finish_dossier``."""
    if pages_remaining(runtime, dossier_id):
        return False
    with runtime.sessions() as session:
        result: CursorResult = session.execute(  # type: ignore[assignment]
            update(Dossier).where(Dossier.id == dossier_id, Dossier.status == "processing").values(status="assembling")
        )
        claimed = result.rowcount
        session.commit()
    return claimed == 1


def finish_dossier(runtime: Runtime, dossier_id: str) -> None:
    """Store the archive copy, index every page (replacing earlier entries), verify, and mark it processed."""
    with runtime.sessions() as session:
        # Every page's facts but its words, which only the archive copy needs, a few pages at a time: a 300-page
        # dossier's words, parsed from JSON, take about as much memory as the rest of the worker process.
        dossier = session.get(Dossier, dossier_id, options=[selectinload(Dossier.pages).defer(Page.words)])
        if dossier is None or dossier.status == "processed":
            return
        dossier.archive_pdf_sha256 = _store_archive_copy(runtime, dossier)
        dossier.status = "processed"
        dossier.verify_report = verification_report(dossier)
        runtime.index.add_pages(page_documents(dossier))  # after the report: it carries each page's doc type
        dossier.processed_at = datetime.now(UTC)
        session.commit()
    log.info("dossier %s processed", dossier_id)


def _store_archive_copy(runtime: Runtime, dossier: Dossier) -> str | None:
    """Write the searchable PDF/A copy and store it as a derived object; its SHA-256, or None if it failed.

    The copy is byte-for-byte reproducible, so running this again after a crash stores nothing new. A copy that
    cannot be made (an original pikepdf cannot rewrite) is logged on the dossier and does not hold up the rest.
    """
    existing = dossier.archive_pdf_sha256
    if existing and runtime.store.exists(archive_pdf_key(existing)):
        return existing
    runtime.settings.temp_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkstemp(dir=runtime.settings.temp_dir, prefix="archive-", suffix=".pdf")[1])
    try:
        with runtime.store.local_path(pages_source_key(runtime.store, dossier.original_sha256)) as source:
            layers = _text_layers(runtime, dossier.id)
            write_archive_pdf(Path(source), layers, temp, title=f"Hồ sơ {dossier.case.case_number}")
        sha256 = file_sha256(temp)
        runtime.store.put_file(archive_pdf_key(sha256), temp)
    except Exception as failure:  # noqa: BLE001 - the dossier is still indexed and verified without its copy
        log.exception("the archive copy of dossier %s could not be made", dossier.id)
        dossier.error = f"archive copy failed: {type(failure).__name__}: {failure}"
        return None
    finally:
        temp.unlink(missing_ok=True)
    return sha256


def _text_layers(runtime: Runtime, dossier_id: str) -> Iterator[TextLayerPage]:
    """The text layer of each read page with words, in page order, fetched a batch of rows at a time (plain
    rows in a session of their own, so no page's words stay behind once its layer is written)."""
    columns = (Page.page_number, Page.width_px, Page.height_px, Page.rotation, Page.skew, Page.words)
    query = (
        select(*columns)
        .where(Page.dossier_id == dossier_id, Page.status == "done", Page.words.is_not(None))
        .order_by(Page.page_number)
        .execution_options(yield_per=TEXT_LAYER_BATCH)
    )
    with runtime.sessions() as session:
        for page_number, width_px, height_px, rotation, skew, words in session.execute(query):
            if words:
                yield TextLayerPage(
                    page_number=page_number,
                    width_px=width_px or 0,
                    height_px=height_px or 0,
                    rotation=rotation,
                    words=words,
                    skew=skew if skew and abs(skew) >= MIN_CORRECTED_DEGREES else 0.0,
                )


def page_facts(dossier: Dossier) -> list[verify.PageFact]:
    """The facts of the pages read so far: a page still pending is not judged (it is not yet "unnumbered")."""
    facts = []
    for page in dossier.pages:
        if page.status == "pending":
            continue
        facts.append(
            verify_inputs.page_fact(
                page.page_number,
                role=page.role,
                blank=bool(page.blank),
                sheet_number=page.sheet_number,
                sheet_confidence=page.sheet_confidence,
                rotation=page.rotation,
                doc_type=page.doc_type,
                details=page.facts,
                dpi=page.dpi,
                mean_confidence=page.mean_confidence,
                error_code=page.error_code,
            )
        )
    return facts


def _read_pages(dossier: Dossier) -> list[verify_inputs.ReadPage]:
    return [
        verify_inputs.ReadPage(page=page.page_number, role=page.role, text=page.text or "", details=page.facts or {})
        for page in dossier.pages
        if page.status != "pending"
    ]


def cover_fact(dossier: Dossier) -> verify.CoverFact | None:
    """The cover's fields as its reader stored them (read with the image), else read from its text."""
    return verify_inputs.cover_fact(_read_pages(dossier))


def verification_report(dossier: Dossier) -> dict:
    """The verify report; the scan time read at intake (else the upload time) starts the 48-hour clock."""
    pages = _read_pages(dossier)
    context = verify_inputs.dossier_context(pages, uploaded_at=dossier.created_at, scanned_at=dossier.scanned_at)
    return verify.report(dossier.id, dossier.status, page_facts(dossier), verify_inputs.cover_fact(pages), context)


@dataclass(frozen=True)
class Unfinished:
    """A dossier not yet processed: what a starting worker must queue again for it."""

    dossier_id: str
    pending_pages: list[int]
    needs_conversion: bool  # its TIFF's pages PDF is not made yet: convert first, then read the pages


def unfinished(runtime: Runtime, unleased_at: datetime | None = None) -> list[Unfinished]:
    """Dossiers not yet processed, oldest first, each with its pending pages. With ``unleased_at``: only the work
    no worker holds a lease on at that time (``ingest.leases``); a dossier whose pending pages are all being
    read, or that is being converted or finished, is left out."""
    query = select(Dossier).where(Dossier.status.in_(leases.UNFINISHED)).order_by(Dossier.created_at)
    if unleased_at is not None:
        query = query.where(leases.free(Dossier.lease_expires_at, unleased_at))
    with runtime.sessions() as session:
        found = []
        for dossier in session.scalars(query).all():
            pending = list(session.scalars(_pending_page_numbers(dossier.id)))
            if unleased_at is not None and pending:
                pending = list(
                    session.scalars(
                        _pending_page_numbers(dossier.id).where(leases.free(Page.lease_expires_at, unleased_at))
                    )
                )
                if not pending:
                    continue
            converting = bool(pending) and pages_pdf_pending(runtime.store, dossier.original_sha256)
            found.append(Unfinished(dossier.id, pending, converting))
        return found


def pending_pages(runtime: Runtime, dossier_id: str) -> list[int]:
    with runtime.sessions() as session:
        return list(session.scalars(_pending_page_numbers(dossier_id)))


def _pending_page_numbers(dossier_id: str) -> Select[int]:
    return (
        select(Page.page_number)
        .where(Page.dossier_id == dossier_id, Page.status == "pending")
        .order_by(Page.page_number)
    )
