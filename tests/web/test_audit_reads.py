"""Every read or download of a dossier leaves an audit entry (who, when, what, from where; the same read repeated
within a few minutes once), and auditors browse and export the log of their own units only."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import add_user
from archive.models import AuditEntry, Dossier
from archive.runtime import Runtime
from archive.web.audit_log import REPEAT_WINDOW_SECONDS
from ingest.archive_pdf import archive_pdf_key
from tests.web.helpers import login, pdf_bytes, plant_dossier


def _entries(runtime: Runtime) -> list[AuditEntry]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action.like("dossier.%")).order_by(AuditEntry.id))
        )


def test_views_and_downloads_of_a_dossier_are_audited(client: FlaskClient, runtime: Runtime, tmp_path: Path) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "DOC-1", ["Bìa hồ sơ", "Biên bản"])
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        dossier.archive_pdf_sha256 = dossier.original_sha256
        (tmp_path / "copy.pdf").write_bytes(pdf_bytes())
        runtime.store.put_file(archive_pdf_key(dossier.original_sha256), tmp_path / "copy.pdf")
        session.commit()
    login(client, "kiemsoat")
    paths = [
        f"/dossiers/{dossier_id}",
        f"/api/v1/dossiers/{dossier_id}",
        f"/api/v1/dossiers/{dossier_id}/verify",
        f"/dossiers/{dossier_id}/archive.pdf",
    ]
    for path in paths:
        assert client.get(path).status_code == 200, path
    entries = _entries(runtime)
    assert [(e.action, e.actor, e.target_id, (e.detail or {}).get("path")) for e in entries] == [
        ("dossier.view", "kiemsoat", dossier_id, paths[0]),
        ("dossier.view", "kiemsoat", dossier_id, paths[1]),
        ("dossier.view", "kiemsoat", dossier_id, paths[2]),
        ("dossier.download", "kiemsoat", dossier_id, paths[3]),
    ]
    assert {(e.unit_path, e.remote_addr) for e in entries} == {("VN/LCI/LCI-D1", "127.0.0.1")}


def test_refused_reads_leave_no_read_entry(client: FlaskClient, runtime: Runtime) -> None:
    outside = plant_dossier(runtime, "QNI-D1", "DOC-2", ["Bìa hồ sơ"])
    login(client, "kiemsoat")
    assert client.get(f"/dossiers/{outside}").status_code == 404
    assert client.get("/dossiers/khong-co").status_code == 404
    assert _entries(runtime) == []


def test_auditors_export_the_log_of_their_units_only(client: FlaskClient, runtime: Runtime) -> None:
    inside = plant_dossier(runtime, "LCI-D1", "DOC-3", ["Bìa hồ sơ"])
    outside = plant_dossier(runtime, "QNI-D1", "DOC-4", ["Bìa hồ sơ"])
    with runtime.sessions() as session:
        add_user(session, "kiemtoan_lci", "hoso-demo", "auditor", "LCI")
        session.commit()
    login(client, "kiemtoan")  # national: reads both, and each read is itself audited
    client.get(f"/dossiers/{inside}")
    client.get(f"/dossiers/{outside}")
    national = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv").get_data(as_text=True))))
    assert {row["target_id"] for row in national} >= {inside, outside}
    login(client, "kiemtoan_lci")
    response = client.get("/audit/export.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="hoso-audit.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert inside in {row["target_id"] for row in rows}
    assert all(row["unit_path"] == "VN/LCI" or row["unit_path"].startswith("VN/LCI/") for row in rows)
    assert all(len(row["entry_hash"]) == 64 for row in rows)
    body = client.get("/audit/export.json").get_json()
    assert [entry["id"] for entry in body["entries"]] == [int(row["id"]) for row in rows]
    assert outside not in client.get("/audit").get_data(as_text=True)


def test_people_without_the_audit_role_cannot_export(client: FlaskClient) -> None:
    login(client, "luutru")
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get("/audit/export.json").status_code == 403


def test_repeated_reads_within_the_window_are_recorded_once(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "DOC-5", ["Bìa hồ sơ"], status="processing")
    login(client, "canbo")
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now)
    for _ in range(3):  # the progress poll of a dossier still processing
        assert client.get(f"/api/v1/dossiers/{dossier_id}").status_code == 200
    assert len(_entries(runtime)) == 1
    client.get(f"/dossiers/{dossier_id}")  # another route: another read
    assert len(_entries(runtime)) == 2
    monkeypatch.setattr(time, "monotonic", lambda: now + REPEAT_WINDOW_SECONDS + 1)
    client.get(f"/api/v1/dossiers/{dossier_id}")
    assert [(e.detail or {}).get("endpoint") for e in _entries(runtime)] == [
        "api.dossier_status",
        "pages.dossier",
        "api.dossier_status",
    ]
