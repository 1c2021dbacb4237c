"""`hoso handover …` and `hoso audit …`: the handover workflow and the audit log from a terminal or a script.

The CLI runs on the server with full database access, so it names the person it acts for (``--user``) and
applies that person's role and scope exactly as the web does; the audit log records them, from "cli@host".
"""

from __future__ import annotations

import csv
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from archive import audit
from archive import handover as workflow
from archive.db import upgrade
from archive.handover_documents import DOCUMENTS, FontMissing, document_filename, render, summarise_batch
from archive.models import HandoverBatch, Unit, User
from archive.runtime import Runtime, current_runtime

EXIT_BROKEN = 1
EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3


def _runtime() -> Runtime:
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    return runtime


def _emit(data: object, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


def _actor(session: Session, username: str) -> workflow.Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"error: no user {username!r}", err=True)
        sys.exit(EXIT_NOT_FOUND)
    return workflow.Actor(user, f"cli@{socket.gethostname()}")


def _refused(refusal: workflow.HandoverRefused, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps(refusal.to_dict(), ensure_ascii=False))
    click.echo(f"error: {refusal.code}: {refusal.detail}\nlỗi: {refusal.message_vi} {refusal.remedy_vi}", err=True)
    sys.exit(EXIT_NOT_FOUND if refusal.http_status == 404 else EXIT_REFUSED)


Result = TypeVar("Result")


def _step(step: Callable[..., Result], session: Session, username: str, as_json: bool, *args: Any) -> Result:
    """Run one workflow step as ``username``; a refusal is printed and ends the command with its exit code."""
    try:
        return step(session, _actor(session, username), *args)
    except workflow.HandoverRefused as refusal:
        _refused(refusal, as_json)


def _state(dossier: Any) -> dict[str, Any]:
    return {
        "dossier_id": dossier.id,
        "version": dossier.version,
        "handover_state": dossier.handover_state,
        "handover_reason": dossier.handover_reason,
        "retention": dossier.retention,
        "handover_batch_id": dossier.handover_batch_id,
    }


