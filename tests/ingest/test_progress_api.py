"""Progress and the archive copy over HTTP: pages done of total (failed ones counted and named), and the PDF/A
download, both answered only within the caller's units."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.models import Dossier, Unit, User
from archive.runtime import Runtime
from archive.web import create_app
from ingest import pipeline
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import corpus_file, ground_truth, pdf_excerpt, replayed_facts
from tests.ingest.truth_words import facts_words
from tests.web.helpers import login


@pytest.fixture
def replay_with_page_3_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    truth = ground_truth("dev-003")

    def read_page(pdf_path: Path, page: int, dpi: int = 300):
        if page == 3:
            raise ValueError("unreadable scan")
        return dataclasses.replace(replayed_facts(truth, page), words=facts_words(truth["pages"][page - 1]))

    monkeypatch.setattr(pipeline, "read_page", read_page)


def client_for(runtime: Runtime, username: str) -> FlaskClient:
    app = create_app(runtime, JobQueue(runtime.settings))
    app.config["TESTING"] = True
    client = app.test_client()
    login(client, username)
    return client


def ingest_four_pages(runtime: Runtime, tmp_path: Path, immediate: bool) -> str:
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = immediate
    pdf = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 2, 3, 4], tmp_path / "four.pdf")
    with pdf.open("rb") as stream:
        dossier, _created = submit(runtime, queue, stream, pdf.name, "148/QĐ-XPHC", "LCI-D1")
    return dossier.id


def test_progress_counts_done_and_failed_pages_and_links_the_archive_copy(
    runtime: Runtime, tmp_path: Path, replay_with_page_3_unreadable: None
) -> None:
    dossier_id = ingest_four_pages(runtime, tmp_path, immediate=True)
    client = client_for(runtime, "canbo")

    status = client.get(f"/api/v1/dossiers/{dossier_id}").get_json()
    assert status["status"] == "processed"
    assert (status["page_count"], status["pages_done"], status["pages_failed"]) == (4, 4, 1)
    assert status["archive_pdf"] == f"/api/v1/dossiers/{dossier_id}/archive.pdf"
    report = client.get(f"/api/v1/dossiers/{dossier_id}/verify").get_json()
    assert [finding["pages"] for finding in report["findings"] if finding["code"] == "page_unreadable"] == [[3]]

    for url in (status["archive_pdf"], f"/dossiers/{dossier_id}/archive.pdf"):
        download = client.get(url)
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        # Inline, so a search hit's #page=N link opens at its page; named for saving.
        assert download.headers["Content-Disposition"] == f"inline; filename=hoso-{dossier_id}-pdfa.pdf"
        with runtime.sessions() as session:
            archive_sha256 = session.get(Dossier, dossier_id).archive_pdf_sha256
        assert hashlib.sha256(download.data).hexdigest() == archive_sha256
        download.close()


def test_progress_before_processing_and_no_copy_yet(runtime: Runtime, tmp_path: Path) -> None:
    dossier_id = ingest_four_pages(runtime, tmp_path, immediate=False)  # queued, no worker
    client = client_for(runtime, "canbo")
    status = client.get(f"/api/v1/dossiers/{dossier_id}").get_json()
    assert status["status"] == "processing"
    assert (status["page_count"], status["pages_done"], status["pages_failed"], status["archive_pdf"]) == (
        4,
        0,
        0,
        None,
    )
    missing = client.get(f"/api/v1/dossiers/{dossier_id}/archive.pdf")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_the_copy_is_served_within_the_units_scope_only(
    runtime: Runtime, tmp_path: Path, replay_with_page_3_unreadable: None
) -> None:
    dossier_id = ingest_four_pages(runtime, tmp_path, immediate=True)
    province = client_for(runtime, "kiemsoat")  # Lào Cai province: its teams' dossiers are in scope
    assert province.get(f"/api/v1/dossiers/{dossier_id}/archive.pdf").status_code == 200
    with runtime.sessions() as session:
        canbo = session.scalar(select(User).where(User.username == "canbo"))
        canbo.unit = session.scalar(select(Unit).where(Unit.code == "QNI-D1"))  # moved to another province
        session.commit()
    moved = client_for(runtime, "canbo")
    assert moved.get(f"/api/v1/dossiers/{dossier_id}").status_code == 404
    assert moved.get(f"/api/v1/dossiers/{dossier_id}/archive.pdf").status_code == 404
    assert moved.get(f"/dossiers/{dossier_id}/archive.pdf").status_code == 404
