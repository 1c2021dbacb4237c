"""The stages of one dossier, in order. Each stage is idempotent and keeps its state in the database, so a
worker killed anywhere leaves a dossier that the next worker resumes without duplicates.

    accept()          store the original (write-once, by SHA-256), record case, dossier and pending pages
    process_page()    one job per page: rasterise, orient, OCR, sheet number, classify; facts written at once
    claim_assembly()  the last page to finish moves the dossier on, exactly once
    finish_dossier()  index the pages, read the cover, run the verification rules, mark it processed
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from archive import verify
from archive.models import Case, Dossier, Page, Unit
from archive.runtime import Runtime
from archive.storage import StorageError, original_key
from ingest.errors import UnknownUnit
from ingest.intake import ReceivedFile
from ocr.cover import read_cover_fields
from ocr.page import read_page
from search.documents import PageDocument

log = logging.getLogger(__name__)


def accept(
    runtime: Runtime, received: ReceivedFile, case_number: str, unit_code: str, uploaded_by_id: int | None = None
) -> tuple[Dossier, bool]:
    """Make a received file a dossier. Returns the dossier and whether it is new (False: same SHA-256 seen before).

    The original is stored and read back before the database commit, so an acknowledged upload is never lost.
    """
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
    """OCR one page and write its facts. A page already done is skipped; a page that fails is marked, not retried
    forever, so one bad page never stalls its dossier."""
    with runtime.sessions() as session:
        page = session.scalar(select(Page).where(Page.dossier_id == dossier_id, Page.page_number == page_number))
        if page is None or page.status != "pending":
            return
        sha256 = page.dossier.original_sha256
    values: dict[str, object]
    try:
        with runtime.store.local_path(original_key(sha256)) as pdf_path:
            facts = read_page(Path(pdf_path), page_number, dpi=runtime.settings.ocr_dpi)
        values = {
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
        }
    except Exception as failure:  # noqa: BLE001 - any OCR failure marks the page; the dossier goes on
        log.exception("page %d of dossier %s failed", page_number, dossier_id)
        values = {"status": "failed", "error": f"{type(failure).__name__}: {failure}"}
    with runtime.sessions() as session:
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier_id, Page.page_number == page_number, Page.status == "pending")
            .values(processed_at=datetime.now(UTC), **values)
        )
        session.commit()


def pages_remaining(runtime: Runtime, dossier_id: str) -> int:
    with runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Page).where(Page.dossier_id == dossier_id, Page.status == "pending")
            )
            or 0
        )


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
    """Index every page (replacing earlier entries), verify, and mark the dossier processed."""
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None or dossier.status == "processed":
            return
        case, unit = dossier.case, dossier.case.unit
        runtime.index.add_pages(
            [
                PageDocument(
                    dossier_id=dossier.id,
                    page=page.page_number,
                    case_number=case.case_number,
                    unit_code=unit.code,
                    unit_path=unit.path,
                    text=page.text,
                    subject_name=case.subject_name,
                    tax_code=case.tax_code,
                    doc_type=page.doc_type or "",
                    violation=case.violation,
                )
                for page in dossier.pages
                if page.text.strip()
            ]
        )
        dossier.status = "processed"
        dossier.verify_report = verification_report(dossier)
        dossier.processed_at = datetime.now(UTC)
        session.commit()
    log.info("dossier %s processed", dossier_id)


def page_facts(dossier: Dossier) -> list[verify.PageFact]:
    """The facts of the pages read so far: a page still pending is not judged (it is not yet "unnumbered")."""
    return [
        verify.PageFact(
            page=page.page_number,
            sheet_number=page.sheet_number,
            sheet_confidence=page.sheet_confidence,
            rotation=page.rotation,
            role=page.role or ("blank" if page.blank else "document"),
            doc_type=page.doc_type,
        )
        for page in dossier.pages
        if page.status != "pending"
    ]


def cover_fact(dossier: Dossier) -> verify.CoverFact | None:
    cover_page = next((page for page in dossier.pages if page.role == "cover"), None)
    if cover_page is None:
        return None
    return verify.CoverFact(page=cover_page.page_number, fields=read_cover_fields(cover_page.text))


def verification_report(dossier: Dossier) -> dict:
    return verify.report(dossier.id, dossier.status, page_facts(dossier), cover_fact(dossier))


def unfinished(runtime: Runtime) -> list[tuple[str, list[int]]]:
    """Dossiers not yet processed, each with its pending pages: what a starting worker must queue again."""
    with runtime.sessions() as session:
        dossiers = session.scalars(
            select(Dossier).where(Dossier.status.in_(("processing", "assembling"))).order_by(Dossier.created_at)
        ).all()
        return [
            (dossier.id, [page.page_number for page in dossier.pages if page.status == "pending"])
            for dossier in dossiers
        ]
