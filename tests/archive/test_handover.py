"""The handover workflow without the web: who may take which step (the officer proposes, the team leader
approves or returns, the archivist accepts or rejects), the states, versions, the audit trail, and the
annex V documents of a batch read back with pdftotext."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive import audit
from archive import handover as workflow
from archive.cli import main
from archive.handover_documents import handover_record_pdf, summarise_batch, table_of_contents_pdf
from archive.models import AuditEntry, Dossier, HandoverBatch, Unit, User
from archive.report_periods import parse_period
from archive.report_queries import scan_figures
from archive.runtime import Runtime
from archive.storage import file_sha256
from ingest import pipeline
from ingest.queue import JobQueue
from ingest.submit import submit as ingest_submit
from tests.archive.handover_helpers import (  # noqa: F401 - fixtures
    handover_database_fixture,
    plant,
    runtime_fixture,
    verify_report,
)
from tests.conftest import corpus_file, ground_truth, replayed_facts


def act(runtime: Runtime, username: str, step: str, *args: object, **kwargs: object) -> object:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return getattr(workflow, step)(session, workflow.Actor(user, "192.0.2.7"), *args, **kwargs)


def state_of(runtime: Runtime, dossier_id: str) -> Dossier:
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        return dossier


def trail(runtime: Runtime) -> list[tuple[str, str, str]]:
    with runtime.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(entry.actor, entry.action, entry.target_id) for entry in entries]


def test_submit_approve_accept_archives_the_dossier_with_the_cover_retention_and_an_audit_trail(
    runtime: Runtime,
) -> None:
    dossier_id = plant(runtime, "LCI-D1", "12/QĐ-XPHC")
    act(runtime, "canbo", "submit", dossier_id)
    assert state_of(runtime, dossier_id).handover_state == "proposed"
    act(runtime, "doitruong", "approve", [dossier_id])
    assert state_of(runtime, dossier_id).handover_state == "submitted"
    batch = act(runtime, "luutru", "accept", [dossier_id])
    assert isinstance(batch, HandoverBatch)
    accepted = state_of(runtime, dossier_id)
    assert (accepted.handover_state, accepted.retention, accepted.handover_batch_id) == ("accepted", "20 năm", batch.id)
    assert accepted.submitted_at is not None and accepted.decided_at is not None
    assert workflow.is_archived(accepted)
    assert trail(runtime) == [
        ("canbo", "handover.submit", dossier_id),
        ("doitruong", "handover.approve", dossier_id),
        ("luutru", "handover.accept", dossier_id),
    ]
    with runtime.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[-1]
        assert entry.remote_addr == "192.0.2.7" and entry.unit_path == "VN/LCI/LCI-D1"
        assert entry.detail == {"state": "accepted", "version": 1, "batch_id": batch.id, "retention": "20 năm"}
        assert audit.verify_chain(session).intact


def test_an_accepted_dossier_admits_no_further_step(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "13/QĐ-XPHC", state="accepted")
    with pytest.raises(workflow.WrongState):
        act(runtime, "luutru", "reject", dossier_id, "Thiếu biên bản")
    with pytest.raises(workflow.WrongState):
        act(runtime, "canbo", "submit", dossier_id)
    with pytest.raises(workflow.WrongState):
        act(runtime, "canbo", "record_new_version", dossier_id, plant(runtime, "LCI-D1", "13/QĐ-XPHC"))
    assert state_of(runtime, dossier_id).handover_state == "accepted"
    assert trail(runtime) == [], "refused steps leave no audit entry"


def test_a_dossier_that_failed_verification_needs_an_explanation(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "14/QĐ-XPHC", verify_report(passed=False))
    with pytest.raises(workflow.ExplanationRequired):
        act(runtime, "doitruong", "submit", dossier_id)
    with pytest.raises(workflow.ExplanationRequired):
        act(runtime, "doitruong", "submit", dossier_id, "   ngắn   ")
    explanation = "Bút lục 5 bỏ trống đã ghi tại chứng từ kết thúc"
    act(runtime, "doitruong", "submit", dossier_id, explanation)
    assert state_of(runtime, dossier_id).handover_reason == explanation
    with runtime.sessions() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.detail["passed"] is False and entry.detail["errors"] == ["gap"]
        assert entry.detail["explanation"] == explanation


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("luutru", workflow.NotAllowed),  # an archivist does not submit
        ("kiemsoat", workflow.NotAllowed),
        ("kiemtoan", workflow.NotAllowed),
        ("quantri", workflow.NotAllowed),
        ("canbo_qni", workflow.DossierNotFound),  # another province's team: the dossier does not exist for them
    ],
)
def test_only_the_team_submits(runtime: Runtime, username: str, refusal: type[Exception]) -> None:
    dossier_id = plant(runtime, "LCI-D1", "15/QĐ-XPHC")
    with pytest.raises(refusal):
        act(runtime, username, "submit", dossier_id)
    assert state_of(runtime, dossier_id).handover_state == "draft"


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("canbo", workflow.NotAllowed),
        ("doitruong", workflow.NotAllowed),
        ("kiemsoat", workflow.NotAllowed),
        ("quantri", workflow.NotAllowed),
        ("luutru_doi", workflow.NotAllowed),  # an archivist inside the team itself: the unit above decides
        ("luutru_qni", workflow.DossierNotFound),
    ],
)
def test_only_the_archivist_above_the_team_decides(runtime: Runtime, username: str, refusal: type[Exception]) -> None:
    assert_refused(runtime, username, refusal, "submitted", ("accept", "reject"))


def assert_refused(
    runtime: Runtime, username: str, refusal: type[Exception], state: str, steps: tuple[str, str]
) -> None:
    """``username`` takes neither step (one on a list of dossiers, one with a reason); nothing changes."""
    dossier_id = plant(runtime, "LCI-D1", "16/QĐ-XPHC", state=state)
    for step, args in zip(steps, (([dossier_id],), (dossier_id, "Thiếu trang bìa")), strict=True):
        with pytest.raises(refusal):
            act(runtime, username, step, *args)
    assert state_of(runtime, dossier_id).handover_state == state
    assert trail(runtime) == []


def test_wrong_states_and_missing_reasons_are_refused(runtime: Runtime) -> None:
    processing = plant(runtime, "LCI-D1", "17/QĐ-XPHC", status="processing")
    with pytest.raises(workflow.NotProcessed):
        act(runtime, "canbo", "submit", processing)
    draft = plant(runtime, "LCI-D1", "18/QĐ-XPHC")
    with pytest.raises(workflow.WrongState):
        act(runtime, "luutru", "accept", [draft])
    with pytest.raises(workflow.WrongState):
        act(runtime, "doitruong", "approve", [draft])
    act(runtime, "doitruong", "submit", draft)
    with pytest.raises(workflow.WrongState):
        act(runtime, "canbo", "submit", draft)
    with pytest.raises(workflow.WrongState):
        act(runtime, "doitruong", "approve", [draft])
    with pytest.raises(workflow.ReasonRequired):
        act(runtime, "luutru", "reject", draft, "  ")
    blank_retention = plant(runtime, "LCI-D1", "19/QĐ-XPHC", verify_report(retention=None), state="submitted")
    with pytest.raises(workflow.RetentionUnknown):
        act(runtime, "luutru", "accept", [blank_retention])
    act(runtime, "luutru", "accept", [blank_retention], "Vĩnh viễn")
    assert state_of(runtime, blank_retention).retention == "Vĩnh viễn"


def test_a_batch_holds_one_teams_dossiers(runtime: Runtime) -> None:
    first = plant(runtime, "LCI-D1", "20/QĐ-XPHC", state="submitted")
    second = plant(runtime, "LCI-D1", "21/QĐ-XPHC", state="submitted")
    other_team = plant(runtime, "LCI-D2", "22/QĐ-XPHC", state="submitted")
    with pytest.raises(workflow.MixedTeams):
        act(runtime, "luutru", "accept", [first, other_team])
    assert state_of(runtime, first).handover_state == "submitted", "a refused batch changes nothing"
    batch = act(runtime, "luutru", "accept", [first, second])
    with runtime.sessions() as session:
        assert {d.id for d in workflow.batch_dossiers(session, batch.id)} == {first, second}  # type: ignore[attr-defined]


def test_reject_then_new_version_keeps_the_old_one_superseded(runtime: Runtime) -> None:
    old = plant(runtime, "LCI-D1", "23/QĐ-XPHC", state="submitted")
    act(runtime, "luutru", "reject", old, "Bút lục 7 bị trùng")
    rejected = state_of(runtime, old)
    assert (rejected.handover_state, rejected.handover_reason) == ("rejected", "Bút lục 7 bị trùng")
    new = plant(runtime, "LCI-D1", "23/QĐ-XPHC", status="processing")
    with pytest.raises(workflow.NotAllowed):
        act(runtime, "luutru", "record_new_version", old, new)
    act(runtime, "canbo", "record_new_version", old, new)
    assert state_of(runtime, old).handover_state == "superseded"
    replacement = state_of(runtime, new)
    assert (replacement.version, replacement.supersedes_id, replacement.handover_state) == (2, old, "draft")
    with pytest.raises(workflow.WrongState):
        act(runtime, "canbo", "record_new_version", old, plant(runtime, "LCI-D1", "23/QĐ-XPHC", state="draft"))
    with runtime.sessions() as session:
        assert [d.id for d in workflow.versions_of(session, session.get_one(Dossier, old))] == [old, new]
    assert [action for _, action, _ in trail(runtime)] == ["handover.reject", "handover.new_version"]


def entry_details(runtime: Runtime) -> list[tuple[str, dict[str, object]]]:
    with runtime.sessions() as session:
        return [(e.action, e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_an_officers_submission_waits_for_the_team_leader_and_the_archivist_cannot_take_it(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "40/QĐ-XPHC")
    act(runtime, "canbo", "submit", dossier_id)
    proposed = state_of(runtime, dossier_id)
    assert (proposed.handover_state, proposed.decided_at) == ("proposed", None) and proposed.submitted_at
    for step, args in (("accept", ([dossier_id],)), ("reject", (dossier_id, "Thiếu trang bìa"))):
        with pytest.raises(workflow.WrongState):
            act(runtime, "luutru", step, *args)
    with runtime.sessions() as session:
        archivist = session.scalars(select(User).where(User.username == "luutru")).one()
        leader = session.scalars(select(User).where(User.username == "doitruong")).one()
        assert workflow.queue_for(session, archivist) == []
        assert [d.id for d in workflow.queue_for(session, leader)] == [dossier_id]
        dossier = session.get_one(Dossier, dossier_id)
        assert workflow.allowed_steps(archivist, dossier) == frozenset()
        assert workflow.allowed_steps(leader, dossier) == {"approve", "return"}
    act(runtime, "doitruong", "approve", [dossier_id])
    assert state_of(runtime, dossier_id).handover_state == "submitted"
    proposal = {
        "state": "proposed",
        "version": 1,
        "passed": True,
        "errors": [],
        "explanation": "",
        "approval": "pending",
    }
    assert entry_details(runtime) == [
        ("handover.submit", proposal),
        ("handover.approve", {"state": "submitted", "version": 1}),
    ]


def test_the_team_leader_returns_a_proposal_with_a_reason_the_officer_reads(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "41/QĐ-XPHC", verify_report(passed=False))
    act(runtime, "canbo", "submit", dossier_id, "Bút lục 5 bỏ trống đã ghi tại chứng từ kết thúc")
    with pytest.raises(workflow.ReasonRequired):
        act(runtime, "doitruong", "send_back", dossier_id, " ok ")
    with pytest.raises(workflow.NotAllowed):
        act(runtime, "canbo", "send_back", dossier_id, "Tự rút lại hồ sơ")
    act(runtime, "doitruong", "send_back", dossier_id, "Chứng từ kết thúc chưa ký, ký rồi nộp lại")
    returned = state_of(runtime, dossier_id)
    assert (returned.handover_state, returned.handover_reason, returned.submitted_at) == (
        "draft",
        "Chứng từ kết thúc chưa ký, ký rồi nộp lại",
        None,
    )
    with pytest.raises(workflow.WrongState):
        act(runtime, "doitruong", "approve", [dossier_id])
    act(runtime, "canbo", "submit", dossier_id, "Chứng từ kết thúc đã ký bổ sung")
    again = state_of(runtime, dossier_id)
    assert (again.handover_state, again.handover_reason) == ("proposed", "Chứng từ kết thúc đã ký bổ sung")
    actions = [(action, detail.get("reason")) for action, detail in entry_details(runtime)]
    assert actions == [
        ("handover.submit", None),
        ("handover.return", "Chứng từ kết thúc chưa ký, ký rồi nộp lại"),
        ("handover.submit", None),
    ]


def test_the_team_leaders_own_submission_goes_to_the_archive_with_the_approval_recorded(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "42/QĐ-XPHC")
    act(runtime, "doitruong", "submit", dossier_id)
    assert state_of(runtime, dossier_id).handover_state == "submitted"
    [(action, detail)] = entry_details(runtime)
    assert (action, detail["state"], detail["approval"]) == ("handover.submit", "submitted", "implied")


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("doitruong_d2", workflow.DossierNotFound),  # the leader of another team: not theirs to see
        ("doitruong_qni", workflow.DossierNotFound),
        ("canbo", workflow.NotAllowed),
        ("luutru", workflow.NotAllowed),
        ("kiemsoat", workflow.NotAllowed),
        ("kiemtoan", workflow.NotAllowed),
        ("quantri", workflow.NotAllowed),
    ],
)
def test_only_a_team_leader_above_the_team_approves_or_returns(
    runtime: Runtime, username: str, refusal: type[Exception]
) -> None:
    assert_refused(runtime, username, refusal, "proposed", ("approve", "send_back"))


def test_a_leader_above_the_teams_approves_and_a_refused_approval_changes_nothing(runtime: Runtime) -> None:
    first = plant(runtime, "LCI-D1", "44/QĐ-XPHC", state="proposed")
    second = plant(runtime, "LCI-D2", "45/QĐ-XPHC", state="proposed")
    draft = plant(runtime, "LCI-D2", "46/QĐ-XPHC")
    with pytest.raises(workflow.WrongState):
        act(runtime, "doitruong_lci", "approve", [first, second, draft])
    assert {state_of(runtime, d).handover_state for d in (first, second)} == {"proposed"}
    approved = act(runtime, "doitruong_lci", "approve", [first, second])
    assert [d.id for d in approved] == [first, second]  # type: ignore[attr-defined]
    assert {state_of(runtime, d).handover_state for d in (first, second)} == {"submitted"}
    assert trail(runtime) == [
        ("doitruong_lci", "handover.approve", first),
        ("doitruong_lci", "handover.approve", second),
    ]


def test_cli_returns_a_proposal(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "47/QĐ-XPHC", state="proposed")
    cli = CliRunner()
    hidden = cli.invoke(main, ["handover", "return", dossier_id, "--user", "doitruong_d2", "--reason", "Thiếu bìa"])
    assert hidden.exit_code == 3
    args = ["handover", "return", dossier_id, "--user", "doitruong", "--reason", "Thiếu bìa hồ sơ", "--json"]
    returned = cli.invoke(main, args)
    assert returned.exit_code == 0, returned.output
    body = json.loads(returned.output)
    assert (body["handover_state"], body["handover_reason"]) == ("draft", "Thiếu bìa hồ sơ")
    assert trail(runtime) == [("doitruong", "handover.return", dossier_id)]


def test_reports_count_a_proposal_as_not_yet_handed_over(runtime: Runtime) -> None:
    for n, state in enumerate(("draft", "proposed", "submitted", "accepted")):
        plant(runtime, "LCI-D1", f"48-{n}/QĐ-XPHC", state=state)
    year = parse_period(str((datetime.now(UTC) + timedelta(hours=7)).year))  # periods run in Viet Nam time
    with runtime.sessions() as session:
        team = session.scalars(select(Unit).where(Unit.code == "LCI-D1")).one()
        figures = scan_figures(session, "VN/LCI", year)[team.id]
    assert (figures["dossiers"], figures["not_handed_over"]) == (4, 3)


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_handover_documents_carry_titles_codes_and_vietnamese_text(runtime: Runtime, tmp_path: Path) -> None:
    first = plant(runtime, "LCI-D1", "24/QĐ-XPHC", state="submitted")
    second = plant(
        runtime, "LCI-D1", "25/QĐ-XPHC", verify_report(dossier_code="LCA.QLTT.2024.XLVP.102"), state="submitted"
    )
    batch = act(runtime, "luutru", "accept", [first, second])
    with runtime.sessions() as session:
        summary = summarise_batch(session, session.get_one(HandoverBatch, batch.id))  # type: ignore[attr-defined]
    assert summary.total_sheets == 24 and summary.receiving_person == "Lê Thị Cúc (văn thư lưu trữ)"
    contents = _pdf_text(table_of_contents_pdf(summary), tmp_path, "muc-luc.pdf")
    record = _pdf_text(handover_record_pdf(summary), tmp_path, "bien-ban.pdf")
    assert "MỤC LỤC HỒ SƠ, TÀI LIỆU NỘP LƯU" in contents
    assert "BIÊN BẢN" in record and "Về việc giao nhận hồ sơ, tài liệu" in record
    for text in (contents, record):
        assert "LCA.QLTT.2024.XLVP.101" in text and "LCA.QLTT.2024.XLVP.102" in text
        assert "Nguyễn Thị Hường" in " ".join(text.split())  # diacritics intact through the embedded font
        assert summary.audit_anchor in text
    assert "Tổng số hồ sơ (đơn vị bảo quản): 2" in record and "Tổng số tờ: 24" in record
    assert "20 năm" in contents and "02/03/2024" in contents and "15/04/2024" in contents


def test_cli_runs_the_workflow_and_writes_the_documents(runtime: Runtime, tmp_path: Path) -> None:
    dossier_id = plant(runtime, "LCI-D1", "26/QĐ-XPHC")
    cli = CliRunner()
    refused = cli.invoke(main, ["handover", "accept", dossier_id, "--user", "luutru", "--json"])
    assert refused.exit_code == 2 and json.loads(refused.stdout)["error"] == "wrong_state"
    hidden = cli.invoke(main, ["handover", "submit", dossier_id, "--user", "canbo_qni"])
    assert hidden.exit_code == 3
    submitted = cli.invoke(main, ["handover", "submit", dossier_id, "--user", "canbo", "--json"])
    assert submitted.exit_code == 0 and json.loads(submitted.output)["handover_state"] == "proposed"
    assert json.loads(cli.invoke(main, ["handover", "queue", "--user", "luutru", "--json"]).output) == []
    leader_queue = json.loads(cli.invoke(main, ["handover", "queue", "--user", "doitruong", "--json"]).output)
    assert [(row["dossier_id"], row["handover_state"]) for row in leader_queue] == [(dossier_id, "proposed")]
    refused = cli.invoke(main, ["handover", "approve", dossier_id, "--user", "canbo", "--json"])
    assert refused.exit_code == 2 and json.loads(refused.stdout)["error"] == "not_allowed"
    approved = cli.invoke(main, ["handover", "approve", dossier_id, "--user", "doitruong", "--json"])
    assert approved.exit_code == 0 and json.loads(approved.output)[0]["handover_state"] == "submitted"
    queue = json.loads(cli.invoke(main, ["handover", "queue", "--user", "luutru", "--json"]).output)
    assert [row["dossier_id"] for row in queue] == [dossier_id]
    accepted = json.loads(cli.invoke(main, ["handover", "accept", dossier_id, "--user", "luutru", "--json"]).output)
    written = cli.invoke(main, ["handover", "documents", str(accepted["batch_id"]), "--out", str(tmp_path), "--json"])
    assert written.exit_code == 0
    files = [Path(name) for name in json.loads(written.output)["files"]]
    assert [path.name for path in files] == [
        f"muc-luc-ho-so-nop-luu-{accepted['batch_id']}.pdf",
        f"bien-ban-giao-nhan-{accepted['batch_id']}.pdf",
    ]
    assert all(path.read_bytes().startswith(b"%PDF") for path in files)
    with runtime.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [entry.remote_addr.startswith("cli@") for entry in entries] == [True, True, True]


def test_a_real_dossier_through_the_pipeline_rejected_and_replaced(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dev-003 (pages out of order) read with replayed OCR, rejected, replaced by another scan as version 2."""
    truths = {file_sha256(corpus_file("dev", f"{name}.pdf")): ground_truth(name) for name in ("dev-003", "dev-004")}

    def read_page(pdf_path: Path, page: int, *args: object):
        return replayed_facts(truths[file_sha256(Path(pdf_path))], page)

    monkeypatch.setattr(pipeline, "read_page", read_page)
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True

    def ingest(name: str) -> str:
        with corpus_file("dev", name).open("rb") as stream:
            dossier, created = ingest_submit(runtime, queue, stream, name, "148/QĐ-XPHC", "QNI-D1")
        assert created
        return dossier.id

    first = ingest("dev-003.pdf")
    assert not state_of(runtime, first).verify_report["passed"]  # type: ignore[index]
    with pytest.raises(workflow.ExplanationRequired):
        act(runtime, "canbo_qni", "submit", first)
    act(runtime, "canbo_qni", "submit", first, "Trang 6 và 7 quét nhầm thứ tự, bản giấy đúng thứ tự")
    act(runtime, "doitruong_qni", "approve", [first])
    act(runtime, "luutru_qni", "reject", first, "Quét lại đúng thứ tự bút lục")
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == "canbo_qni"))
        workflow.check_new_version_allowed(session, workflow.Actor(user), first)  # type: ignore[arg-type]
    second = ingest("dev-004.pdf")
    act(runtime, "canbo_qni", "record_new_version", first, second)
    act(runtime, "doitruong_qni", "submit", second, "Bản quét lại theo yêu cầu của lưu trữ")
    act(runtime, "luutru_qni", "accept", [second])
    archived = state_of(runtime, second)
    assert (archived.version, archived.supersedes_id, archived.retention) == (2, first, "20 năm")
    assert state_of(runtime, first).handover_state == "superseded"
    with runtime.sessions() as session:
        assert audit.verify_chain(session).intact


