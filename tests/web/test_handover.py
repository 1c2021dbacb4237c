"""The handover routes by role and scope: every demo role inside and outside the dossier's unit subtree, through
the API and the CSRF-protected forms; the queue and the batch documents show nothing out of scope."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from archive import handover as workflow
from archive.accounts import add_user
from archive.models import AuditEntry, Dossier
from archive.runtime import Runtime
from tests.archive.handover_helpers import plant, verify_report
from tests.web.helpers import csrf_token, login, pdf_bytes

INSIDE, OUTSIDE = "LCI-D1", "QNI-D1"
# The demo users: (username, status of each step) on a dossier of LCI-D1 and one of QNI-D1.
# The national auditor and admin see both units (no 404) but may take no step (403).
MAY, NOBODY = (200, 404), (403, 404)
MATRIX = [
    ("canbo", {"submit": MAY, "approve": NOBODY, "return": NOBODY, "accept": NOBODY, "reject": NOBODY}),
    ("doitruong", {"submit": MAY, "approve": MAY, "return": MAY, "accept": NOBODY, "reject": NOBODY}),
    ("luutru", {"submit": NOBODY, "approve": NOBODY, "return": NOBODY, "accept": MAY, "reject": MAY}),
    ("kiemsoat", {step: NOBODY for step in ("submit", "approve", "return", "accept", "reject")}),
    ("kiemtoan", {step: (403, 403) for step in ("submit", "approve", "return", "accept", "reject")}),
    ("quantri", {step: (403, 403) for step in ("submit", "approve", "return", "accept", "reject")}),
]
# The state each step starts from, and where it leaves the dossier (an officer's submission waits for the leader).
STARTS = {"submit": "draft", "approve": "proposed", "return": "proposed", "accept": "submitted", "reject": "submitted"}
ENDS = {"approve": "submitted", "return": "draft", "accept": "accepted", "reject": "rejected"}


def _state(runtime: Runtime, dossier_id: str) -> str:
    with runtime.sessions() as session:
        return session.get_one(Dossier, dossier_id).handover_state


@pytest.mark.parametrize(("username", "expected"), MATRIX)
@pytest.mark.parametrize("action", list(STARTS))
def test_api_role_matrix(
    client: FlaskClient, runtime: Runtime, username: str, expected: dict[str, tuple[int, int]], action: str
) -> None:
    state = STARTS[action]
    inside = plant(runtime, INSIDE, "01/LCI", state=state)
    outside = plant(runtime, OUTSIDE, "01/QNI", state=state)
    login(client, username)
    for dossier_id, status in zip((inside, outside), expected[action], strict=True):
        response = client.post(
            f"/api/v1/dossiers/{dossier_id}/handover", json={"action": action, "reason": "Thiếu biên bản kiểm tra"}
        )
        assert response.status_code == status, response.get_json()
        body = response.get_json()
        if status == 200:
            submitted = "proposed" if username == "canbo" else "submitted"
            assert body["handover_state"] == ENDS.get(action, submitted)
        else:
            assert body["error"] == {403: "not_allowed", 404: "not_found"}[status] and body["message_vi"]
            assert _state(runtime, dossier_id) == state
        if status == 404:
            assert "01/QNI" not in response.get_data(as_text=True)


def test_api_refusals_name_the_problem(client: FlaskClient, runtime: Runtime) -> None:
    failed = plant(runtime, INSIDE, "02/LCI", verify_report(passed=False))
    login(client, "doitruong")
    response = client.post(f"/api/v1/dossiers/{failed}/handover", json={"action": "submit"})
    assert response.status_code == 422 and response.get_json()["error"] == "explanation_required"
    assert client.post(f"/api/v1/dossiers/{failed}/handover", json={"action": "fly"}).status_code == 400
    response = client.post(f"/api/v1/dossiers/{failed}/handover", data={"action": "submit", "reason": "Đã giải trình"})
    assert response.status_code == 200 and response.get_json()["handover_reason"] == "Đã giải trình"
    again = client.post(f"/api/v1/dossiers/{failed}/handover", json={"action": "submit", "reason": "Đã giải trình"})
    assert again.status_code == 409 and again.get_json()["error"] == "wrong_state"
    login(client, "luutru")
    no_reason = client.post(f"/api/v1/dossiers/{failed}/handover", json={"action": "reject", "reason": ""})
    assert no_reason.status_code == 422 and no_reason.get_json()["error"] == "reason_required"


def test_queue_shows_only_submitted_dossiers_in_scope(client: FlaskClient, runtime: Runtime) -> None:
    plant(runtime, INSIDE, "03/LCI", state="submitted")
    plant(runtime, "LCI-D2", "04/LCI", state="submitted")
    plant(runtime, INSIDE, "05/LCI", state="draft")
    plant(runtime, OUTSIDE, "06/QNI", state="submitted")
    login(client, "luutru")
    html = client.get("/handover").get_data(as_text=True)
    assert "03/LCI" in html and "04/LCI" in html and "05/LCI" not in html and "06/QNI" not in html
    assert 'name="dossier_id"' in html  # the archivist can tick and accept
    login(client, "canbo")
    html = client.get("/handover").get_data(as_text=True)
    assert "03/LCI" in html and "04/LCI" not in html and 'name="dossier_id"' not in html
    api = client.get("/api/v1/handover/queue").get_json()
    assert [row["case_number"] for row in api["dossiers"]] == ["03/LCI"]


def test_forms_need_csrf_and_run_the_whole_cycle(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant(runtime, INSIDE, "07/LCI")
    login(client, "canbo")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Nộp lưu trữ" in page and "Tiếp nhận vào lưu trữ" not in page
    assert client.post(f"/dossiers/{dossier_id}/handover/submit").status_code == 400  # no CSRF token
    token = csrf_token(client, f"/dossiers/{dossier_id}")
    response = client.post(f"/dossiers/{dossier_id}/handover/submit", data={"csrf_token": token})
    assert response.status_code == 303 and _state(runtime, dossier_id) == "proposed"

    login(client, "doitruong")
    token = csrf_token(client, f"/dossiers/{dossier_id}")
    response = client.post("/handover/approve", data={"csrf_token": token, "dossier_id": dossier_id})
    assert response.status_code == 303 and _state(runtime, dossier_id) == "submitted"

    login(client, "luutru")
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Tiếp nhận vào lưu trữ" in page and "Trả lại hồ sơ" in page and "Nộp lưu trữ" not in page
    token = csrf_token(client, "/handover")
    response = client.post("/handover/accept", data={"csrf_token": token, "dossier_id": dossier_id})
    assert response.status_code == 303 and _state(runtime, dossier_id) == "accepted"
    with runtime.sessions() as session:
        batch_id = session.get_one(Dossier, dossier_id).handover_batch_id
        steps = select(AuditEntry).where(AuditEntry.action.startswith("handover.")).order_by(AuditEntry.id)
        actors = [(e.actor, e.action, e.remote_addr) for e in session.scalars(steps)]
    assert actors == [
        ("canbo", "handover.submit", "127.0.0.1"),
        ("doitruong", "handover.approve", "127.0.0.1"),
        ("luutru", "handover.accept", "127.0.0.1"),
    ]
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Đã tiếp nhận vào lưu trữ" in page and "20 năm" in page
    assert f"/handover/batches/{batch_id}/muc-luc.pdf" in page

    for kind in ("muc-luc", "bien-ban"):
        pdf = client.get(f"/handover/batches/{batch_id}/{kind}.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    login(client, "canbo")  # the team that handed over may print its record too
    assert client.get(f"/handover/batches/{batch_id}/bien-ban.pdf").status_code == 200


def test_the_team_leader_approves_from_the_queue_or_returns_with_a_reason_the_officer_reads(
    client: FlaskClient, runtime: Runtime
) -> None:
    first, second = plant(runtime, INSIDE, "14/LCI"), plant(runtime, INSIDE, "15/LCI")
    other_team = plant(runtime, "LCI-D2", "16/LCI", state="proposed")
    login(client, "canbo")
    for dossier_id in (first, second):
        token = csrf_token(client, f"/dossiers/{dossier_id}")
        client.post(f"/dossiers/{dossier_id}/handover/submit", data={"csrf_token": token})
    page = client.get(f"/dossiers/{first}").get_data(as_text=True)
    assert "Chờ đội trưởng duyệt" in page and "Duyệt, chuyển lưu trữ" not in page
    queue = client.get("/handover").get_data(as_text=True)
    assert "Hồ sơ chờ đội trưởng duyệt" in queue and "14/LCI" in queue and "Duyệt các hồ sơ đã chọn" not in queue

    login(client, "luutru")  # the archivist sees no proposal: it is not the team's word yet
    assert "14/LCI" not in client.get("/handover").get_data(as_text=True)
    assert "Tiếp nhận vào lưu trữ" not in client.get(f"/dossiers/{first}").get_data(as_text=True)

    login(client, "doitruong")
    queue = client.get("/handover").get_data(as_text=True)
    assert "14/LCI" in queue and "15/LCI" in queue and "16/LCI" not in queue, "another team's proposals are not theirs"
    page = client.get(f"/dossiers/{second}").get_data(as_text=True)
    assert "Duyệt, chuyển lưu trữ" in page and "Trả lại cho cán bộ" in page
    token = csrf_token(client, "/handover")
    short = client.post(f"/dossiers/{second}/handover/return", data={"csrf_token": token, "reason": "x"})
    assert short.status_code == 422 and _state(runtime, second) == "proposed"
    reason = "Thiếu quyết định xử phạt, bổ sung rồi nộp lại"
    response = client.post(f"/dossiers/{second}/handover/return", data={"csrf_token": token, "reason": reason})
    assert response.status_code == 303 and _state(runtime, second) == "draft"
    response = client.post("/handover/approve", data={"csrf_token": token, "dossier_id": [first]})
    assert response.status_code == 303 and _state(runtime, first) == "submitted"
    hidden = client.post("/handover/approve", data={"csrf_token": token, "dossier_id": [other_team]})
    assert hidden.status_code == 404 and _state(runtime, other_team) == "proposed"
    assert client.post("/handover/approve", data={"csrf_token": token}).status_code == 409

    login(client, "canbo")
    page = client.get(f"/dossiers/{second}").get_data(as_text=True)
    assert "Lý do đội trưởng trả lại" in page and reason in page and "Nộp lưu trữ" in page
    with runtime.sessions() as session:
        leader = AuditEntry.actor == "doitruong"
        entries = session.scalars(
            select(AuditEntry).where(leader, AuditEntry.action.startswith("handover.")).order_by(AuditEntry.id)
        )
        assert [(e.action, e.target_id, e.detail.get("reason")) for e in entries] == [
            ("handover.return", second, reason),
            ("handover.approve", first, None),
        ]


def test_batch_documents_and_state_are_hidden_outside_scope(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant(runtime, OUTSIDE, "08/QNI", state="submitted")
    login(client, "quantri")
    assert client.get(f"/api/v1/dossiers/{dossier_id}/handover").get_json()["handover_state"] == "submitted"
    # No QNI archivist among the demo users: one is added and accepts the dossier into a QNI batch.
    with runtime.sessions() as session:
        archivist = add_user(session, "luutru_qni", "hoso-demo", "archivist", "QNI")
        session.commit()
        batch = workflow.accept(session, workflow.Actor(archivist), [dossier_id])
    login(client, "luutru")
    assert client.get(f"/handover/batches/{batch.id}/muc-luc.pdf").status_code == 404
    assert client.get(f"/api/v1/dossiers/{dossier_id}/handover").status_code == 404
    assert client.get(f"/handover/batches/{batch.id}/other.pdf").status_code == 404
    html = client.get("/handover").get_data(as_text=True)
    assert "08/QNI" not in html


def test_a_rejected_dossier_gets_a_new_version_through_the_upload(client: FlaskClient, runtime: Runtime) -> None:
    old = plant(runtime, INSIDE, "09/LCI", state="rejected")
    login(client, "luutru")
    token = csrf_token(client, "/handover")
    upload = {"csrf_token": token, "file": (io.BytesIO(pdf_bytes(2, "v2")), "v2.pdf")}
    refused = client.post(f"/dossiers/{old}/handover/new-version", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 403

    login(client, "canbo")
    page = client.get(f"/dossiers/{old}").get_data(as_text=True)
    assert "Tải lên bản mới" in page
    token = csrf_token(client, f"/dossiers/{old}")
    upload = {"csrf_token": token, "file": (io.BytesIO(pdf_bytes(2, "v2")), "v2.pdf")}
    response = client.post(f"/dossiers/{old}/handover/new-version", data=upload, content_type="multipart/form-data")
    assert response.status_code == 303
    with runtime.sessions() as session:
        new = session.scalar(select(Dossier).where(Dossier.supersedes_id == old))
        assert new is not None and new.version == 2 and new.case.case_number == "09/LCI"
        assert session.get_one(Dossier, old).handover_state == "superseded"
    assert response.headers["Location"].endswith(f"/dossiers/{new.id}")
    page = client.get(f"/dossiers/{new.id}").get_data(as_text=True)
    assert "Bản 1" in page and "Bản 2" in page

    token = csrf_token(client, f"/dossiers/{old}")
    again = {"csrf_token": token, "file": (io.BytesIO(pdf_bytes(2, "v3")), "v3.pdf")}
    response = client.post(f"/dossiers/{old}/handover/new-version", data=again, content_type="multipart/form-data")
    assert response.status_code == 409, "a superseded dossier is replaced once"


def test_api_accepts_a_batch_of_one_teams_dossiers(client: FlaskClient, runtime: Runtime) -> None:
    first = plant(runtime, INSIDE, "10/LCI", state="submitted")
    second = plant(runtime, INSIDE, "11/LCI", state="submitted")
    other_team = plant(runtime, "LCI-D2", "12/LCI", state="submitted")
    login(client, "luutru")
    mixed = client.post("/api/v1/handover/batches", json={"dossier_ids": [first, other_team]})
    assert mixed.status_code == 422 and mixed.get_json()["error"] == "mixed_teams"
    assert client.post("/api/v1/handover/batches", json={"dossier_ids": first}).status_code == 400
    response = client.post("/api/v1/handover/batches", data={"dossier_ids": [first, second]})
    assert response.status_code == 201
    body = response.get_json()
    assert {row["dossier_id"] for row in body["dossiers"]} == {first, second}
    assert {row["handover_batch_id"] for row in body["dossiers"]} == {body["batch_id"]}
    assert client.get(body["documents"]["bien-ban"]).mimetype == "application/pdf"
    assert _state(runtime, other_team) == "submitted"


@pytest.mark.parametrize(
    ("username", "status"),
    [("canbo", 403), ("doitruong", 403), ("luutru", 403), ("kiemsoat", 403), ("kiemtoan", 200), ("quantri", 200)],
)
def test_audit_log_is_for_auditors_and_admins(
    client: FlaskClient, runtime: Runtime, username: str, status: int
) -> None:
    login(client, username)
    assert client.get("/audit").status_code == status
    assert client.get("/api/v1/audit").status_code == status


def test_auditor_sees_entries_in_scope_and_a_broken_chain(client: FlaskClient, runtime: Runtime) -> None:
    inside = plant(runtime, INSIDE, "13/LCI")
    outside = plant(runtime, OUTSIDE, "13/QNI")
    with runtime.sessions() as session:
        add_user(session, "kiemtoan_lci", "hoso-demo", "auditor", "LCI")
        session.commit()
    for dossier_id in (inside, outside):
        with runtime.sessions() as session:
            team = session.get_one(Dossier, dossier_id).case.unit.code
            officer = add_user(session, f"canbo_{team}", "hoso-demo", "officer", team)
            session.commit()
            workflow.submit(session, workflow.Actor(officer, "198.51.100.4"), dossier_id)
    login(client, "kiemtoan_lci")
    body = client.get("/api/v1/audit?verify=1").get_json()
    # two submits and the auditor's own sign-in (filed under LCI, so in scope)
    assert body["chain"]["intact"] and body["chain"]["entries"] == 3 and body["head"] == body["chain"]["head"]
    assert [entry["target_id"] for entry in body["entries"] if entry["target_type"] == "dossier"] == [inside]
    html = client.get("/audit").get_data(as_text=True)
    assert inside in html and outside not in html and "198.51.100.4" in html and body["head"] in html
    assert "toàn vẹn" in client.get("/audit?verify=1").get_data(as_text=True)

    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'ai_do' WHERE target_id = :id"), {"id": inside})
    html = client.get("/audit?verify=1").get_data(as_text=True)
    assert "Chuỗi nhật ký bị phá vỡ" in html and "edited" in html
    assert client.get("/api/v1/audit?verify=1").get_json()["chain"]["problem"]["kind"] == "edited"
