"""Reports: periods and due dates, what each figure counts, totals that add up, scope, and the exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

import archive.runtime
from archive import report_exports
from archive.cli import main
from archive.config import Settings
from archive.report_due import upcoming
from archive.report_periods import Period, PeriodError, next_due, parse_period, period_containing, trend_months
from archive.report_queries import verification_outcome
from archive.reports import Report, build_report
from archive.runtime import Runtime
from archive.verify import SEVERITIES
from tests.archive.report_helpers import add_case, add_dossier, unit, verify_report

NOW = datetime(2024, 4, 2, 8, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def session(runtime: Runtime) -> Session:
    with runtime.sessions() as session:
        yield session


@pytest.fixture
def first_quarter(session: Session) -> Session:
    """Q1 2024 in Lào Cai (two teams and the province's own case) and Quảng Ninh, plus records just outside."""
    case_a = add_case(
        session, "LCI-D1", "A", decided_on=date(2024, 2, 10), fine=5_000_000, confiscated=20_000_000, sold=7_000_000
    )
    add_dossier(session, case_a, utc(2024, 1, 15, 3), pages=10, state="accepted", decided_at=utc(2024, 2, 1, 2))
    # 23:00 on 31 March in Viet Nam: still March.
    add_dossier(session, case_a, utc(2024, 3, 31, 16), pages=4, outcome="failed", late=True)
    # 00:30 on 1 April in Viet Nam: April, outside the quarter.
    add_dossier(session, case_a, utc(2024, 3, 31, 17, 30), pages=100)
    case_b = add_case(session, "LCI-D2", "B", decided_on=date(2024, 3, 5), fine=1_500_000)
    add_dossier(session, case_b, utc(2024, 2, 20), pages=6, outcome="with_findings", state="submitted")
    add_case(session, "LCI-D2", "C", opened_on=date(2024, 1, 2))
    add_case(session, "LCI-D2", "late-decision", opened_on=date(2024, 3, 1), decided_on=date(2024, 4, 1), fine=1)
    case_d = add_case(session, "LCI", "D", decided_on=date(2024, 1, 20), fine=100_000_000)
    add_dossier(session, case_d, utc(2024, 1, 25), pages=2, outcome=None)
    case_e = add_case(session, "QNI-D1", "E", decided_on=date(2024, 2, 2), fine=9_999_999)
    add_dossier(session, case_e, utc(2024, 2, 3), pages=50, state="accepted", decided_at=utc(2024, 3, 3))
    session.commit()
    return session


def quarter_report(session: Session, code: str, due_day: int = 17) -> Report:
    return build_report(session, "quarter", Period("quarter", 2024, 1), unit(session, code), due_day, now=NOW)


def row(report: Report, code: str, row_type: str) -> dict[str, int]:
    (found,) = [r for r in report.rows if r.unit_code == code and r.row_type == row_type]
    return found.values


# --- periods and due dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "first", "last"),
    [
        ("2024-03", Period("month", 2024, 3), date(2024, 3, 1), date(2024, 3, 31)),
        ("2024-02", Period("month", 2024, 2), date(2024, 2, 1), date(2024, 2, 29)),
        ("2024-Q1", Period("quarter", 2024, 1), date(2024, 1, 1), date(2024, 3, 31)),
        ("2024-q4", Period("quarter", 2024, 4), date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-H2", Period("half", 2024, 2), date(2024, 7, 1), date(2024, 12, 31)),
        (" 2024 ", Period("year", 2024, 1), date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_periods_parse_to_their_calendar_days(text: str, expected: Period, first: date, last: date) -> None:
    period = parse_period(text)
    assert period == expected
    assert (period.first_day, period.last_day) == (first, last)
    assert parse_period(period.label) == period


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("2024-13", None, "months run 01-12"),
        ("2024-Q5", None, "not a period"),
        ("March 2024", None, "not a period"),
        ("", None, "not a period"),
        ("2024-Q1", "month", "needs a period like 2024-03"),
        ("2024-03", "quarter", "needs a period like 2024-Q1"),
        ("2024", "half", "needs a period like 2024-H1"),
    ],
)
def test_bad_periods_are_refused_with_what_to_type(text: str, kind: str | None, fragment: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(text, kind)
    assert fragment in refused.value.detail
    assert refused.value.code == "bad_period"


def test_due_date_is_the_day_of_the_periods_last_month() -> None:
    assert Period("quarter", 2024, 1).due_date(17) == date(2024, 3, 17)
    assert Period("half", 2024, 2).due_date(18) == date(2024, 12, 18)
    assert Period("year", 2024, 1).due_date(17) == date(2024, 12, 17)
    assert Period("month", 2024, 5).due_date(17) == date(2024, 5, 17)
    assert Period("month", 2023, 2).due_date(31) == date(2023, 2, 28)  # a short month ends earlier


def test_next_due_rolls_over_once_the_day_has_passed() -> None:
    assert next_due("month", date(2024, 3, 17), 17) == Period("month", 2024, 3)
    assert next_due("month", date(2024, 3, 18), 17) == Period("month", 2024, 4)
    assert next_due("quarter", date(2024, 3, 18), 17) == Period("quarter", 2024, 2)
    assert next_due("year", date(2024, 12, 18), 17) == Period("year", 2025, 1)
    assert next_due("month", date(2024, 12, 20), 18) == Period("month", 2025, 1)


def test_trend_covers_the_twelve_months_up_to_the_period() -> None:
    months = trend_months(Period("quarter", 2024, 1))
    assert [m.label for m in (months[0], months[-1])] == ["2023-04", "2024-03"]
    assert len(months) == 12
    assert period_containing("half", date(2024, 7, 1)) == Period("half", 2024, 2)


def test_due_day_is_17_by_default_18_by_unit_or_setting(
    first_quarter: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = first_quarter
    assert quarter_report(session, "LCI-D1").due_date == date(2024, 3, 17)
    monkeypatch.setenv("HOSO_REPORT_DUE_DAY", "18")
    setting = Settings.from_env().report_due_day
    assert setting == 18
    assert quarter_report(session, "LCI-D1", setting).due_date == date(2024, 3, 18)
    # A province that uses the 18th: its teams inherit the day; the other province keeps the default.
    unit(session, "LCI").report_due_day = 18
    session.flush()
    assert quarter_report(session, "LCI-D1").due_date == date(2024, 3, 18)
    assert quarter_report(session, "QNI").due_date == date(2024, 3, 17)
    unit(session, "LCI-D1").report_due_day = 20  # the nearest unit wins
    assert quarter_report(session, "LCI-D1").due_date == date(2024, 3, 20)


# --- what the figures count --------------------------------------------------------------------------------


def test_quarter_report_counts_each_figure(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "LCI")
    assert [(r.unit_code, r.row_type) for r in report.rows] == [
        ("LCI-D1", "unit"),
        ("LCI-D2", "unit"),
        ("LCI", "direct"),
    ]
    assert row(report, "LCI-D1", "unit") == {
        "cases": 1,
        "dossiers": 2,
        "pages": 14,
        "fines": 5_000_000,
        "confiscated_value": 20_000_000,
        "goods_sold_value": 7_000_000,
        "handed_over": 1,
        "late_digitizations": 1,
    }
    assert row(report, "LCI-D2", "unit") == {
        "cases": 2,
        "dossiers": 1,
        "pages": 6,
        "fines": 1_500_000,
        "confiscated_value": 0,
        "goods_sold_value": 0,
        "handed_over": 0,
        "late_digitizations": 0,
    }
    assert report.total == {
        "cases": 4,
        "dossiers": 4,
        "pages": 22,
        "fines": 106_500_000,
        "confiscated_value": 20_000_000,
        "goods_sold_value": 7_000_000,
        "handed_over": 1,
        "late_digitizations": 1,
    }


def test_monthly_report_counts_verification_outcomes_and_acceptances(first_quarter: Session) -> None:
    session = first_quarter
    january = build_report(session, "month", Period("month", 2024, 1), unit(session, "LCI"), 17, now=NOW)
    assert january.total == {
        "dossiers": 2,
        "pages": 12,
        "verify_passed": 1,
        "verify_with_findings": 0,
        "verify_failed": 0,
        "verify_pending": 1,
        "handed_over": 0,
    }
    february = build_report(session, "month", Period("month", 2024, 2), unit(session, "LCI"), 17, now=NOW)
    assert (february.total["verify_with_findings"], february.total["handed_over"]) == (1, 1)
    march = build_report(session, "month", Period("month", 2024, 3), unit(session, "LCI-D1"), 17, now=NOW)
    assert (march.total["dossiers"], march.total["pages"], march.total["verify_failed"]) == (1, 4, 1)
    april = build_report(session, "month", Period("month", 2024, 4), unit(session, "LCI-D1"), 17, now=NOW)
    assert (april.total["dossiers"], april.total["pages"]) == (1, 100)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("passed", "passed"), ("with_findings", "with_findings"), ("failed", "failed"), (None, "pending")],
)
def test_verification_outcome_reads_the_stored_report(outcome: str | None, expected: str) -> None:
    report = verify_report(outcome) or {}
    assert verification_outcome(report.get("findings")) == expected


def test_late_digitisation_is_the_verification_rules_finding() -> None:
    assert "late_digitization" in SEVERITIES


def test_totals_add_up_exactly_across_units(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "VN")
    keys = [column.key for column in report.columns]
    assert [(r.unit_code, r.row_type) for r in report.rows] == [
        ("LCI-D1", "unit"),
        ("LCI-D2", "unit"),
        ("LCI", "direct"),
        ("LCI", "subtotal"),
        ("QNI-D1", "unit"),
        ("QNI-D5", "unit"),
        ("QNI", "subtotal"),
    ]
    for key in keys:
        lci = (
            row(report, "LCI-D1", "unit")[key] + row(report, "LCI-D2", "unit")[key] + row(report, "LCI", "direct")[key]
        )
        assert lci == row(report, "LCI", "subtotal")[key]
        qni = row(report, "QNI-D1", "unit")[key] + row(report, "QNI-D5", "unit")[key]
        assert qni == row(report, "QNI", "subtotal")[key]
        assert lci + qni == report.total[key]
        assert sum(r.values[key] for r in report.rows if r.row_type != "subtotal") == report.total[key]
    # The province's report says the same as its subtotal in the national one.
    assert quarter_report(first_quarter, "LCI").total == row(report, "LCI", "subtotal")


def test_team_rows_add_up_to_the_province_and_the_total(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "QNI")
    assert [r.row_type for r in report.rows] == ["unit", "unit"]  # no records of the province's own: no direct row
    for key, total in report.total.items():
        assert sum(r.values[key] for r in report.team_rows) == total
    national = quarter_report(first_quarter, "VN")
    assert row(national, "QNI", "subtotal") == report.total
    assert report.total["fines"] == 9_999_999


# --- scope and exports -------------------------------------------------------------------------------------


def test_a_provinces_report_and_its_exports_hold_nothing_of_another_province(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "LCI")
    texts = [report_exports.render(report, fmt).decode() for fmt in ("json", "csv", "table")]
    sheet = load_workbook(io.BytesIO(report_exports.as_xlsx(report))).active
    cells = [str(cell) for line in sheet.iter_rows(values_only=True) for cell in line if cell is not None]
    for text in [*texts, " ".join(cells)]:
        assert "QNI" not in text and "Quảng Ninh" not in text
        assert "9999999" not in text.replace(".", "")
    assert report.to_dict()["total"]["pages"] == 22


def test_xlsx_reads_back_with_the_numbers_of_the_json(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "VN")
    data = json.loads(report_exports.as_json(report))
    sheet = load_workbook(io.BytesIO(report_exports.as_xlsx(report))).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[1][:2] == ("Đơn vị", f"{report.unit_name} (VN)")
    assert lines[3][:2] == ("Hạn nộp", "17/03/2024")
    header_at = next(i for i, line in enumerate(lines) if line and line[0] == "Mã đơn vị")
    table = lines[header_at + 1 :]
    keys = [column["key"] for column in data["columns"]]
    assert len(table) == len(data["rows"]) + 1
    for line, json_row in zip(table[:-1], data["rows"], strict=True):
        assert line[0] == json_row["unit_code"]
        assert list(line[2:]) == [json_row["values"][key] for key in keys]
        assert all(isinstance(value, int) for value in line[2:])
    assert table[-1][1] == "Tổng cộng"
    assert list(table[-1][2:]) == [data["total"][key] for key in keys]


def test_csv_has_the_keys_and_a_total_line(first_quarter: Session) -> None:
    report = quarter_report(first_quarter, "LCI")
    lines = list(csv.DictReader(io.StringIO(report_exports.as_csv(report))))
    assert [line["row_type"] for line in lines] == ["unit", "unit", "direct", "total"]
    assert int(lines[-1]["fines"]) == 106_500_000
    assert sum(int(line["pages"]) for line in lines[:-1]) == int(lines[-1]["pages"])


def test_pdf_export_is_a_pdf(first_quarter: Session) -> None:
    pdf = report_exports.as_pdf(quarter_report(first_quarter, "LCI"))
    assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf


# --- due list ----------------------------------------------------------------------------------------------


def test_due_list_shows_what_is_still_missing(first_quarter: Session) -> None:
    session = first_quarter
    due = {item.kind: item for item in upcoming(session, unit(session, "LCI"), date(2024, 3, 10), 17)}
    quarter = due["quarter"]
    assert (quarter.period.label, quarter.due_date, quarter.days_left) == ("2024-Q1", date(2024, 3, 17), 7)
    assert quarter.dossiers == 4
    assert quarter.not_handed_over == 3  # draft, failed draft, submitted; the accepted one is done
    assert quarter.unverified == 1
    assert [code for code, _ in quarter.teams_without_scans] == []
    march = due["month"]
    assert [code for code, _ in march.teams_without_scans] == ["LCI-D2"]
    assert (march.dossiers, march.not_handed_over) == (1, 1)
    assert due["half"].due_date == date(2024, 6, 17)
    assert not due["half"].complete


# --- the command -------------------------------------------------------------------------------------------


def test_cli_writes_each_format(first_quarter: Session, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["report", "quarter", "--period", "2024-Q1", "--unit", "LCI", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"]["cases"] == 4
    table = runner.invoke(main, ["report", "quarter", "--period", "2024-Q1", "--unit", "LCI"])
    assert "106.500.000" in table.output and "Tổng cộng" in table.output
    out = tmp_path / "q1.xlsx"
    written = runner.invoke(main, ["report", "quarter", "--period", "2024-Q1", "--format", "xlsx", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert load_workbook(out).active.max_row > 5
    due = runner.invoke(main, ["report", "due", "--unit", "LCI", "--today", "2024-03-10", "--json"])
    assert json.loads(due.output)[0]["period"] in ("2024-03", "2024-Q1")


def test_cli_refuses_a_period_of_another_kind(runtime: Runtime) -> None:
    result = CliRunner().invoke(main, ["report", "monthly", "--period", "2024-Q1"])
    assert result.exit_code == 2
    assert "needs a period like 2024-03" in result.output
    unknown = CliRunner().invoke(main, ["report", "year", "--period", "2024", "--unit", "NOPE"])
    assert unknown.exit_code == 3


def test_cli_takes_the_due_day_from_the_setting(
    first_quarter: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSO_REPORT_DUE_DAY", "18")
    monkeypatch.setattr(archive.runtime, "_current", None)  # the next command reads the settings again
    result = CliRunner().invoke(main, ["report", "half", "--period", "2024-H1", "--unit", "QNI", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["due_date"] == "2024-06-18"