user_option = click.option("--user", "username", required=True, help="User name of the person acting.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def handover() -> None:
    """Submit dossiers, approve or return them (team leader), accept or reject them (archivist), print documents."""


@handover.command()
@click.argument("dossier_id")
@user_option
@click.option("--reason", default="", help="Explanation; required when the dossier did not pass verification.")
@json_option
def submit(dossier_id: str, username: str, reason: str, as_json: bool) -> None:
    """Submit a processed dossier: an officer's waits for the team leader, the team leader's goes to the archive."""
    with _runtime().sessions() as session:
        dossier = _step(workflow.submit, session, username, as_json, dossier_id, reason)
        _emit(_state(dossier), as_json, f"dossier {dossier.id}: {dossier.handover_state}")


@handover.command()
@click.argument("dossier_ids", nargs=-1, required=True)
@user_option
@json_option
def approve(dossier_ids: tuple[str, ...], username: str, as_json: bool) -> None:
    """Approve officers' proposed dossiers for the archive (team leader); all of them or, if one is refused, none."""
    with _runtime().sessions() as session:
        dossiers = _step(workflow.approve, session, username, as_json, dossier_ids)
        text = "\n".join(f"dossier {dossier.id}: submitted" for dossier in dossiers)
        _emit([_state(dossier) for dossier in dossiers], as_json, text)


@handover.command(name="return")
@click.argument("dossier_id")
@user_option
@click.option("--reason", required=True, help="What the officer must do before proposing it again.")
@json_option
def return_(dossier_id: str, username: str, reason: str, as_json: bool) -> None:
    """Return an officer's proposed dossier to draft with a reason (team leader)."""
    with _runtime().sessions() as session:
        dossier = _step(workflow.send_back, session, username, as_json, dossier_id, reason)
        _emit(_state(dossier), as_json, f"dossier {dossier.id}: returned to draft")


@handover.command()
@click.argument("dossier_ids", nargs=-1, required=True)
@user_option
@click.option("--retention", default="", help="Retention period for dossiers whose cover leaves it blank.")
@json_option
def accept(dossier_ids: tuple[str, ...], username: str, retention: str, as_json: bool) -> None:
    """Accept submitted dossiers of one team into the archive as one batch (archivist above the team)."""
    with _runtime().sessions() as session:
        batch = _step(workflow.accept, session, username, as_json, dossier_ids, retention)
        dossiers = workflow.batch_dossiers(session, batch.id)
        data = {"batch_id": batch.id, "dossiers": [_state(dossier) for dossier in dossiers]}
        _emit(data, as_json, f"batch {batch.id}: accepted {len(dossiers)} dossier(s)")


@handover.command()
@click.argument("dossier_id")
@user_option
@click.option("--reason", required=True, help="What the team must correct.")
@json_option
def reject(dossier_id: str, username: str, reason: str, as_json: bool) -> None:
    """Send a submitted dossier back to its team with a reason (archivist above the team)."""
    with _runtime().sessions() as session:
        dossier = _step(workflow.reject, session, username, as_json, dossier_id, reason)
        _emit(_state(dossier), as_json, f"dossier {dossier.id}: rejected")


@handover.command()
@user_option
@json_option
def queue(username: str, as_json: bool) -> None:
    """List the dossiers waiting within the user's units, longest waiting first.

    The team's people see what waits for the team leader ("proposed") too, the others what waits for the archive.
    """
    with _runtime().sessions() as session:
        actor = _actor(session, username)
        waiting = workflow.queue_for(session, actor.user)
        rows = [_state(dossier) | {"case_number": dossier.case.case_number} for dossier in waiting]
        lines = [f"{len(rows)} dossier(s) waiting"] + [
            f"{row['dossier_id']}  {row['handover_state']:<9}  {row['case_number']}" for row in rows
        ]
        _emit(rows, as_json, "\n".join(lines))


@handover.command()
@click.argument("batch_id", type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory.")
@json_option
def documents(batch_id: int, out_dir: Path, as_json: bool) -> None:
    """Write the batch's "Mục lục hồ sơ, tài liệu nộp lưu" and "Biên bản giao nhận" as PDF."""
    with _runtime().sessions() as session:
        batch = session.get(HandoverBatch, batch_id)
        if batch is None:
            click.echo(f"error: no handover batch {batch_id}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        summary = summarise_batch(session, batch)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DOCUMENTS:
        try:
            content = render(kind, summary)
        except FontMissing as missing:
            click.echo(f"error: {missing}", err=True)
            sys.exit(EXIT_REFUSED)
        path = out_dir / document_filename(kind, batch_id)
        path.write_bytes(content)
        written.append(str(path))
    _emit({"batch_id": batch_id, "files": written}, as_json, "\n".join(written))


@click.group(name="audit")
def audit_group() -> None:
    """Check and export the hash-chained audit log."""


@audit_group.command()
@click.option("--expect-head", default=None, help="An entry hash recorded earlier; fails if it is gone.")
@json_option
def verify(expect_head: str | None, as_json: bool) -> None:
    """Walk the chain; exit 1 at the first edited, reordered or deleted entry."""
    with _runtime().sessions() as session:
        report = audit.verify_chain(session, expect_head)
    text = f"audit log intact: {report.entries} entries, head {report.head}"
    if report.problem is not None:
        text = f"audit log BROKEN after {report.entries - 1} good entries: {report.problem.message}"
    _emit(report.to_dict(), as_json, text)
    sys.exit(0 if report.intact else EXIT_BROKEN)


@audit_group.command()
@click.option("--json", "as_format", flag_value="json", help="JSON: the entries and the head.")
@click.option("--csv", "as_format", flag_value="csv", default=True, help="CSV, one entry a line (default).")
@click.option("--unit", "unit_code", default=None, help="Only entries about this unit and the units under it.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File.")
def export(as_format: str, unit_code: str | None, out_file: Path | None) -> None:
    """Export the audit log for auditors, with the hashes to re-check it elsewhere."""
    with _runtime().sessions() as session:
        unit_path = None
        if unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                click.echo(f"error: no unit {unit_code!r}", err=True)
                sys.exit(EXIT_NOT_FOUND)
            unit_path = unit.path
        rows = list(
            tqdm(audit.export_rows(session, unit_path), unit="entry", file=sys.stderr, disable=out_file is None)
        )
        head = audit.head(session)
    stream = out_file.open("w", encoding="utf-8", newline="") if out_file else sys.stdout
    try:
        if as_format == "json":
            json.dump({"head": head, "entries": rows}, stream, ensure_ascii=False, indent=2, default=str)
            stream.write("\n")
        else:
            writer = csv.DictWriter(stream, fieldnames=audit.EXPORT_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow(row | {"detail": json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)})
    finally:
        if out_file:
            stream.close()
