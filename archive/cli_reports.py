"""`hoso report …` and `hoso retention …`: the reports and the retention review list from a terminal or a script.

The CLI runs on the server with full database access, so it acts as the system: ``--unit`` chooses whose
subtree is counted (default: the top of the tree) and nothing else limits it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import report_exports, retention
from archive.db import upgrade
from archive.handover_documents import FontMissing
from archive.models import Unit, utcnow
from archive.report_due import upcoming
from archive.report_periods import PeriodError, parse_period, vietnam_date
from archive.reports import build_report
from archive.runtime import Runtime, current_runtime

EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3
# The CLI's word for each kind; "monthly" reads better on a command line than "month".
COMMAND_KINDS = {"monthly": "month", "quarter": "quarter", "half": "half", "year": "year"}
_PERIODIC = "cases, dossiers scanned, pages, fines, confiscated goods and goods sold, handovers, late digitisations"
COMMAND_HELP = {
    "month": "The monthly count per team (dossiers scanned, pages, verification results, handovers) of a month "
    "like 2024-03, over --unit and every unit below it.",
    "quarter": f"The quarterly report ({_PERIODIC}) of a quarter like 2024-Q1, per unit.",
    "half": f"The half-year report ({_PERIODIC}) of a half like 2024-H1, per unit.",
    "year": f"The yearly report ({_PERIODIC}) of a year like 2024, per unit.",
}


def _runtime() -> Runtime:
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    return runtime


def _unit(session: Session, code: str | None) -> Unit:
    """The unit of that code, or the top of the tree when none is given."""
    query = select(Unit).where(Unit.code == code) if code else select(Unit).where(Unit.parent_id.is_(None))
    units = list(session.scalars(query.order_by(Unit.path)))
    if len(units) != 1:
        what = f"no unit {code!r}" if code else "no single top unit; give --unit CODE"
        click.echo(f"error: {what}\nlỗi: không tìm thấy đơn vị.", err=True)
        sys.exit(EXIT_NOT_FOUND)
    return units[0]


def _today(value: str | None) -> date:
    if not value:
        return vietnam_date(utcnow())
    try:
        return date.fromisoformat(value)
    except ValueError:
        click.echo(f"error: --today must be YYYY-MM-DD, not {value!r}", err=True)
        sys.exit(EXIT_REFUSED)


def _listing_options(command: Callable[..., None]) -> Callable[..., None]:
    """--unit, --today and --json, shared by the listings (due reports, retention review)."""
    for option in reversed(
        (
            click.option("--unit", "unit_code", default=None, help="Unit code (default: the top of the tree)."),
            click.option(
                "--today", default=None, help="Count as if today were YYYY-MM-DD (default: today in Viet Nam)."
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        )
    ):
        command = option(command)
    return command


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("report")
def report_group() -> None:
    """Monthly and periodic reports (Circular 55/2020/TT-BCT) and their due dates."""


def _report_command(command: str, kind: str) -> click.Command:
    @click.command(command, help=COMMAND_HELP[kind])
    @click.option("--period", "period_text", required=True, help="2024-03 (month), 2024-Q1, 2024-H1 or 2024.")
    @click.option("--unit", "unit_code", default=None, help="Unit code (default: the top of the tree).")
    @click.option("--format", "fmt", type=click.Choice(report_exports.FORMATS), default="table", show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
    def run(period_text: str, unit_code: str | None, fmt: str, as_json: bool, out: Path | None) -> None:
        fmt = "json" if as_json else fmt
        if fmt in ("xlsx", "pdf") and out is None:
            raise click.UsageError(f"--format {fmt} writes a binary file: give --out FILE")
        try:
            period = parse_period(period_text, kind)
        except PeriodError as refused:
            click.echo(f"error: {refused.detail}\nlỗi: {refused.message_vi} {refused.remedy_vi}", err=True)
            sys.exit(EXIT_REFUSED)
        runtime = _runtime()
        with runtime.sessions() as session:
            report = build_report(session, kind, period, _unit(session, unit_code), runtime.settings.report_due_day)
        try:
            content = report_exports.render(report, fmt)
        except FontMissing as missing:
            click.echo(f"error: {missing}", err=True)
            sys.exit(EXIT_REFUSED)
        if out is None:
            click.echo(content.decode("utf-8"), nl=not content.endswith(b"\n"))
        else:
            out.write_bytes(content)
            click.echo(f"{out}", err=True)

    return run


for _command, _kind in COMMAND_KINDS.items():
    report_group.add_command(_report_command(_command, _kind))


@report_group.command("due")
@_listing_options
def due(unit_code: str | None, today: str | None, as_json: bool) -> None:
    """The next due date of each report and what is still missing for it."""
    runtime = _runtime()
    with runtime.sessions() as session:
        items = upcoming(session, _unit(session, unit_code), _today(today), runtime.settings.report_due_day)
    if as_json:
        _echo_json([item.to_dict() for item in items])
        return
    for item in items:
        click.echo(
            f"{item.due_date.isoformat()}  {item.period.label:<8} ({item.days_left} ngày)  {item.dossiers} hồ sơ"
        )
        if item.teams_without_scans:
            click.echo("    đội chưa có hồ sơ số hóa: " + ", ".join(code for code, _ in item.teams_without_scans))
        if item.not_handed_over:
            click.echo(f"    hồ sơ chưa nộp lưu: {item.not_handed_over}")
        if item.unverified:
            click.echo(f"    hồ sơ chưa kiểm tra xong: {item.unverified}")


@click.group("retention")
def retention_group() -> None:
    """Retention periods of archived dossiers: the review list (nothing is ever deleted automatically)."""


@retention_group.command("due")
@_listing_options
def retention_due(unit_code: str | None, today: str | None, as_json: bool) -> None:
    """Archived dossiers past their retention period, or with one that cannot be read, for a person to review."""
    runtime = _runtime()
    with runtime.sessions() as session:
        items = retention.review_list(session, _unit(session, unit_code).path, _today(today))
    if as_json:
        _echo_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo("Không có hồ sơ nào hết thời hạn bảo quản.")
    for item in items:
        when = item.review_from.isoformat() if item.review_from else "?"
        click.echo(f"{item.status:<8} {when:<10}  {item.unit_code:<8} {item.case_number:<20} {item.retention_text!r}")
    click.echo("Không hồ sơ nào bị xóa tự động. / Nothing is deleted automatically.", err=True)
