"""The handover in the web app: the queue (the team leader's proposals, the archivist's submissions), the
submit/approve/return/accept/reject forms, the corrected-scan upload, the annex V documents of a batch, and the
same steps as JSON under /api/v1.

Every step goes through ``archive.handover``, which checks role, scope and state and writes the audit entry;
this module only reads forms and shapes responses. A refused step is an error page (or JSON) with the
status of the refusal: 404 outside the user's units, 403 for the wrong role, 409/422 for the wrong state
or a missing reason.

The panel's and queue's labels are lazy texts shown in the reader's language; they reach the templates as
plain strings. Flash messages are translated when flashed (the session stores plain text). The annex V
documents themselves stay Vietnamese: they are the legal record of the handover (``archive.handover_documents``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response

from archive import handover as workflow
from archive.handover_documents import DOCUMENTS, document_filename, render, summarise_batch
from archive.models import Dossier
from archive.web import context
from archive.web.scope import dossier_in_scope
from archive.web.upload import upload

bp = Blueprint("handover", __name__)
api_bp = Blueprint("handover_api", __name__, url_prefix="/api/v1")

STATE_VI = {
    "draft": lazy_gettext("Chưa nộp lưu"),
    "proposed": lazy_gettext("Chờ đội trưởng duyệt"),
    "submitted": lazy_gettext("Đã nộp, chờ tiếp nhận"),
    "accepted": lazy_gettext("Đã tiếp nhận vào lưu trữ"),
    "rejected": lazy_gettext("Bị trả lại"),
    "superseded": lazy_gettext("Đã thay bằng bản mới"),
}
# The links' names; the documents they open are Vietnamese in either language.
DOCUMENT_TITLES_VI = {
    "muc-luc": lazy_gettext("Mục lục hồ sơ, tài liệu nộp lưu"),
    "bien-ban": lazy_gettext("Biên bản giao nhận hồ sơ, tài liệu"),
}


def state_label(state: str | None) -> str:
    """A handover state in the reader's language; an unknown code shows as is."""
    return str(STATE_VI.get(state, state)) if state else ""


def document_titles() -> dict[str, str]:
    """The documents' link names in the reader's language, as plain strings (Jinja takes a lazy text as markup)."""
    return {kind: str(title) for kind, title in DOCUMENT_TITLES_VI.items()}


def _actor() -> workflow.Actor:
    return workflow.Actor(context.current_user(), request.remote_addr or "")


def handover_view(dossier: Dossier) -> dict[str, Any]:
    """What the dossier page's handover panel shows: state, allowed steps, versions, the batch's documents."""
    session = context.db()
    return {
        "state": dossier.handover_state,
        "state_vi": state_label(dossier.handover_state),
        "steps": workflow.allowed_steps(context.current_user(), dossier),
        "passed": workflow.passed_verification(dossier),
        "versions": workflow.versions_of(session, dossier),
        "documents": document_titles() if dossier.handover_batch_id else {},
    }


def register(app: Flask) -> None:
    """Blueprints, the refusal handler, and the panel helper the dossier page calls."""
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.add_template_global(handover_view)
    app.add_template_filter(state_label, "handover_state")


@bp.get("/handover")
def queue() -> str:
    session = context.db()
    user = context.current_user()
    waiting = workflow.queue_for(session, user)
    batches = workflow.batches_for(session, user)
    return render_template(
        "handover/queue.html",
        proposed=[dossier for dossier in waiting if dossier.handover_state == "proposed"],
        waiting=[dossier for dossier in waiting if dossier.handover_state == "submitted"],
        can_approve=user.role in workflow.APPROVER_ROLES,
        can_decide=user.role in workflow.DECIDER_ROLES,
        batches=[(batch, workflow.batch_dossiers(session, batch.id)) for batch in batches],
        documents=document_titles(),
    )


def _back_to(dossier_id: str) -> Response:
    return redirect(url_for("pages.dossier", dossier_id=dossier_id), code=303)


def _ticked(step: str) -> list[str]:
    """The dossiers ticked in the queue, or the one of a dossier page's form."""
    dossier_ids = request.form.getlist("dossier_id")
    if not dossier_ids:
        raise workflow.HandoverRefused(f"Tick at least one dossier to {step}.")
    return dossier_ids


def _back_from_ticked(dossier_ids: list[str]) -> Response:
    """Back to the dossier page a single one came from, else to the queue."""
    return _back_to(dossier_ids[0]) if len(dossier_ids) == 1 else redirect(url_for("handover.queue"), code=303)


@bp.post("/dossiers/<dossier_id>/handover/submit")
def submit(dossier_id: str) -> Response:
    dossier = workflow.submit(context.db(), _actor(), dossier_id, request.form.get("explanation", ""))
    if dossier.handover_state == "proposed":
        flash(_("Đã nộp hồ sơ; chờ đội trưởng duyệt trước khi chuyển lưu trữ."), "info")
    else:
        flash(_("Đã nộp hồ sơ để lưu trữ tiếp nhận."), "info")
    return _back_to(dossier_id)


@bp.post("/handover/approve")
def approve() -> Response:
    """Approve the proposals ticked in the queue (or the one of a dossier page): they go to the archivist."""
    dossier_ids = _ticked("approve")
    workflow.approve(context.db(), _actor(), dossier_ids)
    flash(_("Đã duyệt %(count)s hồ sơ; hồ sơ đã chuyển lưu trữ tiếp nhận.", count=len(dossier_ids)), "info")
    return _back_from_ticked(dossier_ids)


