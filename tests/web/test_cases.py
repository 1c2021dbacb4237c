"""Case records on the web and the API: scope (404 outside), the forms with CSRF and field errors in
Vietnamese, who may edit, the list's filters and paging, the upload from a case page, and the re-index
after an edit."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from archive.models import AuditEntry, Case, Dossier, Unit
from archive.runtime import Runtime
from tests.web.helpers import csrf_token, login, pdf_bytes, plant_dossier


def _make_case(runtime: Runtime, unit_code: str, number: str, **fields: Any) -> int:
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        case = Case(unit=unit, case_number=number, **fields)
        session.add(case)
        session.commit()
        return case.id


def _form(client: FlaskClient, path: str, **fields: Any) -> dict[str, Any]:
    base = {
        "csrf_token": csrf_token(client, path),
        "case_number": "15/BB-VPHC",
        "unit": "LCI-D1",
        "subject_name": "Công ty TNHH Sông Hồng",
        "tax_code": "0100233488",
        "opened_on": "2024-04-01",
        "fine_amount": "",
        "violation_description": ["Kinh doanh hàng nhập lậu", "Không niêm yết giá", ""],
        "violation_legal_basis": ["Khoản 2 Điều 17 NĐ 98/2020", "Khoản 1 Điều 31 NĐ 98/2020", ""],
        "violation_fine": ["10.000.000", "2.000.000", ""],
    }
    return base | fields


def test_list_shows_only_cases_in_scope_with_filters_and_paging(client: FlaskClient, runtime: Runtime) -> None:
    from datetime import date

    _make_case(runtime, "LCI-D1", "1/LCI", subject_name="Công ty Lào Cai", opened_on=date(2023, 5, 1))
    _make_case(runtime, "LCI-D2", "2/LCI", subject_name="Hộ kinh doanh Sa Pa", opened_on=date(2024, 5, 1))
    _make_case(runtime, "QNI-D1", "3/QNI", subject_name="Công ty Hạ Long", opened_on=date(2024, 5, 1))
    login(client, "kiemsoat")  # inspector of LCI: both LCI teams, not Quảng Ninh
    page = client.get("/cases").get_data(as_text=True)
    assert "1/LCI" in page and "2/LCI" in page and "3/QNI" not in page and "Hạ Long" not in page
    listed = client.get("/api/v1/cases").get_json()
    assert listed["total"] == 2 and {case["case_number"] for case in listed["cases"]} == {"1/LCI", "2/LCI"}
    assert [c["case_number"] for c in client.get("/api/v1/cases?q=sa%20pa").get_json()["cases"]] == ["2/LCI"]
    # Vietnamese capitals fold too, on SQLite as on PostgreSQL: "hộ kinh" finds "Hộ kinh", "HỘ KINH" as well.
    for query in ("h%E1%BB%99%20kinh", "H%E1%BB%98%20KINH"):
        assert [c["case_number"] for c in client.get(f"/api/v1/cases?q={query}").get_json()["cases"]] == ["2/LCI"]
    assert [c["case_number"] for c in client.get("/api/v1/cases?year=2023").get_json()["cases"]] == ["1/LCI"]
    assert [c["case_number"] for c in client.get("/api/v1/cases?unit=LCI-D2").get_json()["cases"]] == ["2/LCI"]
    assert client.get("/api/v1/cases?unit=QNI-D1").get_json()["total"] == 0  # another subtree: nothing
    assert client.get("/api/v1/cases?unit=QNI").get_json()["total"] == 0
    first = client.get("/api/v1/cases?limit=1").get_json()
    second = client.get("/api/v1/cases?limit=1&offset=1").get_json()
    assert first["next_offset"] == 1 and second["next_offset"] is None
    assert first["cases"][0]["case_number"] != second["cases"][0]["case_number"]


def test_cases_outside_scope_answer_404_everywhere(client: FlaskClient, runtime: Runtime) -> None:
    other = _make_case(runtime, "QNI-D1", "9/QNI", subject_name="Công ty Móng Cái")
    login(client, "canbo")
    for path in (f"/cases/{other}", f"/cases/{other}/edit", f"/cases/{other}/upload", f"/api/v1/cases/{other}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Móng Cái" not in response.get_data(as_text=True)
    assert client.patch(f"/api/v1/cases/{other}", json={"address": "x"}).status_code == 404
    upload = {"file": (io.BytesIO(pdf_bytes()), "a.pdf")}
    assert client.post(f"/api/v1/cases/{other}/dossiers", data=upload).status_code == 404
    assert client.get("/cases/999999").status_code == 404


def test_an_officer_creates_a_case_through_the_form(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    assert "Số vụ việc" in client.get("/cases/new").get_data(as_text=True)
    response = client.post("/cases/new", data=_form(client, "/cases/new"))
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "15/BB-VPHC" in page and "Không niêm yết giá" in page and "12.000.000" in page
    with runtime.sessions() as session:
        case = session.scalar(select(Case).where(Case.case_number == "15/BB-VPHC"))
        assert case is not None and case.fine_amount == 12_000_000 and len(case.violations) == 2
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "case", AuditEntry.target_id == str(case.id))
        ).all()
        assert actions == ["case.create"]


def test_form_errors_are_shown_in_vietnamese_next_to_the_fields(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "canbo")
    data = _form(
        client,
        "/cases/new",
        tax_code="0100233489",
        violation_description=["Kinh doanh hàng nhập lậu"],
        violation_legal_basis=[""],
        violation_fine=["-1"],
    )
    response = client.post("/cases/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Mã số thuế không đúng (sai chữ số kiểm tra)." in page
    assert "Chưa ghi căn cứ pháp lý" in page and "Số tiền không được âm." in page
    assert 'id="tax_code-error"' in page and 'aria-describedby="tax_code-error"' in page
    assert 'value="Công ty TNHH Sông Hồng"' in page  # what was typed stays
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_forms_need_the_csrf_token(client: FlaskClient, runtime: Runtime) -> None:
    case_id = _make_case(runtime, "LCI-D1", "5/LCI")
    login(client, "canbo")
    data = _form(client, "/cases/new")
    del data["csrf_token"]
    assert client.post("/cases/new", data=data).status_code == 400
    assert client.post(f"/cases/{case_id}/edit", data=data).status_code == 400
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_inspectors_read_but_do_not_edit(client: FlaskClient, runtime: Runtime) -> None:
    case_id = _make_case(runtime, "LCI-D1", "6/LCI", subject_name="Công ty Bắc Hà")
    login(client, "kiemsoat")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Công ty Bắc Hà" in page and f"/cases/{case_id}/edit" not in page
    assert client.get(f"/cases/{case_id}/edit").status_code == 403
    assert client.get("/cases/new").status_code == 403
    token = csrf_token(client, f"/cases/{case_id}")
    assert client.post(f"/cases/{case_id}/edit", data={"csrf_token": token, "case_number": "x"}).status_code == 403
    assert client.post("/api/v1/cases", json={"case_number": "7/LCI", "unit": "LCI-D1"}).status_code == 403
    assert client.patch(f"/api/v1/cases/{case_id}", json={"subject_name": "x"}).status_code == 403
    with runtime.sessions() as session:
        assert session.get_one(Case, case_id).subject_name == "Công ty Bắc Hà"


def test_api_creates_validates_and_patches(client: FlaskClient, runtime: Runtime) -> None:
    login(client, "doitruong")
    bad = client.post("/api/v1/cases", json={"case_number": "", "tax_code": "123", "opened_on": "31/02/2024"})
    assert bad.status_code == 422
    body = bad.get_json()
    assert body["error"] == "case_invalid" and set(body["fields"]) == {"tax_code", "opened_on"}
    assert body["fields"]["tax_code"]["message_vi"].startswith("Mã số thuế")
    outside = client.post("/api/v1/cases", json={"case_number": "1/Q", "unit": "QNI-D1"})
    assert outside.status_code == 422 and "unit" in outside.get_json()["fields"]
    assert client.post("/api/v1/cases", json={"case_number": "1/L", "colour": "red"}).status_code == 400

    created = client.post(
        "/api/v1/cases",
        json={
            "case_number": "20/BB",
            "violation": "Bán hàng giả",
            "legal_basis": "Điều 9 NĐ 98/2020",
            "fine_amount": 5,
        },
    )
    assert created.status_code == 201
    case = created.get_json()
    assert case["unit"] == "LCI-D1" and case["violations"][0]["legal_basis"] == "Điều 9 NĐ 98/2020"
    duplicate = client.post("/api/v1/cases", json={"case_number": " 20/BB "})
    assert duplicate.status_code == 409 and duplicate.get_json()["error"] == "case_exists"

    same = client.patch(f"/api/v1/cases/{case['case_id']}", json=case)  # sent back as received: nothing changes
    assert same.status_code == 200 and same.get_json()["changed"] == []
    patched = client.patch(f"/api/v1/cases/{case['case_id']}", json={"decided_on": "02/04/2024"})
    assert patched.get_json()["changed"] == ["decided_on"] and patched.get_json()["decided_on"] == "2024-04-02"
    assert client.get(f"/api/v1/cases/{case['case_id']}").get_json()["decided_on"] == "2024-04-02"


def test_editing_the_subject_reindexes_the_dossier(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "30/BB-VPHC", ["Bìa hồ sơ", "Biên bản kiểm tra"])
    with runtime.sessions() as session:
        case_id = session.get_one(Dossier, dossier_id).case_id
    login(client, "canbo")
    assert client.get("/api/v1/search?q=Thanh Xuân").get_json()["total_dossiers"] == 0
    path = f"/cases/{case_id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'value="30/BB-VPHC"' in form
    data = _form(client, path, case_number="30/BB-VPHC", subject_name="Công ty Thanh Xuân")
    assert client.post(path, data=data).status_code == 303
    found = client.get("/api/v1/search?q=Thanh Xuân").get_json()
    assert [group["dossier_id"] for group in found["dossiers"]] == [dossier_id]
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "30/BB-VPHC.pdf" in page  # the case page lists its dossier


def test_upload_from_a_case_page_goes_to_that_case(client: FlaskClient, runtime: Runtime) -> None:
    case_id = _make_case(runtime, "LCI-D1", "40/BB-VPHC")
    login(client, "canbo")
    detail = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/upload" in detail
    form = client.get(f"/cases/{case_id}/upload").get_data(as_text=True)
    assert "40/BB-VPHC" in form
    data = {"file": (io.BytesIO(pdf_bytes(marker="a")), "a.pdf"), "csrf_token": csrf_token(client, "/cases")}
    response = client.post(f"/cases/{case_id}/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    api = client.post(f"/api/v1/cases/{case_id}/dossiers", data={"file": (io.BytesIO(pdf_bytes(marker="b")), "b.pdf")})
    assert api.status_code == 201
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        case_ids = session.scalars(select(Dossier.case_id)).all()
    assert case_ids == [case_id, case_id]
    refused = client.post(f"/cases/{case_id}/upload", data={"csrf_token": csrf_token(client, "/cases")})
    assert refused.status_code == 400 and "Chưa chọn tệp" in refused.get_data(as_text=True)


def test_readers_may_not_upload_for_a_case(client: FlaskClient, runtime: Runtime) -> None:
    case_id = _make_case(runtime, "LCI-D1", "41/BB-VPHC")
    login(client, "kiemsoat")
    assert f"/cases/{case_id}/upload" not in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.get(f"/cases/{case_id}/upload").status_code == 403
