"""The dashboard: counts by status within the user's units, and the work waiting for each role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from archive.models import Dossier
from archive.runtime import Runtime
from tests.web.helpers import login, plant_dossier

LATE = {
    "code": "late_digitization",
    "severity": "warning",
    "pages": [2],
    "detail": {"hours": 70},
    "message": "Uploaded 70 hours after the end of 2024-03-01, the latest document date (limit 48 hours).",
    "message_vi": "Số hóa chậm: tải lên sau 70 giờ kể từ hết ngày 01/03/2024; quy định trong vòng 48 giờ.",
}


def _change(runtime: Runtime, dossier_id: str, **values: Any) -> None:
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        for name, value in values.items():
            setattr(dossier, name, value)
        session.commit()


def _passing_report(runtime: Runtime, dossier_id: str, *extra_findings: dict[str, Any]) -> dict[str, Any]:
    with runtime.sessions() as session:
        report = dict(session.get_one(Dossier, dossier_id).verify_report or {})
    return report | {"passed": True, "findings": list(extra_findings)}


def _section(html: str, title: str) -> str:
    """The action card whose heading starts with ``title``."""
    start = html.index(title)
    return html[start : html.index("</article>", start)]


def test_a_team_sees_what_to_fix_what_came_back_and_what_was_late(client: FlaskClient, runtime: Runtime) -> None:
    plant_dossier(runtime, "LCI-D1", "01/LCI", ["trang một", "Biên bản kiểm tra"])
    rejected = plant_dossier(runtime, "LCI-D1", "02/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(
        runtime, rejected, handover_state="rejected", handover_reason="Thiếu bút lục số 7", decided_at=datetime.now(UTC)
    )
    late = plant_dossier(runtime, "LCI-D1", "03/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, late, verify_report=_passing_report(runtime, late, LATE))
    plant_dossier(runtime, "LCI-D1", "04/LCI", ["trang một"], status="processing")
    plant_dossier(runtime, "QNI-D1", "09/QNI", ["trang một", "Biên bản kiểm tra"])  # another province

    login(client, "canbo")
    html = client.get("/").get_data(as_text=True)
    assert "09/QNI" not in html

    to_fix = _section(html, "Hồ sơ chưa đạt kiểm tra, cần sửa")
    # The rejected dossier failed verification too: it is still the team's to fix.
    assert "01/LCI" in to_fix and "02/LCI" in to_fix and "03/LCI" not in to_fix
    assert 'class="count">2<' in to_fix and "1 lỗi" in to_fix
    came_back = _section(html, "Hồ sơ bị trả lại")
    assert "02/LCI" in came_back and "Thiếu bút lục số 7" in came_back and "01/LCI" not in came_back
    assert "03/LCI" in _section(html, "Số hóa quá 48 giờ") and "sau 70 giờ" in html
    assert "Hồ sơ chờ tiếp nhận vào lưu trữ" not in html  # a team does not decide handovers

    # Counts: four dossiers of the team (one still processing), none of the other province.
    assert "<dt>Đang xử lý</dt><dd>1</dd>" in html and "<dt>Đã xử lý</dt><dd>3</dd>" in html
    assert "<dt>Bị trả lại</dt><dd>1</dd>" in html and "<dt>Chưa nộp lưu</dt><dd>3</dd>" in html


def test_an_archivist_sees_the_handover_queue_of_the_teams_below(client: FlaskClient, runtime: Runtime) -> None:
    waiting = plant_dossier(runtime, "LCI-D2", "05/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, waiting, handover_state="submitted", submitted_at=datetime.now(UTC))
    elsewhere = plant_dossier(runtime, "QNI-D1", "06/QNI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, elsewhere, handover_state="submitted", submitted_at=datetime.now(UTC))

    login(client, "luutru")
    html = client.get("/").get_data(as_text=True)
    queue = _section(html, "Hồ sơ chờ tiếp nhận vào lưu trữ")
    assert "05/LCI" in queue and 'class="count">1<' in queue and "06/QNI" not in html


def test_nothing_waiting_says_so(client: FlaskClient) -> None:
    login(client, "kiemsoat")
    html = client.get("/").get_data(as_text=True)
    assert "Không có việc nào đang chờ." in html and "Chưa có hồ sơ nào." in html


def test_the_findings_are_shown_in_the_reader_s_language(client: FlaskClient, runtime: Runtime) -> None:
    late = plant_dossier(runtime, "LCI-D1", "03/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, late, verify_report=_passing_report(runtime, late, LATE))
    login(client, "canbo")
    assert LATE["message_vi"] in client.get("/").get_data(as_text=True)
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert LATE["message"] in client.get("/").get_data(as_text=True)


def test_a_team_leader_sees_what_the_officers_propose_for_handover(client: FlaskClient, runtime: Runtime) -> None:
    proposed = plant_dossier(runtime, "LCI-D1", "07/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, proposed, handover_state="proposed", handover_reason="Bìa lập lại", submitted_at=datetime.now(UTC))
    other_team = plant_dossier(runtime, "LCI-D2", "08/LCI", ["trang một", "Biên bản kiểm tra"])
    _change(runtime, other_team, handover_state="proposed", submitted_at=datetime.now(UTC))

    login(client, "doitruong")
    waiting = _section(client.get("/").get_data(as_text=True), "Hồ sơ cán bộ đề nghị nộp lưu, chờ đội trưởng duyệt")
    assert "07/LCI" in waiting and "Bìa lập lại" in waiting and "08/LCI" not in waiting
    login(client, "canbo")
    assert "Hồ sơ cán bộ đề nghị nộp lưu" not in client.get("/").get_data(as_text=True)  # officers do not approve