def test_two_archivists_deciding_at_once_cannot_both_win(runtime: Runtime) -> None:
    """The chain lock serialises steps and each step re-reads the dossier: one decision lands, the other is refused."""
    dossier_ids = [plant(runtime, "LCI-D1", f"30-{n}/QĐ-XPHC", state="submitted") for n in range(5)]
    outcomes: dict[str, list[str]] = {"accept": [], "reject": []}
    start = threading.Barrier(2)

    def decide(step: str) -> None:
        for dossier_id in dossier_ids:
            start.wait()
            try:
                if step == "accept":
                    act(runtime, "luutru", "accept", [dossier_id])
                else:
                    act(runtime, "luutru", "reject", dossier_id, "Thiếu quyết định xử phạt")
                outcomes[step].append("won")
            except workflow.WrongState:
                outcomes[step].append("refused")

    threads = [threading.Thread(target=decide, args=(step,)) for step in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, dossier_id in enumerate(dossier_ids):
        assert sorted([outcomes["accept"][index], outcomes["reject"][index]]) == ["refused", "won"]
        expected = "accepted" if outcomes["accept"][index] == "won" else "rejected"
        assert state_of(runtime, dossier_id).handover_state == expected
    assert len(trail(runtime)) == 5, "one audit entry per decision that landed"
    with runtime.sessions() as session:
        assert audit.verify_chain(session).intact


def test_the_handover_record_names_the_leader_who_approved_as_the_handing_person(runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "26/QĐ-XPHC")
    act(runtime, "canbo", "submit", dossier_id)
    act(runtime, "doitruong", "approve", [dossier_id])
    batch = act(runtime, "luutru", "accept", [dossier_id])
    with runtime.sessions() as session:
        summary = summarise_batch(session, session.get_one(HandoverBatch, batch.id))  # type: ignore[attr-defined]
    assert summary.handing_person == "Trần Thị Bình (đội trưởng Đội 1)"
