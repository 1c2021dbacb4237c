"""What the reports count, read from the database per unit: scans, handovers and cases of one period.

Each query returns the figures of the records attached to each unit itself ("own" figures, keyed by unit
id); ``archive.reports`` adds them up the tree, so a province's row is exactly its teams plus its own.
What each figure counts is written down in docs/reports.md; the definitions live here and nowhere else.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session

from archive.models import Case, Dossier, Unit
from archive.report_periods import Period
from archive.verify import ERROR, WARNING

# The finding verify.py's _check_late_digitization writes into a stored report (48 hours, Circular 22/2021).
LATE_DIGITIZATION = "late_digitization"
VERIFICATION_OUTCOMES = ("passed", "with_findings", "failed", "pending")

Figures = dict[int, Counter[str]]
"""Own figures per unit id: column key -> count or sum (VND)."""


def subtree_filter(path: str) -> ColumnElement[bool]:
    """Units at ``path`` or below it: the same prefix test as the web's scope (LIKE wildcards escaped)."""
    return or_(Unit.path == path, Unit.path.startswith(path + "/", autoescape=True))


def verification_outcome(findings: list[dict[str, Any]] | None) -> str:
    """passed: no error or warning; with_findings: passed with warnings; failed: an error; pending: not verified yet.

    ``findings`` are the stored verification report's (None without a report). A report passes exactly when it
    has no error finding (``verify.report``), so the findings alone decide, and the report's large page list
    is never read. Informational findings (a page turned upright) do not make a dossier "with findings".
    """
    if findings is None:
        return "pending"
    severities = {finding.get("severity") for finding in findings}
    if ERROR in severities:
        return "failed"
    return "with_findings" if WARNING in severities else "passed"


def is_late(findings: list[dict[str, Any]] | None) -> bool:
    return any(finding.get("code") == LATE_DIGITIZATION for finding in findings or [])


def _in_window(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def scan_figures(session: Session, path: str, period: Period) -> Figures:
    """Dossier versions uploaded in the period (Viet Nam time), their pages, verification outcomes and lateness.

    ``not_handed_over`` (no report column; the due list's "still missing") counts those still draft, proposed,
    submitted or rejected: a superseded version is replaced by its successor, which is counted on its own.
    """
    start, end = period.utc_bounds()
    # Only the report's findings are read: its page list is most of its size and not needed here.
    rows = session.execute(
        select(
            Case.unit_id,
            Dossier.page_count,
            Dossier.verify_report["findings"],
            Dossier.handover_state,
        )
        .join(Dossier.case)
        .join(Case.unit)
        .where(subtree_filter(path), _in_window(Dossier.created_at, start, end))
    )
    figures: Figures = defaultdict(Counter)
    for unit_id, page_count, findings, state in rows:
        own = figures[unit_id]
        own["not_handed_over"] += int(state in ("draft", "proposed", "submitted", "rejected"))
        own["dossiers"] += 1
        own["pages"] += page_count or 0
        own["verify_" + verification_outcome(findings)] += 1
        own["late_digitizations"] += int(is_late(findings))
    return figures


def handover_figures(session: Session, path: str, period: Period) -> Figures:
    """Dossiers the archive accepted in the period (the acceptance time, not the upload time)."""
    start, end = period.utc_bounds()
    rows = session.execute(
        select(Case.unit_id)
        .join(Dossier.case)
        .join(Case.unit)
        .where(subtree_filter(path), Dossier.handover_state == "accepted", _in_window(Dossier.decided_at, start, end))
    )
    figures: Figures = defaultdict(Counter)
    for (unit_id,) in rows:
        figures[unit_id]["handed_over"] += 1
    return figures


def case_figures(session: Session, path: str, period: Period) -> Figures:
    """Cases whose date falls in the period, with their fines and values.

    A case's date is its penalty decision's (``decided_on``), else the day it was opened, else the day it
    was entered in hoso (Viet Nam time): fines and confiscations are imposed by the decision.
    """
    first, last = period.first_day, period.last_day
    start, end = period.utc_bounds()
    sums = {
        "fines": Case.fine_amount,
        "confiscated_value": Case.confiscated_value,
        "goods_sold_value": Case.goods_sold_value,
    }
    rows = session.execute(
        select(Case.unit_id, func.count(Case.id), *(func.sum(func.coalesce(column, 0)) for column in sums.values()))
        .join(Case.unit)
        .where(
            subtree_filter(path),
            or_(
                and_(Case.decided_on >= first, Case.decided_on <= last),
                and_(Case.decided_on.is_(None), Case.opened_on >= first, Case.opened_on <= last),
                and_(Case.decided_on.is_(None), Case.opened_on.is_(None), _in_window(Case.created_at, start, end)),
            ),
        )
        .group_by(Case.unit_id)
    )
    figures: Figures = defaultdict(Counter)
    for unit_id, count, *totals in rows:
        figures[unit_id].update(
            {"cases": count, **{key: int(total or 0) for key, total in zip(sums, totals, strict=True)}}
        )
    return figures


def merged(*parts: Figures) -> Figures:
    total: Figures = defaultdict(Counter)
    for part in parts:
        for unit_id, counts in part.items():
            total[unit_id].update(counts)
    return total


def monthly_scans(session: Session, path: str, months: Iterable[Period]) -> dict[Period, Counter[str]]:
    """Dossiers and pages uploaded in each month of ``months`` in the subtree (the trend line), in one pass:
    one conditional sum per month and figure, since grouping by a Viet Nam month is not portable SQL."""
    ordered = sorted(months)
    if not ordered:
        return {}
    columns = []
    for month in ordered:
        inside = _in_window(Dossier.created_at, *month.utc_bounds())
        columns += [
            func.sum(case_when((inside, 1), else_=0)),
            func.sum(case_when((inside, Dossier.page_count), else_=0)),
        ]
    start, end = ordered[0].utc_bounds()[0], ordered[-1].utc_bounds()[1]
    sums = session.execute(
        select(*columns)
        .join(Dossier.case)
        .join(Case.unit)
        .where(subtree_filter(path), _in_window(Dossier.created_at, start, end))
    ).one()
    return {
        month: Counter({"dossiers": int(sums[2 * index] or 0), "pages": int(sums[2 * index + 1] or 0)})
        for index, month in enumerate(ordered)
    }
