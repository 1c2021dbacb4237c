"""Rebuild the search index from the database, the source of truth, in batches that survive interruption.

The index is derived data: a schema or analyzer change empties it (`SearchIndex.rebuilt`), and a case
field edited after indexing leaves it stale. `reindex` walks processed dossiers in id order and, after
each committed batch, records the last dossier id done in `reindex-state.json` in the index directory.
Killed at any point (Ctrl-C, SIGTERM, SIGKILL), the next run resumes after that id; a batch redone is
harmless because adding a page replaces it. `page_documents` says what a dossier's pages look like in
the index; `ingest.pipeline.finish_dossier` builds the same entries when a dossier is first processed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, defer, selectinload

from archive.models import Case, Dossier, Page
from archive.runtime import Runtime, current_runtime
from search.documents import PageDocument

log = logging.getLogger(__name__)

STATE_FILE = "reindex-state.json"
_PENDING = "hoso.reindex_after_commit"  # key in Session.info: dossier ids to reindex once it commits
BATCH_PAGES = 2000  # pages per commit: large enough that commits do not dominate, small enough to resume cheaply


@dataclass(frozen=True)
class ReindexSummary:
    dossiers: int  # indexed by this run
    pages: int
    resumed_after: str | None  # the dossier id an interrupted run had reached, or None for a fresh start


def page_documents(dossier: Dossier) -> list[PageDocument]:
    """The index entries of a dossier's pages that have text, with the case fields filters and facets use.

    A page's document type is that of the document it belongs to, as the verification report carries it
    forward from the document's first page (only that page has a header to read it from), so filtering
    on "biên bản kiểm tra" finds the second page of a record too. Pages outside any document (cover,
    contents, closing sheet) keep their own type.
    """
    case, unit = dossier.case, dossier.case.unit
    carried = carried_doc_types(dossier)
    return [
        PageDocument(
            dossier_id=dossier.id,
            page=page.page_number,
            case_number=case.case_number,
            unit_code=unit.code,
            unit_path=unit.path,
            text=page.text,
            subject_name=case.subject_name,
            tax_code=case.tax_code,
            doc_type=carried.get(page.page_number) or page.doc_type or "",
            violation=case.violation,
            doc_date=case.opened_on or dossier.created_at.date(),
            status=dossier.handover_state,
        )
        for page in dossier.pages
        if page.text.strip()
    ]


def carried_doc_types(dossier: Dossier) -> dict[int, str]:
    """Page number -> the type of the document the page belongs to, from the stored verification report."""
    pages = (dossier.verify_report or {}).get("pages") or []
    return {entry["page"]: entry["doc_type"] for entry in pages if entry.get("doc_type")}


def reindex_after_commit(session: Session, dossier_id: str) -> None:
    """Refresh a dossier's index entries once `session` commits (the handover state is a search filter).

    Called inside the transaction that changes the dossier; the index is written only after the commit,
    so it never shows a state the database rolled back. The entries are rebuilt in this process's
    runtime (`current_runtime`), and only if the session uses its database; a failure is logged, not
    raised (the change is committed; `hoso reindex` repairs the index).
    """
    pending: set[str] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = set()
        event.listen(session, "after_commit", _reindex_pending)
    pending.add(dossier_id)


def _reindex_pending(session: Session) -> None:
    pending: set[str] = session.info[_PENDING]
    dossier_ids, runtime = sorted(pending), current_runtime()
    pending.clear()
    if session.get_bind() is not runtime.engine:
        log.warning("dossiers %s changed in another database than this process's: not reindexed", dossier_ids)
        return
    for dossier_id in dossier_ids:
        try:
            reindex_dossier(runtime, dossier_id)
        except Exception:  # noqa: BLE001 - the change is committed; a stale entry is repaired by `hoso reindex`
            log.exception("dossier %s could not be reindexed; run `hoso reindex`", dossier_id)


def reindex_dossier(runtime: Runtime, dossier_id: str) -> int:
    """Replace one dossier's entries (after its case fields or handover state changed); returns its page count."""
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        documents = page_documents(dossier) if dossier is not None and dossier.status == "processed" else []
    runtime.index.delete_dossier(dossier_id)
    runtime.index.add_pages(documents)
    return len(documents)


def reindex(
    runtime: Runtime, *, restart: bool = False, on_progress: Callable[[int, int], None] | None = None
) -> ReindexSummary:
    """Index every processed dossier, resuming an interrupted run unless `restart`.

    `on_progress(dossiers, pages)` is called after each committed batch with what it added; a fresh
    start empties the index first, so dossiers deleted from the database disappear from it too.
    """
    state_path = runtime.settings.index_dir / STATE_FILE
    resumed_after = None if restart else _read_state(state_path)
    if resumed_after is None:
        runtime.index.clear()
        _write_state(state_path, "")
    dossiers = pages = 0
    for batch in _batches(runtime, after=resumed_after or ""):
        runtime.index.add_pages([document for documents in batch.values() for document in documents])
        _write_state(state_path, max(batch))
        batch_pages = sum(len(documents) for documents in batch.values())
        dossiers, pages = dossiers + len(batch), pages + batch_pages
        if on_progress is not None:
            on_progress(len(batch), batch_pages)
    state_path.unlink(missing_ok=True)
    return ReindexSummary(dossiers=dossiers, pages=pages, resumed_after=resumed_after or None)


def dossiers_to_index(runtime: Runtime) -> tuple[int, int]:
    """(dossiers left, dossiers in all) for a run started now: what a progress bar shows."""
    after = _read_state(runtime.settings.index_dir / STATE_FILE) or ""
    with runtime.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Dossier).where(Dossier.status == "processed")) or 0
        left = session.scalar(
            select(func.count()).select_from(Dossier).where(Dossier.status == "processed", Dossier.id > after)
        )
    return left or 0, total


def _batches(runtime: Runtime, after: str) -> Iterator[dict[str, list[PageDocument]]]:
    """Dossiers after `after` in id order, about BATCH_PAGES pages at a time, keyed by dossier id."""
    while True:
        batch: dict[str, list[PageDocument]] = {}
        size = 0
        with runtime.sessions() as session:
            rows = session.scalars(
                select(Dossier)
                .where(Dossier.status == "processed", Dossier.id > after)
                .order_by(Dossier.id)
                .limit(max(1, BATCH_PAGES // 20))
                .options(
                    selectinload(Dossier.pages).options(defer(Page.words)),
                    selectinload(Dossier.case).selectinload(Case.unit),
                )
            ).all()
            for dossier in rows:
                batch[dossier.id] = page_documents(dossier)
                size += len(batch[dossier.id])
                after = dossier.id
                if size >= BATCH_PAGES:
                    break
        if not batch:
            return
        yield batch


def _read_state(path: Path) -> str | None:
    """The last dossier id an unfinished run committed ("" if it committed none), None if no run is unfinished."""
    if not path.exists():
        return None
    return str(json.loads(path.read_text())["last_dossier_id"])


def _write_state(path: Path, last_dossier_id: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"last_dossier_id": last_dossier_id, "at": datetime.now(UTC).isoformat()}))
    os.replace(temporary, path)