@bp.post("/dossiers/<dossier_id>/handover/return")
def send_back(dossier_id: str) -> Response:
    workflow.send_back(context.db(), _actor(), dossier_id, request.form.get("reason", ""))
    flash(_("Đã trả lại hồ sơ cho cán bộ."), "info")
    return _back_to(dossier_id)


@bp.post("/dossiers/<dossier_id>/handover/reject")
def reject(dossier_id: str) -> Response:
    workflow.reject(context.db(), _actor(), dossier_id, request.form.get("reason", ""))
    flash(_("Đã trả lại hồ sơ cho đội."), "info")
    return _back_to(dossier_id)


@bp.post("/handover/accept")
def accept() -> Response:
    """Accept the dossiers ticked in the queue (or the one of a dossier page) as one batch."""
    dossier_ids = _ticked("accept")
    batch = workflow.accept(context.db(), _actor(), dossier_ids, request.form.get("retention", ""))
    flash(
        _("Đã tiếp nhận %(count)s hồ sơ (lần giao nhận số %(batch)s).", count=len(dossier_ids), batch=batch.id), "info"
    )
    return _back_from_ticked(dossier_ids)


@bp.post("/dossiers/<dossier_id>/handover/new-version")
def new_version(dossier_id: str) -> Response:
    """The corrected scan of a rejected dossier: uploaded through the one upload path, then linked to the old."""
    session = context.db()
    actor = _actor()
    old = workflow.check_new_version_allowed(session, actor, dossier_id)
    dossier, created = upload(actor.user, request.files.get("file"), old.case.case_number, old.case.unit.code)
    if not created:
        raise workflow.SameScan()
    workflow.record_new_version(session, actor, dossier_id, dossier.id)
    flash(_("Đã tải lên bản mới; nộp lại khi hệ thống kiểm tra xong."), "info")
    return _back_to(dossier.id)


@bp.get("/handover/batches/<int:batch_id>/<kind>.pdf")
def batch_document(batch_id: int, kind: str) -> Response:
    if kind not in DOCUMENTS:
        raise NotFound(f"No document {kind!r}; one of {', '.join(DOCUMENTS)}.")
    session = context.db()
    batch = workflow.batch_in_scope(session, context.current_user(), batch_id)
    content = render(kind, summarise_batch(session, batch))
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{document_filename(kind, batch_id)}"'
    return response


def _state(dossier: Dossier) -> dict[str, Any]:
    return {
        "dossier_id": dossier.id,
        "version": dossier.version,
        "supersedes_id": dossier.supersedes_id,
        "handover_state": dossier.handover_state,
        "handover_reason": dossier.handover_reason,
        "submitted_at": dossier.submitted_at.isoformat() if dossier.submitted_at else None,
        "decided_at": dossier.decided_at.isoformat() if dossier.decided_at else None,
        "retention": dossier.retention,
        "handover_batch_id": dossier.handover_batch_id,
    }


def _payload() -> dict[str, Any]:
    """JSON body or form fields: scripts send either."""
    return dict(request.get_json(silent=True) or {}) or request.form.to_dict()


@api_bp.get("/dossiers/<dossier_id>/handover")
def api_state(dossier_id: str) -> dict[str, Any]:
    return _state(dossier_in_scope(context.db(), context.current_user(), dossier_id))


@api_bp.post("/dossiers/<dossier_id>/handover")
def api_step(dossier_id: str) -> dict[str, Any]:
    """``action`` submit|approve|return|accept|reject; ``reason`` (the explanation for submit); ``retention``."""
    payload = _payload()
    action = str(payload.get("action", ""))
    reason = str(payload.get("reason", ""))
    session = context.db()
    if action == "submit":
        dossier = workflow.submit(session, _actor(), dossier_id, reason)
    elif action == "approve":
        dossier = workflow.approve(session, _actor(), [dossier_id])[0]
    elif action == "return":
        dossier = workflow.send_back(session, _actor(), dossier_id, reason)
    elif action == "reject":
        dossier = workflow.reject(session, _actor(), dossier_id, reason)
    elif action == "accept":
        batch = workflow.accept(session, _actor(), [dossier_id], str(payload.get("retention", "")))
        dossier = workflow.batch_dossiers(session, batch.id)[0]
    else:
        raise BadRequest("`action` must be one of submit, approve, return, accept, reject.")
    return _state(dossier)


@api_bp.post("/handover/batches")
def api_accept_batch() -> tuple[dict[str, Any], int]:
    """Accept several submitted dossiers of one team as one batch: ``dossier_ids`` (list), ``retention``."""
    payload = _payload()
    dossier_ids = request.form.getlist("dossier_ids") if request.form else payload.get("dossier_ids")
    if not isinstance(dossier_ids, list) or not all(isinstance(item, str) for item in dossier_ids):
        raise BadRequest("`dossier_ids` must be a list of dossier ids.")
    session = context.db()
    batch = workflow.accept(session, _actor(), dossier_ids, str(payload.get("retention", "")))
    dossiers = workflow.batch_dossiers(session, batch.id)
    documents = {kind: url_for("handover.batch_document", batch_id=batch.id, kind=kind) for kind in DOCUMENTS}
    return {"batch_id": batch.id, "dossiers": [_state(d) for d in dossiers], "documents": documents}, 201


@api_bp.get("/handover/queue")
def api_queue() -> dict[str, Any]:
    waiting = workflow.queue_for(context.db(), context.current_user())
    return {"dossiers": [_state(dossier) | {"case_number": dossier.case.case_number} for dossier in waiting]}
