"""The handover of dossiers to the province's archive (Decree 30/2020 art. 29-31), one transition per function.

    draft ──submit (officer)──► proposed ──approve (team leader)──► submitted ──accept──► accepted
      ▲  │                          │                                  ▲  │           (archived, read-only,
      └──┼─────return (reason)──────┘                                  │  │            in a HandoverBatch)
         └──────submit (team leader: approval implied)─────────────────┘  └──reject (reason)──► rejected
    rejected ──new version uploaded──► superseded (the new version starts as draft)

An officer proposes; the team leader whose unit covers the team approves (the team's word that the
dossier goes to the archive, issue 6) or returns it with a reason; the team leader's own submission
carries that approval. The archivist of a unit above the team accepts or rejects. A dossier that did
not pass verification can be submitted only with a written explanation, which the leader and the
archivist read beside the findings. Every transition locks the audit chain first, re-reads the
dossier, checks, changes it and appends its audit entry in one transaction: two archivists clicking
at once cannot both decide, and no change lands without its entry. See docs/handover.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.models import Case, Dossier, HandoverBatch, Unit, User, covers, utcnow
from archive.permissions import roles_for
from archive.refusals import Refusal
from archive.reindex import reindex_after_commit

SUBMITTER_ROLES = roles_for("handover.submit")
APPROVER_ROLES = roles_for("handover.approve")
DECIDER_ROLES = roles_for("handover.decide")
EXPLANATION_MIN_CHARS = 10
REASON_MIN_CHARS = 5

Params = ParamSpec("Params")
Result = TypeVar("Result")


class HandoverRefused(Refusal):
    """A transition refused: a code and English detail for the API and logs, a Vietnamese message for people."""

    code = "handover_refused"
    http_status = 409
    detail = "The handover step was refused."
    message_vi = "Không thể thực hiện bước bàn giao này."


class DossierNotFound(HandoverRefused):
    """Also what a user outside the dossier's unit subtree gets: other units' dossiers do not exist for them."""

    code = "not_found"
    http_status = 404
    detail = "No such dossier in your units."
    message_vi = "Không tìm thấy hồ sơ trong phạm vi đơn vị của bạn."


class NotAllowed(HandoverRefused):
    code = "not_allowed"
    http_status = 403
    message_vi = "Bạn không có quyền thực hiện bước bàn giao này."
    remedy_vi = (
        "Cán bộ hoặc đội trưởng của đội nộp hồ sơ; đội trưởng duyệt hồ sơ cán bộ đã nộp; "
        "văn thư lưu trữ của Chi cục tiếp nhận hoặc trả lại."
    )


class WrongState(HandoverRefused):
    code = "wrong_state"
    message_vi = "Trạng thái hiện tại của hồ sơ không cho phép bước này."
    remedy_vi = "Tải lại trang để xem trạng thái mới nhất của hồ sơ."


class NotProcessed(HandoverRefused):
    code = "not_processed"
    message_vi = "Hồ sơ chưa xử lý xong nên chưa thể nộp lưu."
    remedy_vi = "Chờ hệ thống đọc và kiểm tra xong tất cả các trang."


class ExplanationRequired(HandoverRefused):
    code = "explanation_required"
    http_status = 422
    detail = (
        "The dossier did not pass verification; submitting it needs an explanation "
        f"(at least {EXPLANATION_MIN_CHARS} characters) of why it should be accepted as it is."
    )
    message_vi = "Hồ sơ chưa đạt kiểm tra; muốn nộp vẫn phải ghi rõ lý do."
    remedy_vi = (
        "Sửa và tải lên bản quét mới, hoặc ghi giải trình (ví dụ: số bút lục bỏ trống đã ghi ở chứng từ kết thúc)."
    )


class ReasonRequired(HandoverRefused):
    code = "reason_required"
    http_status = 422
    detail = f"Sending a dossier back needs a reason of at least {REASON_MIN_CHARS} characters."
    message_vi = "Trả lại hồ sơ phải ghi rõ lý do."
    remedy_vi = "Ghi lý do để đội biết cần sửa gì."


class RetentionUnknown(HandoverRefused):
    code = "retention_unknown"
    http_status = 422
    message_vi = "Không đọc được thời hạn bảo quản trên bìa hồ sơ."
    remedy_vi = "Nhập thời hạn bảo quản khi tiếp nhận (ví dụ: 20 năm, Vĩnh viễn)."


class MixedTeams(HandoverRefused):
    code = "mixed_teams"
    http_status = 422
    detail = "A handover batch holds the dossiers of one team: its record names one handing-over party."
    message_vi = "Một lần giao nhận chỉ gồm hồ sơ của một đội."
    remedy_vi = "Tiếp nhận riêng hồ sơ của từng đội."


class SameScan(HandoverRefused):
    code = "same_scan"
    detail = "The new version is the same file as an existing dossier; upload the corrected scan."
    message_vi = "Tệp tải lên trùng với một bản quét đã có, không phải bản đã sửa."
    remedy_vi = "Quét lại hồ sơ sau khi sửa rồi tải lên tệp mới."


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the audit log records both."""

    user: User
    remote_addr: str = ""


