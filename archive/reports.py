"""The reports leadership asks for: the monthly scan count per team and the periodic report of Circular 55/2020.

``build_report`` reads one unit's subtree for one period and returns a ``Report``: one row per team, teams
grouped under their province with a subtotal row, and the total. Every row above a team is the sum of the
rows below it plus the records attached to that unit itself (shown as a "trực tiếp" row when there are
any), so the figures add up exactly at every level; the exports (``archive.report_exports``), the CLI and
the web only present a ``Report``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import report_queries as queries
from archive.models import Unit
from archive.report_periods import Period, due_day_for, trend_months


@dataclass(frozen=True)
class Column:
    key: str
    label_vi: str
    label_en: str
    money: bool = False  # VND amounts


MONTHLY_COLUMNS = (
    Column("dossiers", "Hồ sơ đã số hóa", "Dossiers scanned"),
    Column("pages", "Số trang", "Pages"),
    Column("verify_passed", "Kiểm tra đạt", "Verification passed"),
    Column("verify_with_findings", "Đạt, có cảnh báo", "Passed with warnings"),
    Column("verify_failed", "Không đạt", "Verification failed"),
    Column("verify_pending", "Chưa kiểm tra", "Not verified yet"),
    Column("handed_over", "Đã nộp lưu", "Handed over (accepted)"),
)
PERIODIC_COLUMNS = (
    Column("cases", "Số vụ việc", "Cases"),
    Column("dossiers", "Hồ sơ đã số hóa", "Dossiers scanned"),
    Column("pages", "Số trang", "Pages"),
    Column("fines", "Tiền phạt (đồng)", "Fines (VND)", money=True),
    Column("confiscated_value", "Trị giá hàng tịch thu (đồng)", "Confiscated goods (VND)", money=True),
    Column("goods_sold_value", "Trị giá hàng tịch thu đã bán (đồng)", "Confiscated goods sold (VND)", money=True),
    Column("handed_over", "Hồ sơ đã nộp lưu", "Dossiers handed over"),
    Column("late_digitizations", "Số hóa chậm (quá 48 giờ)", "Late digitisations (over 48 h)"),
)
REPORT_TITLES_VI = {
    "month": "Báo cáo số hóa hồ sơ hằng tháng",
    "quarter": "Báo cáo định kỳ quý",
    "half": "Báo cáo định kỳ 6 tháng",
    "year": "Báo cáo định kỳ năm",
}


def columns_for(kind: str) -> tuple[Column, ...]:
    return MONTHLY_COLUMNS if kind == "month" else PERIODIC_COLUMNS


@dataclass(frozen=True)
class ReportRow:
    """``row_type``: "unit" (a unit without units below it), "direct" (records attached to a unit that has units
    below it), "subtotal" (a unit and everything below it). ``depth`` counts from the report's unit."""

    unit_code: str
    unit_name: str
    level: str
    row_type: str
    depth: int
    values: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "level": self.level,
            "row_type": self.row_type,
            "depth": self.depth,
            "values": dict(self.values),
        }


@dataclass(frozen=True)
class Report:
    kind: str
    period: Period
    unit_code: str
    unit_name: str
    due_date: date
    generated_at: datetime
    columns: tuple[Column, ...]
    rows: list[ReportRow]
    total: dict[str, int]
    trend: list[tuple[Period, int, int]] = field(default_factory=list)  # month, dossiers, pages

    @property
    def title_vi(self) -> str:
        return REPORT_TITLES_VI[self.kind]

    @property
    def team_rows(self) -> list[ReportRow]:
        """Rows of units without units below them: the bars of the per-team chart."""
        return [row for row in self.rows if row.row_type == "unit"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "period": self.period.label,
            "period_vi": self.period.label_vi,
            "unit": {"code": self.unit_code, "name": self.unit_name},
            "due_date": self.due_date.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "columns": [{"key": c.key, "label_vi": c.label_vi, "label_en": c.label_en} for c in self.columns],
            "rows": [row.to_dict() for row in self.rows],
            "total": dict(self.total),
            "trend": [{"month": month.label, "dossiers": d, "pages": p} for month, d, p in self.trend],
        }


def subtree_units(session: Session, unit: Unit) -> list[Unit]:
    return list(session.scalars(select(Unit).where(queries.subtree_filter(unit.path)).order_by(Unit.path)))


def _figures(session: Session, kind: str, path: str, period: Period) -> queries.Figures:
    scans = queries.scan_figures(session, path, period)
    handovers = queries.handover_figures(session, path, period)
    if kind == "month":
        return queries.merged(scans, handovers)
    return queries.merged(scans, handovers, queries.case_figures(session, path, period))


def _rows(
    unit: Unit, children: dict[int, list[Unit]], own: queries.Figures, keys: list[str], depth: int = 0
) -> tuple[list[ReportRow], Counter[str]]:
    """The rows of ``unit``'s subtree, depth first, and its total (its own figures plus its children's totals)."""

    def row(row_type: str, values: Counter[str]) -> ReportRow:
        return ReportRow(unit.code, unit.name, unit.level, row_type, depth, {key: values[key] for key in keys})

    mine = own.get(unit.id, Counter())
    below = children.get(unit.id, [])
    if not below:
        return [row("unit", mine)], Counter(mine)
    rows: list[ReportRow] = []
    total: Counter[str] = Counter(mine)
    for child in below:
        child_rows, child_total = _rows(child, children, own, keys, depth + 1)
        rows += child_rows
        total.update(child_total)
    if any(mine[key] for key in keys):
        rows.append(row("direct", mine))
    rows.append(row("subtotal", total))
    return rows, total


def build_report(
    session: Session,
    kind: str,
    period: Period,
    unit: Unit,
    default_due_day: int,
    now: datetime | None = None,
    with_trend: bool = True,
) -> Report:
    """The report of ``kind`` for ``period`` over ``unit`` and every unit below it."""
    if period.kind != kind:
        raise ValueError(f"a {kind} report needs a {kind} period, not {period.label}")
    units = subtree_units(session, unit)
    children: dict[int, list[Unit]] = {}
    for member in units:
        if member.id != unit.id and member.parent_id is not None:
            children.setdefault(member.parent_id, []).append(member)
    columns = columns_for(kind)
    keys = [column.key for column in columns]
    rows, total = _rows(unit, children, _figures(session, kind, unit.path, period), keys)
    if rows and rows[-1].row_type == "subtotal" and rows[-1].unit_code == unit.code:
        rows = rows[:-1]  # the report unit's own subtotal is the total line
    trend = []
    if with_trend:
        months = queries.monthly_scans(session, unit.path, trend_months(period))
        trend = [(month, counts["dossiers"], counts["pages"]) for month, counts in months.items()]
    return Report(
        kind=kind,
        period=period,
        unit_code=unit.code,
        unit_name=unit.name,
        due_date=period.due_date(due_day_for(unit, default_due_day)),
        generated_at=now or datetime.now(UTC),
        columns=columns,
        rows=rows,
        total={key: total[key] for key in keys},
        trend=trend,
    )
