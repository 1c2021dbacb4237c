"""Two uploads at the same moment: the one whose commit loses the race finds what the other committed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import Case, Dossier, Unit
from archive.runtime import Runtime
from archive.storage import file_sha256
from ingest import pipeline
from ingest.queue import JobQueue
from ingest.submit import submit


def _one_page_pdf(path: Path, marker: int) -> Path:
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595 + marker, 842))
        pdf.save(path)
    return path


def _winner_commits_first(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, commit: Callable[[Session], None]):
    """After the first attempt has looked for the original and the case, and before it commits, another upload
    commits ``commit``'s rows."""
    real_case_for = pipeline._case_for
    calls = []

    def case_for(session: Session, unit: Unit, case_number: str) -> Case:
        calls.append(case_number)
        case = real_case_for(session, unit, case_number)
        if len(calls) == 1:
            with runtime.sessions() as other:
                commit(other)
                other.commit()
        return case

    monkeypatch.setattr(pipeline, "_case_for", case_for)
    return calls


def test_the_same_file_uploaded_twice_at_once_is_one_dossier(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pdf = _one_page_pdf(tmp_path / "scan.pdf", 0)
    queue = JobQueue(runtime.settings)
    with runtime.sessions() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "QNI-D1"))
    winner_id = []

    def other_upload(session: Session) -> None:
        case = Case(unit_id=unit_id, case_number="7/QĐ-KT")
        dossier = Dossier(
            case=case,
            original_sha256=file_sha256(pdf),
            original_filename="scan.pdf",
            size_bytes=1,
            page_count=1,
            status="processing",
        )
        session.add(dossier)
        session.flush()
        winner_id.append(dossier.id)

    calls = _winner_commits_first(monkeypatch, runtime, other_upload)
    with pdf.open("rb") as stream:
        dossier, created = submit(runtime, queue, stream, "scan.pdf", "7/QĐ-KT", "QNI-D1")
    assert (dossier.id, created, len(calls)) == (winner_id[0], False, 1)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) == 1


def test_two_files_of_one_new_case_at_once_are_two_dossiers_of_one_case(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with runtime.sessions() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "QNI-D1"))
    calls = _winner_commits_first(
        monkeypatch, runtime, lambda session: session.add(Case(unit_id=unit_id, case_number="8/QĐ-KT"))
    )
    with _one_page_pdf(tmp_path / "b.pdf", 1).open("rb") as stream:
        dossier, created = submit(runtime, JobQueue(runtime.settings), stream, "b.pdf", "8/QĐ-KT", "QNI-D1")
    assert created and len(calls) == 2  # the first commit lost to the other case, the second found it
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.case_number == "8/QĐ-KT")) == 1
        assert session.get(Dossier, dossier.id).case.case_number == "8/QĐ-KT"
