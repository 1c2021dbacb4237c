"""What the dashboard shows a person: their units' dossiers counted by status, and what waits for them.

"What waits" depends on the role: a team (officer, team leader) fixes findings, answers rejected handovers
and explains late digitisation; a team leader approves what the officers propose for handover; an archivist
works through the handover queue. Everything is counted in
SQL within the user's units (``scope.unit_filter``); only the first ``ACTION_LIMIT`` dossiers of each list
are loaded, the rest is only counted, so a province's dashboard does not load its whole backlog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session, selectinload

from archive.models import Case, Dossier, User
from archive.permissions import allows
from archive.web.scope import unit_filter

ACTION_LIMIT = 10
# A superseded dossier is an old version kept for the record; its newer version is the one counted.
CURRENT = Dossier.handover_state != "superseded"
# Still with the team: not yet submitted, or sent back.
WITH_TEAM = Dossier.handover_state.in_(("draft", "rejected"))
LATE_DIGITIZATION = "late_digitization"


@dataclass
class ActionList:
    """The first dossiers of one kind of pending work, and how many there are in all."""

    total: int = 0
    dossiers: list[Dossier] = field(default_factory=list)


@dataclass
class Overview:
    by_status: dict[str, int]
    by_handover_state: dict[str, int]
    failed_verification: ActionList
    rejected: ActionList
    late_digitization: ActionList
    failed_processing: ActionList
    to_approve: ActionList | None  # None: the user does not approve handovers (not a team leader)
    handover_queue: ActionList | None  # None: the user does not decide handovers


def _in_scope(user: User, *conditions: Any) -> Select[Dossier]:
    return select(Dossier).join(Dossier.case).join(Case.unit).where(unit_filter(user), CURRENT, *conditions)


def _counts(session: Session, user: User, column: Any) -> dict[str, int]:
    query = (
        select(column, func.count())
        .select_from(Dossier)
        .join(Dossier.case)
        .join(Case.unit)
        .where(unit_filter(user), CURRENT)
        .group_by(column)
    )
    return {value: count for value, count in session.execute(query)}


def _action_list(session: Session, query: Select[Dossier], order: Any) -> ActionList:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if not total:
        return ActionList()
    first = query.options(selectinload(Dossier.case).selectinload(Case.unit)).order_by(order).limit(ACTION_LIMIT)
    return ActionList(total, list(session.scalars(first)))


def overview(session: Session, user: User) -> Overview:
    processed_with_team = (Dossier.status == "processed", WITH_TEAM)
    report_text = cast(Dossier.verify_report, String)
    return Overview(
        by_status=_counts(session, user, Dossier.status),
        by_handover_state=_counts(session, user, Dossier.handover_state),
        failed_verification=_action_list(
            session,
            _in_scope(user, *processed_with_team, Dossier.verify_report["passed"].as_boolean().is_(False)),
            Dossier.created_at,
        ),
        rejected=_action_list(session, _in_scope(user, Dossier.handover_state == "rejected"), Dossier.decided_at),
        # The finding's code in the stored report's text: a portable test (SQLite and PostgreSQL) without JSON
        # path functions. Only a document number read as exactly that word could match falsely.
        late_digitization=_action_list(
            session,
            _in_scope(user, *processed_with_team, report_text.contains(f'"{LATE_DIGITIZATION}"')),
            Dossier.created_at,
        ),
        failed_processing=_action_list(session, _in_scope(user, Dossier.status == "failed"), Dossier.created_at),
        to_approve=_action_list(session, _in_scope(user, Dossier.handover_state == "proposed"), Dossier.submitted_at)
        if allows(user.role, "handover.approve")
        else None,
        # The same dossiers as the handover page's queue (``handover.queue_for``), counted rather than loaded.
        handover_queue=_action_list(
            session, _in_scope(user, Dossier.handover_state == "submitted"), Dossier.submitted_at
        )
        if allows(user.role, "handover.decide")
        else None,
    )


def errors_of(dossier: Dossier) -> list[dict[str, Any]]:
    """The findings of severity error in a dossier's stored report: what keeps it from passing."""
    return [finding for finding in (dossier.verify_report or {}).get("findings", []) if finding["severity"] == "error"]


def late_finding(dossier: Dossier) -> dict[str, Any] | None:
    findings = (dossier.verify_report or {}).get("findings", [])
    return next((finding for finding in findings if finding["code"] == LATE_DIGITIZATION), None)
