"""Fixity: every original and derived object the records name is read back, and what is missing or altered is
reported with its key and dossier, stored, audited, shown to admins, and turns `hoso fixity`'s exit code to 1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import fixity
from archive.accounts import add_user
from archive.cli import main
from archive.models import AuditEntry, Dossier, FixityRun
from archive.runtime import Runtime
from archive.web import create_app
from ingest.queue import JobQueue
from tests.archive.stored_dossiers import StoredDossier, ingest_samples, object_path
from tests.web.helpers import login


@pytest.fixture
def stored(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, StoredDossier]:
    return ingest_samples(runtime, monkeypatch, tmp_path)


def _cli_fixity() -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["fixity", "--json"])
    return result.exit_code, json.loads(result.stdout)


def _only_problem(result: fixity.FixityResult) -> fixity.Problem:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_a_clean_store_reports_nothing_and_the_run_is_stored_and_audited(
    runtime: Runtime, stored: dict[str, StoredDossier]
) -> None:
    code, data = _cli_fixity()
    assert code == 0, data
    # Two originals, two archive copies, one pages PDF (the TIFF's; the PDF is its own pages source).
    assert (data["dossiers"], data["objects_checked"], data["missing"], data["altered"]) == (2, 5, 0, 0)
    assert data["problems"] == [] and data["intact"] is True
    assert data["recorded"] == 1, "the pages PDF's checksum is recorded by the first check that sees it"
    with runtime.sessions() as session:
        tiff = session.get(Dossier, stored["tiff"].dossier_id)
        assert tiff is not None and tiff.pages_pdf_sha256 == runtime.store.sha256(stored["tiff"].pages_pdf_key or "")
        run = session.get(FixityRun, data["run_id"])
        assert run is not None and (run.objects_checked, run.missing, run.altered, run.problems) == (5, 0, 0, [])
        assert run.bytes_checked > 0 and run.finished_at is not None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "fixity.run")).one()
        assert entry.target_id == str(run.id) and entry.unit_path == "VN" and entry.detail["missing"] == 0

    again = fixity.check_objects(runtime)
    assert again.intact and again.recorded == 0 and again.objects_checked == 5


def test_an_original_with_one_byte_changed_is_reported_altered_with_its_key_and_dossier(
    runtime: Runtime, stored: dict[str, StoredDossier]
) -> None:
    path = object_path(runtime, stored["pdf"].original_key)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))

    code, data = _cli_fixity()
    assert code == 1
    (problem,) = data["problems"]
    expected_sha256 = stored["pdf"].original_key.rsplit("/", 1)[1]
    assert problem | {"found_sha256": None} == {
        "key": stored["pdf"].original_key,
        "kind": "original",
        "status": "altered",
        "dossier_id": stored["pdf"].dossier_id,
        "case_number": "148/QĐ-XPHC",
        "unit_path": "VN/QNI/QNI-D1",
        "expected_sha256": expected_sha256,
        "found_sha256": None,
    }
    assert problem["found_sha256"] not in (None, expected_sha256)
    assert (data["missing"], data["altered"]) == (0, 1)


def test_a_deleted_derived_object_is_reported_missing(runtime: Runtime, stored: dict[str, StoredDossier]) -> None:
    object_path(runtime, stored["tiff"].archive_pdf_key).unlink()
    problem = _only_problem(fixity.check_objects(runtime))
    assert (problem.key, problem.kind, problem.status, problem.dossier_id, problem.found_sha256) == (
        stored["tiff"].archive_pdf_key,
        "archive_pdf",
        "missing",
        stored["tiff"].dossier_id,
        None,
    )
    assert CliRunner().invoke(main, ["fixity"]).exit_code == 1


def test_a_deleted_original_is_reported_missing_and_the_text_output_names_it(
    runtime: Runtime, stored: dict[str, StoredDossier]
) -> None:
    object_path(runtime, stored["tiff"].original_key).unlink()
    result = CliRunner().invoke(main, ["fixity"])
    assert result.exit_code == 1
    assert f"MISSING original {stored['tiff'].original_key} (dossier {stored['tiff'].dossier_id}" in result.stdout
    with runtime.sessions() as session:
        run = fixity.last_run(session)
        assert run is not None and run.missing == 1 and run.problems[0]["key"] == stored["tiff"].original_key


def test_a_pages_pdf_removed_after_its_checksum_was_recorded_is_reported(
    runtime: Runtime, stored: dict[str, StoredDossier]
) -> None:
    assert fixity.check_objects(runtime).recorded == 1
    pages_key = stored["tiff"].pages_pdf_key
    assert pages_key is not None
    object_path(runtime, pages_key).unlink()
    problem = _only_problem(fixity.check_objects(runtime))
    assert (problem.key, problem.kind, problem.status, problem.dossier_id) == (
        pages_key,
        "pages_pdf",
        "missing",
        stored["tiff"].dossier_id,
    )


def test_an_empty_archive_is_intact(runtime: Runtime) -> None:
    code, data = _cli_fixity()
    assert code == 0 and (data["dossiers"], data["objects_checked"]) == (0, 0)


@pytest.fixture
def web(runtime: Runtime) -> Iterator:
    runtime.settings.mark_demo()  # the demo accounts: the app starts without HOSO_SECRET_KEY
    app = create_app(runtime, JobQueue(runtime.settings))
    app.config["TESTING"] = True
    yield app


def test_admins_see_the_last_run_and_others_are_refused(
    runtime: Runtime, stored: dict[str, StoredDossier], web
) -> None:  # type: ignore[no-untyped-def]
    object_path(runtime, stored["pdf"].archive_pdf_key).unlink()
    fixity.check_objects(runtime)

    national = web.test_client()
    login(national, "quantri")  # the admin of VN sees the problem in QNI-D1
    page = national.get("/admin/fixity")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert stored["pdf"].archive_pdf_key in body and stored["pdf"].dossier_id in body
    assert "phát hiện 1 tệp bị mất và 0 tệp bị thay đổi" in body

    with runtime.sessions() as session:
        add_user(session, "quantri_lci", "hoso-demo", "admin", "LCI")
        session.commit()
    province = web.test_client()
    login(province, "quantri_lci")  # an admin of another province: the counts, not the other unit's files
    body = province.get("/admin/fixity").get_data(as_text=True)
    assert "1 tệp bị mất" in body and "Còn 1 tệp có vấn đề thuộc đơn vị ngoài phạm vi của bạn." in body
    assert stored["pdf"].archive_pdf_key not in body and stored["pdf"].dossier_id not in body

    for username in ("canbo", "kiemtoan", "luutru"):
        client = web.test_client()
        login(client, username)
        assert client.get("/admin/fixity").status_code == 403, username
    assert web.test_client().get("/admin/fixity").status_code in (302, 303, 401)


def test_the_schedule_runs_a_check_when_none_was_run_and_then_waits_the_interval(runtime: Runtime) -> None:
    schedule = fixity.FixitySchedule(runtime, hours=24)
    assert schedule.seconds_until_due() == 0
    schedule.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with runtime.sessions() as session:
                if fixity.last_run(session) is not None:
                    break
            time.sleep(0.1)
    finally:
        schedule.stop()
        schedule.join(timeout=30)
    with runtime.sessions() as session:
        run = fixity.last_run(session)
        assert run is not None and run.trigger == "schedule"
    assert 23.9 * 3600 < schedule.seconds_until_due() <= 24 * 3600
