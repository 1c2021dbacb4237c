"""Records for the report tests, written straight into the database: cases and dossiers with a stored
verification report of a chosen outcome, at a chosen upload time (no OCR)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Case, Dossier, Unit

FINDINGS = {
    "passed": [{"code": "rotated", "severity": "info"}],
    "with_findings": [{"code": "low_confidence", "severity": "warning"}],
    "failed": [{"code": "gap", "severity": "error"}],
}


def unit(session: Session, code: str) -> Unit:
    found = session.scalar(select(Unit).where(Unit.code == code))
    assert found is not None, code
    return found


def add_case(
    session: Session,
    unit_code: str,
    case_number: str | None = None,
    *,
    decided_on: date | None = None,
    opened_on: date | None = None,
    closed_on: date | None = None,
    fine: int | None = None,
    confiscated: int | None = None,
    sold: int | None = None,
) -> Case:
    case = Case(
        unit=unit(session, unit_code),
        case_number=case_number or uuid.uuid4().hex[:10],
        decided_on=decided_on,
        opened_on=opened_on,
        closed_on=closed_on,
        fine_amount=fine,
        confiscated_value=confiscated,
        goods_sold_value=sold,
    )
    session.add(case)
    session.flush()
    return case


def verify_report(outcome: str | None, late: bool = False, cover: dict[str, Any] | None = None) -> dict | None:
    if outcome is None:
        return None
    findings = [dict(finding) for finding in FINDINGS[outcome]]
    if late:
        findings.append({"code": "late_digitization", "severity": "warning"})
    return {
        "passed": outcome != "failed",
        "findings": findings,
        "cover": {"present": True, "fields": cover or {}},
    }


def add_dossier(
    session: Session,
    case: Case,
    uploaded_at: datetime,
    *,
    pages: int = 3,
    outcome: str | None = "passed",
    late: bool = False,
    state: str = "draft",
    decided_at: datetime | None = None,
    retention: str | None = None,
    cover: dict[str, Any] | None = None,
) -> Dossier:
    dossier = Dossier(
        case=case,
        original_sha256=uuid.uuid4().hex * 2,
        original_filename="scan.pdf",
        size_bytes=1000,
        status="processed" if outcome else "processing",
        page_count=pages,
        created_at=uploaded_at,
        handover_state=state,
        decided_at=decided_at,
        retention=retention,
    )
    report = verify_report(outcome, late, cover)
    if report is not None:
        dossier.verify_report = report
    session.add(dossier)
    session.flush()
    return dossier
