"""The audit log for auditors: the newest entries about their units, and whether the whole chain holds.

Only the ``auditor`` and ``admin`` roles read it; everyone else gets 403. Entries are filtered by the unit
path they are about, like dossiers, so an auditor of a province sees that province's teams only. The
chain check walks every entry (it cannot be scoped: a link is only checked against its neighbour), about
5,000 entries a second here, so it runs when asked (``?verify=1``), not on every view.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.exceptions import Forbidden

from archive import audit
from archive.web import context

bp = Blueprint("audit_log", __name__)
api_bp = Blueprint("audit_log_api", __name__, url_prefix="/api/v1")

AUDIT_ROLES = frozenset({"auditor", "admin"})
PAGE_SIZE = 200
MAX_LIMIT = 1000


def _require_auditor() -> None:
    user = context.current_user()
    if user.role not in AUDIT_ROLES:
        raise Forbidden(f"Only {', '.join(sorted(AUDIT_ROLES))} may read the audit log.")


def _verify_requested() -> bool:
    return request.args.get("verify", "") in ("1", "true")


@bp.get("/audit")
def audit_page() -> str:
    _require_auditor()
    session = context.db()
    entries = audit.latest_in_scope(session, context.current_user().unit.path, PAGE_SIZE)
    chain = audit.verify_chain(session) if _verify_requested() else None
    return render_template("handover/audit.html", entries=entries, chain=chain, head=audit.head(session))


@api_bp.get("/audit")
def audit_entries() -> dict[str, Any]:
    _require_auditor()
    session = context.db()
    limit = min(max(request.args.get("limit", PAGE_SIZE, type=int), 1), MAX_LIMIT)
    entries = audit.latest_in_scope(session, context.current_user().unit.path, limit)
    rows = [{column: getattr(entry, column) for column in audit.EXPORT_COLUMNS} for entry in entries]
    chain = audit.verify_chain(session).to_dict() if _verify_requested() else None
    return {"head": audit.head(session), "chain": chain, "entries": rows}
