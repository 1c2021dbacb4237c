"""Reports in the web app: the report page with its charts, XLSX and PDF exports, the retention review list, the
dashboard's "reports coming due" panel, and the same report as JSON under /api/v1.

Every signed-in person may read reports, of their own unit subtree only: a ``unit`` outside it answers 404, as
if it did not exist, and the figures are counted over the chosen unit's subtree, so nothing of another
province reaches the table, the charts or an export. The figures come from ``archive.reports``; this module
reads the query string and shapes responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Flask, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from archive import report_exports, retention
from archive.models import Unit, User, covers, utcnow
from archive.report_charts import bar_chart, trend_chart
from archive.report_due import DueReport, upcoming
from archive.report_periods import KINDS, Period, parse_period, period_containing, vietnam_date
from archive.reports import Column, Report, build_report
from archive.web import context
from archive.web.language import current_language
from archive.web.scope import units_in_scope

bp = Blueprint("reports", __name__)
api_bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")

EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    period: Period
    unit: Unit


def _today() -> date:
    return vietnam_date(utcnow())


def _unit_in_scope(session: Session, user: User, code: str) -> Unit:
    """The unit of that code when it is the user's or below it; 404 for others, exactly like a missing one."""
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else user.unit
    if unit is None or not covers(user, unit.path):
        raise NotFound(f"No unit {code!r} in your units.")
    return unit


def _requested(kind: str | None = None) -> ReportRequest:
    """Kind, period and unit from the query string; defaults: the monthly report of this month, own unit."""
    kind = kind or request.args.get("kind", "month")
    if kind not in KINDS:
        raise NotFound(f"No report kind {kind!r}; use one of {', '.join(KINDS)}.")
    text = request.args.get("period", "").strip()
    period = parse_period(text, kind) if text else period_containing(kind, _today())
    user = context.current_user()
    return ReportRequest(kind, period, _unit_in_scope(context.db(), user, request.args.get("unit", "").strip()))


def _report(asked: ReportRequest, with_trend: bool = True) -> Report:
    due_day = context.runtime().settings.report_due_day
    return build_report(context.db(), asked.kind, asked.period, asked.unit, due_day, with_trend=with_trend)


def due_reports(session: Session, user: User, today: date) -> list[DueReport]:
    """The next due report of each kind for the user's subtree and what it still lacks (the dashboard's panel)."""
    return upcoming(session, user.unit, today, context.runtime().settings.report_due_day)


def reports_due() -> list[DueReport]:
    """``due_reports`` for the signed-in user today, for templates (``reports/_due.html`` calls it)."""
    return due_reports(context.db(), context.current_user(), _today())


def period_name(period: Period) -> str:
    """ "Quý 1/2024" in Vietnamese; the period's own label ("2024-Q1") under the English switch."""
    return period.label if current_language() == "en" else period.label_vi


def column_name(column: Column) -> str:
    return column.label_en if current_language() == "en" else column.label_vi


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.add_template_global(reports_due)
    app.add_template_filter(report_exports.grouped, "grouped")
    app.add_template_filter(period_name)
    app.add_template_filter(column_name)


@bp.get("/reports")
def index() -> str:
    asked = _requested()
    report = _report(asked)
    bars = bar_chart([(f"{row.unit_code} · {row.unit_name}", row.values["dossiers"]) for row in report.team_rows])
    trend = trend_chart([(month, dossiers) for month, dossiers, _pages in report.trend])
    return render_template(
        "reports/index.html",
        report=report,
        asked=asked,
        kinds=KINDS,
        units=units_in_scope(context.db(), context.current_user()),
        bars=bars,
        trend=trend,
    )


def _export(fmt: str) -> Response:
    report = _report(_requested(), with_trend=False)
    filename = f"bao-cao-{report.unit_code}-{report.period.label}.{fmt}"
    response = Response(report_exports.render(report, fmt), mimetype=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/reports/export.xlsx")
def export_xlsx() -> Response:
    return _export("xlsx")


@bp.get("/reports/export.pdf")
def export_pdf() -> Response:
    return _export("pdf")


@bp.get("/reports/retention")
def retention_review() -> str:
    unit = _unit_in_scope(context.db(), context.current_user(), request.args.get("unit", "").strip())
    items = retention.review_list(context.db(), unit.path, _today())
    return render_template(
        "reports/retention.html", items=items, unit=unit, units=units_in_scope(context.db(), context.current_user())
    )


@api_bp.get("/reports/<report_kind>")
def report_json(report_kind: str) -> dict[str, Any]:
    """``report_kind``: month, quarter, half or year (``monthly`` is accepted like on the command line)."""
    kind = "month" if report_kind == "monthly" else report_kind
    return _report(_requested(kind)).to_dict()
