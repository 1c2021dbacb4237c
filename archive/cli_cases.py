"""`hoso case …`: case records from a terminal; today `hoso case import FILE` for INS exports.

Like the handover commands, the import names the person it acts for (``--user``): their role and unit
scope apply to every row exactly as in the web form, and the audit log records them from "cli@host".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from archive.case_import import ImportFileError, import_cases, iter_summary_lines, read_file
from archive.cli_handover import _actor, _emit, _runtime, json_option, user_option

EXIT_ROWS_REFUSED = 1
EXIT_FILE_UNREADABLE = 2


@click.group("case")
def case_group() -> None:
    """Case records (vụ việc): import INS exports."""


@case_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_option
@click.option("--unit", "unit_code", default="", help="Unit code for rows without a unit column or value.")
@click.option("--dry-run", is_flag=True, help="Check and report every row without saving anything.")
@json_option
def import_command(file: Path, username: str, unit_code: str, dry_run: bool, as_json: bool) -> None:
    """Create or update cases from an INS export (CSV or JSON); see docs/cases.md for the columns.

    Reports each row as created, updated, unchanged or refused with the reason; running the same file
    again changes nothing. Exit 1 when any row was refused, 2 when the file cannot be read.
    """
    runtime = _runtime()
    try:
        source = read_file(file)
    except ImportFileError as unreadable:
        if as_json:
            click.echo(json.dumps(unreadable.to_dict(), ensure_ascii=False))
        click.echo(f"error: {unreadable.detail}\nlỗi: {unreadable.message_vi} {unreadable.remedy_vi}", err=True)
        sys.exit(EXIT_FILE_UNREADABLE)
    with runtime.sessions() as session:
        actor = _actor(session, username)
        session.expunge(actor.user)
    with tqdm(total=len(source.records), unit="row", file=sys.stderr, disable=None) as bar:
        report = import_cases(
            runtime, actor, source, default_unit=unit_code, dry_run=dry_run, on_row=lambda _row: bar.update()
        )
    _emit(report.to_dict(), as_json, "\n".join(iter_summary_lines(report)))
    if report.counts()["refused"]:
        sys.exit(EXIT_ROWS_REFUSED)
