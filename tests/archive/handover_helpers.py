"""Fixtures and helpers for the handover and audit tests: a fresh hoso per test on a copy of one migrated demo
database (Argon2 hashing of the demo passwords runs once per session), and dossiers planted with a chosen
verification report, so the workflow is tested without OCR.

A test module imports ``handover_database_fixture`` and ``runtime_fixture``; pytest knows them by their
fixture names, ``handover_database`` and ``runtime`` (which replaces the suite-wide one there)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import archive.runtime
from archive.accounts import add_user
from archive.config import SETTINGS, Settings
from archive.models import Case, Dossier, Unit
from archive.runtime import Runtime
from tests.databases import Template

# Users beside the demo ones, so every role has someone inside and outside each team's subtree.
EXTRA_USERS = (
    ("canbo_qni", "officer", "QNI-D1"),
    ("luutru_qni", "archivist", "QNI"),
    ("luutru_doi", "archivist", "LCI-D1"),
    ("doitruong_d2", "team_leader", "LCI-D2"),  # the leader of another team of the same province
    ("doitruong_lci", "team_leader", "LCI"),  # a leader placed above the teams
    ("doitruong_qni", "team_leader", "QNI-D1"),
)


@pytest.fixture(scope="session", name="handover_database")
def handover_database_fixture(tmp_path_factory: pytest.TempPathFactory, demo_database: Template) -> Iterator[Template]:
    """The suite's demo database with the extra users added."""

    def add_extra_users(session: Session) -> None:
        for username, role, unit_code in EXTRA_USERS:
            add_user(session, username, "hoso-demo", role, unit_code, username)

    template = demo_database.derive(tmp_path_factory.mktemp("handover-template"))
    template.fill(add_extra_users)
    yield template
    template.drop()


@pytest.fixture(name="runtime")
def runtime_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handover_database: Template) -> Iterator[Runtime]:
    """This process's runtime (what the CLI uses too) on a private copy of the template database."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOSO_HOME", str(tmp_path / "home"))
    with handover_database.copy(tmp_path / "home", monkeypatch):
        settings = Settings.from_env()
        settings.ensure_dirs()
        instance = Runtime(settings)
        monkeypatch.setattr(archive.runtime, "_current", instance)
        yield instance
        instance.engine.dispose()


COVER_FIELDS = {
    "dossier_code": "LCA.QLTT.2024.XLVP.101",
    "title": "Hồ sơ xử lý vi phạm hành chính đối với Hộ kinh doanh Nguyễn Thị Hường",
    "start_date": "2024-03-02",
    "end_date": "2024-04-15",
    "sheet_count_declared": 12,
    "retention": "20 năm",
}


def verify_report(passed: bool = True, **cover: Any) -> dict[str, Any]:
    """A report in the verify contract's shape with the fields the workflow reads."""
    findings = [] if passed else [{"code": "gap", "severity": "error", "pages": [5], "message_vi": "Thiếu bút lục"}]
    return {
        "status": "processed",
        "passed": passed,
        "findings": findings,
        "cover": {"present": True, "page": 1, "fields": COVER_FIELDS | cover},
        "pages": [],
    }


def plant(
    runtime: Runtime,
    unit_code: str,
    case_number: str,
    report: dict[str, Any] | None = None,
    status: str = "processed",
    state: str = "draft",
) -> str:
    """A dossier row as the pipeline leaves it, with ``report`` as its stored verification report."""
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        assert unit is not None
        case = session.scalar(select(Case).where(Case.unit_id == unit.id, Case.case_number == case_number))
        dossier = Dossier(
            case=case or Case(unit=unit, case_number=case_number),
            original_sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
            original_filename=f"{case_number}.pdf",
            size_bytes=1000,
            page_count=3,
            status=status,
            verify_report=report if report is not None else verify_report(),
            handover_state=state,
        )
        session.add(dossier)
        session.commit()
        return dossier.id
