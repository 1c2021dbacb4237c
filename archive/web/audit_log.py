"""The audit log for auditors (browse, check, export within their units), and the audit of every dossier read.

Only roles with ``audit.read`` (auditor, admin; ``archive/permissions.py``) read the log; everyone else gets
403. Entries are filtered by the unit path they are about, like dossiers, so an auditor of a province sees
that province's teams only. The chain check walks every entry (it cannot be scoped: a link is only checked
against its neighbour), about 5,000 entries a second here, so it runs when asked (``?verify=1``).

Reads are audited by one hook, not by each view: every successful GET whose URL names a dossier
(``<dossier_id>``) or a handover batch (``<batch_id>``) appends ``dossier.view`` (a page or JSON) or
``dossier.download`` / ``batch.download`` (a file), with who, when, the URL and the address. A route added
later that reads a dossier is audited without anyone remembering to. If the entry cannot be written the
request fails (500) rather than hand out an unrecorded read.

The same person reading the same object through the same route from the same address again within
``REPEAT_WINDOW_SECONDS`` is not recorded again: the progress poll of a processing dossier (every few
seconds) and the hundred thumbnails of one dossier page would otherwise bury the reads that matter.
The window is kept in the process's memory, so a restart or a second server process records anew.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select
from werkzeug.wrappers import Response

from archive import audit
from archive.models import Case, Dossier, HandoverBatch, Unit
from archive.web import context
from archive.web.auth import remote_addr, require
from archive.web.presigned import PresignedRedirect

bp = Blueprint("audit_log", __name__)
api_bp = Blueprint("audit_log_api", __name__, url_prefix="/api/v1")

PAGE_SIZE = 200
MAX_LIMIT = 1000
# Answers that show a dossier rather than hand over a file.
VIEW_MIMETYPES = frozenset({"text/html", "application/json"})
REPEAT_WINDOW_SECONDS = 300.0
RECENT_READS_MAX = 10_000


class RecentReads:
    """Reads recorded in the last window, by (person, object, route, address): what ``record_read`` skips."""

    def __init__(self) -> None:
        self._seen: dict[tuple[object, ...], float] = {}
        self._lock = threading.Lock()

    def first_in_window(self, key: tuple[object, ...]) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._seen.get(key, -REPEAT_WINDOW_SECONDS) < REPEAT_WINDOW_SECONDS:
                return False
            if len(self._seen) >= RECENT_READS_MAX:
                self._seen = {k: t for k, t in self._seen.items() if now - t < REPEAT_WINDOW_SECONDS}
            self._seen[key] = now
            return True


RECENT_READS_KEY = "hoso.recent_reads"


@bp.record_once
def _start_recent_reads(state: BlueprintSetupState) -> None:
    state.app.extensions[RECENT_READS_KEY] = RecentReads()


def _verify_requested() -> bool:
    return request.args.get("verify", "") in ("1", "true")


def _scope_path() -> str:
    return require("audit.read").unit.path


@bp.get("/audit")
def audit_page() -> str:
    unit_path = _scope_path()
    session = context.db()
    entries = audit.latest_in_scope(session, unit_path, PAGE_SIZE)
    chain = audit.verify_chain(session) if _verify_requested() else None
    return render_template("handover/audit.html", entries=entries, chain=chain, head=audit.head(session))


@api_bp.get("/audit")
def audit_entries() -> dict[str, Any]:
    unit_path = _scope_path()
    session = context.db()
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int), 1), MAX_LIMIT)
    entries = audit.latest_in_scope(session, unit_path, limit)
    rows = [{column: getattr(entry, column) for column in audit.EXPORT_COLUMNS} for entry in entries]
    chain = audit.verify_chain(session).to_dict() if _verify_requested() else None
    return {"head": audit.head(session), "chain": chain, "entries": rows}


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_text(rows: Iterator[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=audit.EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {"detail": json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)})
    return buffer.getvalue()


@bp.get("/audit/export.csv")
def export_csv() -> Response:
    """Every entry about the auditor's units, oldest first, with both hashes (re-checkable with any SHA-256 tool)."""
    rows = audit.export_rows(context.db(), _scope_path())
    return _download(_csv_text(rows), "text/csv", "hoso-audit.csv")


@bp.get("/audit/export.json")
def export_json() -> Response:
    unit_path = _scope_path()
    session = context.db()
    body = {"head": audit.head(session), "entries": list(audit.export_rows(session, unit_path))}
    return _download(json.dumps(body, ensure_ascii=False, default=str), "application/json", "hoso-audit.json")


def _read_target(view_args: dict[str, Any]) -> tuple[str, str, str | None]:
    """(target type, id, unit path) of what the URL names; the path is None when it names nothing audited."""
    session = context.db()
    if "dossier_id" in view_args:
        dossier_id = str(view_args["dossier_id"])
        query = select(Unit.path).join(Case, Case.unit_id == Unit.id).join(Dossier).where(Dossier.id == dossier_id)
        return "dossier", dossier_id, session.scalar(query)
    if "batch_id" in view_args:
        batch_id = view_args["batch_id"]
        query = (
            select(Unit.path).join(HandoverBatch, HandoverBatch.unit_id == Unit.id).where(HandoverBatch.id == batch_id)
        )
        return "batch", str(batch_id), session.scalar(query)
    return "", "", None


@bp.after_app_request
def record_read(response: Response) -> Response:
    """Append the audit entry of a successful read of a dossier or a batch (see the module docstring)."""
    user = g.get("user")
    handed_over = isinstance(response, PresignedRedirect)  # a download sent by the object store (S3)
    if request.method != "GET" or (response.status_code != 200 and not handed_over) or user is None:
        return response
    target_type, target_id, unit_path = _read_target(request.view_args or {})
    read = (user.id, target_type, target_id, request.endpoint, remote_addr())
    if unit_path is None or not current_app.extensions[RECENT_READS_KEY].first_in_window(read):
        return response
    kind = "view" if response.mimetype in VIEW_MIMETYPES and not handed_over else "download"
    detail = {"endpoint": request.endpoint, "path": request.path, "via_token": bool(g.get("via_token"))}
    session = context.db()
    audit.append(session, user, f"{target_type}.{kind}", target_type, target_id, unit_path, detail, remote_addr())
    session.commit()
    return response