def unit_path_of(dossier: Dossier) -> str:
    return dossier.case.unit.path


def _locked_dossier(session: Session, actor: Actor, dossier_id: str) -> Dossier:
    """Lock the chain, then read the dossier fresh: what we check is what we change."""
    audit.lock_chain(session)
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).execution_options(populate_existing=True))
    if dossier is None or not covers(actor.user, unit_path_of(dossier)):
        raise DossierNotFound(f"No dossier {dossier_id!r} in your units.")
    return dossier


def _transition(step: Callable[Concatenate[Session, Params], Result]) -> Callable[Concatenate[Session, Params], Result]:
    """A step runs in one transaction; a refused step ends it at once, releasing the chain lock it took."""

    @functools.wraps(step)
    def run(session: Session, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return step(session, *args, **kwargs)
        except Exception:
            session.rollback()
            raise

    return run


def _require_decider(actor: Actor, dossier: Dossier, step: str) -> None:
    """An archivist of a unit above the dossier's team: a team does not accept its own dossiers."""
    _require_role(actor, DECIDER_ROLES, step)
    if actor.user.unit.path == unit_path_of(dossier):
        raise NotAllowed(f"An archivist of the dossier's own unit may not {step}; the unit above it decides.")


def _require_role(actor: Actor, roles: frozenset[str], step: str) -> None:
    if actor.user.role not in roles:
        raise NotAllowed(f"A user with role {actor.user.role!r} may not {step}; allowed: {', '.join(sorted(roles))}.")


def _require_state(dossier: Dossier, expected: str, step: str) -> None:
    if dossier.handover_state != expected:
        raise WrongState(
            f"Dossier {dossier.id} is {dossier.handover_state!r}; only a {expected!r} dossier can be {step}."
        )


def _record(session: Session, actor: Actor, action: str, dossier: Dossier, detail: dict[str, Any]) -> None:
    audit.append(
        session,
        actor.user,
        f"handover.{action}",
        "dossier",
        dossier.id,
        unit_path_of(dossier),
        {"state": dossier.handover_state, "version": dossier.version, **detail},
        actor.remote_addr,
    )
    reindex_after_commit(session, dossier.id)  # the handover state is a search filter


def passed_verification(dossier: Dossier) -> bool:
    return bool(dossier.verify_report and dossier.verify_report.get("passed"))


def cover_fields(dossier: Dossier) -> dict[str, Any]:
    report = dossier.verify_report or {}
    return dict((report.get("cover") or {}).get("fields") or {})


@_transition
def submit(session: Session, actor: Actor, dossier_id: str, explanation: str = "") -> Dossier:
    """The team sends a processed draft on; a dossier that failed verification needs ``explanation``.

    An officer's goes to the team leader ("proposed"); the team leader's goes to the archivist at once
    ("submitted"): approving one's own submission would be a second click that proves nothing.
    """
    dossier = _locked_dossier(session, actor, dossier_id)
    _require_role(actor, SUBMITTER_ROLES, "submit a dossier for handover")
    _require_state(dossier, "draft", "submitted")
    if dossier.status != "processed":
        raise NotProcessed(f"Dossier {dossier.id} is {dossier.status!r}; only a processed dossier can be submitted.")
    passed = passed_verification(dossier)
    explanation = explanation.strip()
    if not passed and len(explanation) < EXPLANATION_MIN_CHARS:
        raise ExplanationRequired()
    approved = actor.user.role in APPROVER_ROLES
    dossier.handover_state = "submitted" if approved else "proposed"
    dossier.submitted_at = utcnow()
    dossier.decided_at = None
    dossier.handover_reason = explanation or None
    errors = [f["code"] for f in (dossier.verify_report or {}).get("findings", []) if f.get("severity") == "error"]
    facts = {"passed": passed, "errors": errors, "explanation": explanation}
    _record(session, actor, "submit", dossier, facts | {"approval": "implied" if approved else "pending"})
    session.commit()
    return dossier


@_transition
def approve(session: Session, actor: Actor, dossier_ids: Sequence[str]) -> list[Dossier]:
    """The team leader passes officers' proposals to the archivist; all of them or, if one is refused, none."""
    if not dossier_ids:
        raise HandoverRefused("Name at least one dossier to approve.")
    dossiers = [_locked_dossier(session, actor, dossier_id) for dossier_id in dict.fromkeys(dossier_ids)]
    _require_role(actor, APPROVER_ROLES, "approve a dossier for handover")
    for dossier in dossiers:
        _require_state(dossier, "proposed", "approved")
    approved_at = utcnow()
    for dossier in dossiers:
        dossier.handover_state = "submitted"
        dossier.submitted_at = approved_at  # the archivist's queue counts the wait from here
        _record(session, actor, "approve", dossier, {})
    session.commit()
    return dossiers


@_transition
def send_back(session: Session, actor: Actor, dossier_id: str, reason: str) -> Dossier:
    """The team leader returns an officer's proposal to draft; the reason tells the officer what to do first."""
    dossier = _locked_dossier(session, actor, dossier_id)
    _require_role(actor, APPROVER_ROLES, "return a proposed dossier")
    _require_state(dossier, "proposed", "returned")
    reason = _required_reason(reason)
    dossier.submitted_at = None
    return _send_back_with_reason(session, actor, dossier, "return", reason)


@_transition
def reject(session: Session, actor: Actor, dossier_id: str, reason: str) -> Dossier:
    """The archivist sends a submitted dossier back; the reason tells the team what to correct."""
    dossier = _locked_dossier(session, actor, dossier_id)
    _require_decider(actor, dossier, "reject a dossier")
    _require_state(dossier, "submitted", "rejected")
    reason = _required_reason(reason)
    dossier.decided_at = utcnow()
    return _send_back_with_reason(session, actor, dossier, "reject", reason)


def _required_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < REASON_MIN_CHARS:
        raise ReasonRequired()
    return reason


def _send_back_with_reason(session: Session, actor: Actor, dossier: Dossier, step: str, reason: str) -> Dossier:
    """A return (to the officer, "draft") or a rejection (to the team, "rejected"): the reason is the state's text."""
    dossier.handover_state = {"return": "draft", "reject": "rejected"}[step]
    dossier.handover_reason = reason
    _record(session, actor, step, dossier, {"reason": reason})
    session.commit()
    return dossier


@_transition
def accept(session: Session, actor: Actor, dossier_ids: Sequence[str], retention: str = "") -> HandoverBatch:
    """The archivist takes submitted dossiers of one team into the archive as one batch (one handover record).

    Retention comes from each cover's "Thời hạn bảo quản"; ``retention`` fills it where the cover's is blank.
    """
    if not dossier_ids:
        raise HandoverRefused("Name at least one dossier to accept.")
    dossiers = [_locked_dossier(session, actor, dossier_id) for dossier_id in dict.fromkeys(dossier_ids)]
    for dossier in dossiers:
        _require_decider(actor, dossier, "accept a dossier")
        _require_state(dossier, "submitted", "accepted")
    if len({dossier.case.unit_id for dossier in dossiers}) > 1:
        raise MixedTeams()
    retentions = {
        dossier.id: (str(cover_fields(dossier).get("retention") or "").strip() or retention.strip())
        for dossier in dossiers
    }
    unknown = [dossier_id for dossier_id, value in retentions.items() if not value]
    if unknown:
        raise RetentionUnknown(
            f"No retention period on the cover of {', '.join(unknown)}; give one (e.g. '20 năm', 'Vĩnh viễn')."
        )
    batch = HandoverBatch(unit_id=actor.user.unit_id, created_by_id=actor.user.id)
    session.add(batch)
    session.flush()
    decided_at = utcnow()
    for dossier in dossiers:
        dossier.handover_state = "accepted"
        dossier.decided_at = decided_at
        dossier.retention = retentions[dossier.id][:64]
        dossier.handover_batch_id = batch.id
        _record(session, actor, "accept", dossier, {"batch_id": batch.id, "retention": dossier.retention})
    session.commit()
    return batch


def check_new_version_allowed(session: Session, actor: Actor, old_id: str) -> Dossier:
    """Refuse before anything is uploaded: only a rejected dossier is replaced, by its own team."""
    old = session.get(Dossier, old_id)
    if old is None or not covers(actor.user, unit_path_of(old)):
        raise DossierNotFound(f"No dossier {old_id!r} in your units.")
    _require_role(actor, SUBMITTER_ROLES, "upload a new version")
    _require_state(old, "rejected", "replaced by a new version")
    return old


@_transition
def record_new_version(session: Session, actor: Actor, old_id: str, new_id: str) -> Dossier:
    """Link an uploaded corrected scan to the rejected dossier it replaces; the old one is kept, superseded."""
    old = _locked_dossier(session, actor, old_id)
    _require_role(actor, SUBMITTER_ROLES, "upload a new version")
    _require_state(old, "rejected", "replaced by a new version")
    new = session.get(Dossier, new_id)
    if new is None or new.id == old.id or new.supersedes_id is not None or new.handover_state != "draft":
        raise SameScan(f"Dossier {new_id} is not a fresh upload that can replace {old_id}.")
    if new.case_id != old.case_id:
        raise HandoverRefused(f"Dossier {new_id} belongs to another case than {old_id}.")
    new.supersedes_id = old.id
    new.version = old.version + 1
    old.handover_state = "superseded"
    _record(session, actor, "new_version", old, {"new_dossier_id": new.id, "new_version": new.version})
    session.commit()
    return new


def is_archived(dossier: Dossier) -> bool:
    """An accepted dossier is the archive's record: nothing about it may change any more."""
    return dossier.handover_state == "accepted"


def queue_states(user: User) -> tuple[str, ...]:
    """The waiting states a user's queue shows: the team's people also follow what waits for their leader."""
    if user.role in APPROVER_ROLES | SUBMITTER_ROLES:
        return ("proposed", "submitted")
    return ("submitted",)


def queue_for(session: Session, user: User, states: Sequence[str] | None = None) -> list[Dossier]:
    """Waiting dossiers within the user's units, by state (``queue_states``), the longest-waiting first.

    The archivist's to-do list is the "submitted" ones; the team leader's the "proposed" ones.
    """
    own = user.unit.path
    states = tuple(states or queue_states(user))
    waiting = session.scalars(
        select(Dossier)
        .join(Dossier.case)
        .join(Case.unit)
        .where(
            Dossier.handover_state.in_(states),
            (Unit.path == own) | Unit.path.startswith(own + "/", autoescape=True),
        )
        .order_by(Dossier.submitted_at, Dossier.id)
    )
    return sorted(waiting, key=lambda dossier: states.index(dossier.handover_state))


def batches_for(session: Session, user: User, limit: int = 50) -> list[HandoverBatch]:
    """Batches received by a unit within the user's units, newest first."""
    own = user.unit.path
    return list(
        session.scalars(
            select(HandoverBatch)
            .join(HandoverBatch.unit)
            .where((Unit.path == own) | Unit.path.startswith(own + "/", autoescape=True))
            .order_by(HandoverBatch.id.desc())
            .limit(limit)
        )
    )


def batch_dossiers(session: Session, batch_id: int) -> list[Dossier]:
    return list(
        session.scalars(
            select(Dossier).where(Dossier.handover_batch_id == batch_id).order_by(Dossier.decided_at, Dossier.id)
        )
    )


def batch_in_scope(session: Session, user: User, batch_id: int) -> HandoverBatch:
    """The batch if the user may see it: its receiving unit, or the team that handed it over, is in their units."""
    batch = session.get(HandoverBatch, batch_id)
    if batch is not None:
        team_paths = {unit_path_of(dossier) for dossier in batch_dossiers(session, batch.id)}
        if covers(user, batch.unit.path) or any(covers(user, path) for path in team_paths):
            return batch
    raise DossierNotFound(f"No handover batch {batch_id} in your units.")


def versions_of(session: Session, dossier: Dossier) -> list[Dossier]:
    """The chain of versions this dossier belongs to, oldest first (each points at the one it replaces)."""
    chain = [dossier]
    while chain[0].supersedes_id is not None:
        older = session.get(Dossier, chain[0].supersedes_id)
        if older is None:
            break
        chain.insert(0, older)
    newer = session.scalar(select(Dossier).where(Dossier.supersedes_id == chain[-1].id))
    while newer is not None:
        chain.append(newer)
        newer = session.scalar(select(Dossier).where(Dossier.supersedes_id == newer.id))
    return chain


def allowed_steps(user: User, dossier: Dossier) -> frozenset[str]:
    """The steps ``user`` may take on ``dossier`` now, for showing buttons; the transitions check again."""
    path = unit_path_of(dossier)
    if not covers(user, path):
        return frozenset()
    steps = set()
    if user.role in SUBMITTER_ROLES:
        if dossier.handover_state == "draft" and dossier.status == "processed":
            steps.add("submit")
        if dossier.handover_state == "rejected":
            steps.add("new_version")
    if user.role in APPROVER_ROLES and dossier.handover_state == "proposed":
        steps |= {"approve", "return"}
    if user.role in DECIDER_ROLES and user.unit.path != path and dossier.handover_state == "submitted":
        steps |= {"accept", "reject"}
    return frozenset(steps)
