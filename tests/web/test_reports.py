"""The report pages, exports and API: scope (nothing of another province anywhere), charts with escaped labels,
the retention review list, the dashboard's due panel."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from archive.models import User
from archive.report_periods import Period
from archive.runtime import Runtime
from archive.web.reports import due_reports
from tests.archive.report_helpers import add_case, add_dossier, unit
from tests.web.helpers import csrf_token, login

HOSTILE_NAME = 'Đội <b>2</b> & "Lào Cai"'
QUARTER = {"kind": "quarter", "period": "2024-Q1"}


def archived_in(year: int, retention: str) -> dict[str, Any]:
    return {"state": "accepted", "decided_at": datetime(year, 1, 1, tzinfo=UTC), "retention": retention}


@pytest.fixture
def planted(runtime: Runtime) -> Runtime:
    with runtime.sessions() as session:
        unit(session, "LCI-D2").name = HOSTILE_NAME
        lci = add_case(
            session, "LCI-D1", "LCI-1", decided_on=date(2024, 2, 1), fine=3_000_000, closed_on=date(2010, 5, 1)
        )
        add_dossier(session, lci, datetime(2024, 2, 2, tzinfo=UTC), pages=7)
        add_dossier(session, lci, datetime(2024, 1, 5, tzinfo=UTC), pages=5, **archived_in(2012, "10 năm"))
        qni = add_case(
            session, "QNI-D1", "QNI-SECRET", decided_on=date(2024, 2, 1), fine=987_654_321, closed_on=date(2005, 1, 1)
        )
        add_dossier(session, qni, datetime(2024, 2, 2, tzinfo=UTC), pages=4321, **archived_in(2006, "05 năm"))
        session.commit()
    return runtime


SECRETS = ("Quảng Ninh", "QNI-D1", "QNI-SECRET", "987654321", "987.654.321", "4321", "4.321")


def assert_no_qni(text: str, secrets: tuple[str, ...] = ("QNI", *SECRETS)) -> None:
    for secret in secrets:
        assert secret not in text, secret


def test_report_page_shows_the_units_table_and_charts_in_scope(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    response = client.get("/reports", query_string=QUARTER)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "LCI-D1" in html and "3.000.000" in html
    assert_no_qni(html)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 2  # per-team bars and the monthly trend
    assert "Đội &lt;b&gt;2&lt;/b&gt; &amp; &#34;Lào Cai&#34;" in svgs[0]
    assert "<b>2</b>" not in html
    assert "Báo cáo sắp đến hạn" in html  # the due panel


def test_a_unit_outside_scope_is_not_found_everywhere(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    for path in (
        "/reports",
        "/reports/export.xlsx",
        "/reports/export.pdf",
        "/reports/retention",
        "/api/v1/reports/quarter",
    ):
        response = client.get(path, query_string={**QUARTER, "unit": "QNI"})
        assert response.status_code == 404, path
        assert_no_qni(response.get_data(as_text=True), SECRETS)  # the code asked for is echoed back, nothing more


def test_national_user_sees_both_provinces(planted: Runtime, client: FlaskClient) -> None:
    login(client, "kiemtoan")
    html = client.get("/reports", query_string=QUARTER).get_data(as_text=True)
    assert "QNI-D1" in html and "987.654.321" in html and "LCI-D1" in html


def test_xlsx_export_holds_the_numbers_of_the_api(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    data = client.get("/api/v1/reports/quarter", query_string=QUARTER).get_json()
    assert data["unit"]["code"] == "LCI" and data["total"]["fines"] == 3_000_000
    assert data["total"]["dossiers"] == 2 and data["total"]["pages"] == 12
    response = client.get("/reports/export.xlsx", query_string=QUARTER)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    lines = [line for line in sheet.iter_rows(values_only=True)]
    total = next(line for line in lines if line[1] == "Tổng cộng")
    assert list(total[2:]) == [data["total"][column["key"]] for column in data["columns"]]
    assert_no_qni(" ".join(str(cell) for line in lines for cell in line if cell is not None))
    assert_no_qni(str(data))


def test_pdf_export_and_monthly_api(planted: Runtime, client: FlaskClient) -> None:
    login(client, "canbo")
    pdf = client.get("/reports/export.pdf", query_string=QUARTER)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    monthly = client.get("/api/v1/reports/monthly", query_string={"period": "2024-02"}).get_json()
    assert monthly["unit"]["code"] == "LCI-D1"  # the user's own unit by default
    assert (monthly["total"]["dossiers"], monthly["total"]["pages"]) == (1, 7)
    assert [point["month"] for point in monthly["trend"]][-1] == "2024-02"


def test_bad_period_and_kind_are_refused(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    bad = client.get("/api/v1/reports/quarter", query_string={"period": "2024-03"})
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "bad_period"
    assert client.get("/api/v1/reports/weekly").status_code == 404
    assert client.get("/reports", query_string={"kind": "month", "period": "2024-13"}).status_code == 400


def test_retention_page_lists_dossiers_past_retention_in_scope(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    html = client.get("/reports/retention").get_data(as_text=True)
    assert "không bao giờ tự động xóa" in html
    assert "LCI-1" in html and "10 năm" in html
    assert_no_qni(html)
    login(client, "kiemtoan")
    assert "QNI-SECRET" in client.get("/reports/retention").get_data(as_text=True)


def test_due_reports_for_the_dashboard(planted: Runtime, app: Flask) -> None:
    with app.app_context(), planted.sessions() as session:
        user = session.query(User).filter_by(username="luutru").one()
        due = due_reports(session, user, date(2024, 2, 20))
    assert [item.kind for item in due][0] == "month"
    february = due[0]
    assert february.period == Period("month", 2024, 3)  # 17 February has passed
    march_quarter = next(item for item in due if item.kind == "quarter")
    assert march_quarter.dossiers == 2 and march_quarter.not_handed_over == 1
    assert [code for code, _ in march_quarter.teams_without_scans] == ["LCI-D2"]


def test_english_switch_names_columns_and_periods_in_english(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    switched = client.post("/language", data={"lang": "en", "next": "/reports", "csrf_token": csrf_token(client, "/")})
    assert switched.status_code == 303
    html = client.get("/reports", query_string=QUARTER).get_data(as_text=True)
    assert "Fines (VND)" in html and "2024-Q1" in html
    assert "Tiền phạt (đồng)" not in html and "Quý 1/2024" not in html


def test_the_dashboard_shows_the_reports_coming_due(planted: Runtime, client: FlaskClient) -> None:
    login(client, "luutru")
    html = client.get("/").get_data(as_text=True)
    assert "Báo cáo sắp đến hạn" in html
    assert_no_qni(html)
