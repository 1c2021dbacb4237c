"""The `hoso` command: set up, serve, run workers, ingest, verify and search from a terminal or a script.

Every command has --help; those a script would read have --json. Errors go to stderr in English and
Vietnamese with a non-zero exit code.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy import select
from tqdm import tqdm

from archive import accounts
from archive.db import upgrade
from archive.models import Dossier, Unit
from archive.runtime import Runtime, current_runtime
from ingest.errors import IngestError
from ingest.pipeline import verification_report
from ingest.queue import JobQueue
from ingest.submit import submit
from search.index import QuerySyntaxError

EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3
FINAL_STATUSES = ("processed", "failed")


def _emit(data: object, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _prepared_runtime() -> Runtime:
    """The runtime with its directories made and the schema migrated: every command can run on a fresh home."""
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    return runtime


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """hoso: the scan archive for market-surveillance case dossiers."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--demo", is_flag=True, help="Add the demo unit tree (VN, LCI, QNI, their teams) and a user per role.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init(demo: bool, as_json: bool) -> None:
    """Create the data directory and the database schema (safe to run again)."""
    runtime = _prepared_runtime()
    logins: list[accounts.DemoLogin] = []
    if demo:
        with runtime.sessions() as session:
            logins = accounts.install_demo(session)
    data = {"home": str(runtime.settings.home), "demo_users": [login.__dict__ for login in logins]}
    lines = [f"hoso data directory: {runtime.settings.home}"]
    if logins:
        lines.append("Demo logins (tài khoản dùng thử):")
        lines += [f"  {lg.username:<10} / {lg.password}   {lg.role:<12} {lg.unit_code}" for lg in logins]
    _emit(data, as_json, "\n".join(lines))


@main.command()
def worker() -> None:
    """Run page jobs from the queue until stopped (one process per HOSO_WORKERS)."""
    runtime = _prepared_runtime()
    logging.getLogger().setLevel(logging.INFO)
    JobQueue(runtime.settings).run_worker()


def _start_worker_process(log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """`hoso worker` as a child process; its log goes to ``log_path`` when given (not over a progress bar)."""
    log_file = None if log_path is None else log_path.open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "archive.cli", "worker"], stderr=log_file, stdout=log_file)
    finally:
        if log_file is not None:
            log_file.close()


@main.command()
@click.option("--host", default=None, help="Listen address (HOSO_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (HOSO_PORT, default 8000).")
@click.option("--no-worker", is_flag=True, help="Serve the web app only; run `hoso worker` elsewhere.")
def serve(host: str | None, port: int | None, no_worker: bool) -> None:
    """Serve the web app and API, with a worker process for the page jobs."""
    from waitress import serve as waitress_serve

    from archive.web import create_app

    runtime = _prepared_runtime()
    logging.getLogger().setLevel(logging.INFO)
    settings = runtime.settings
    worker_process = None if no_worker else _start_worker_process()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        address = f"http://{host or settings.host}:{port or settings.port}"
        click.echo(f"hoso serving on {address}", err=True)
        waitress_serve(create_app(runtime), host=host or settings.host, port=port or settings.port, threads=8)
    finally:
        if worker_process is not None:
            worker_process.terminate()
            worker_process.wait(timeout=30)


def _wait_for(runtime: Runtime, dossier_id: str, page_count: int, show_progress: bool) -> None:
    """Block until the dossier is processed, with a progress bar of pages done."""
    queue_worker = None
    if not JobQueue(runtime.settings).worker_alive():
        queue_worker = _start_worker_process(runtime.settings.home / "worker.log")
    try:
        with tqdm(total=page_count, unit="page", disable=not show_progress, file=sys.stderr) as bar:
            while True:
                with runtime.sessions() as session:
                    dossier = session.get(Dossier, dossier_id)
                    assert dossier is not None
                    done = sum(page.status != "pending" for page in dossier.pages)
                    status = dossier.status
                bar.update(done - bar.n)
                if status in FINAL_STATUSES:
                    return
                if queue_worker is not None and queue_worker.poll() is not None:
                    raise click.ClickException(
                        f"the worker stopped unexpectedly (exit {queue_worker.returncode}); "
                        f"see {runtime.settings.home / 'worker.log'}"
                    )
                time.sleep(0.5)
    finally:
        if queue_worker is not None and queue_worker.poll() is None:
            queue_worker.terminate()
            queue_worker.wait(timeout=30)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--case", "case_number", required=True, help="Case number the dossier belongs to (created if new).")
@click.option("--unit", "unit_code", required=True, help="Code of the unit (team) that owns the case, e.g. LCI-D1.")
@click.option("--wait", is_flag=True, help="Wait until every page is processed (starts a worker if none runs).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ingest(file: Path, case_number: str, unit_code: str, wait: bool, as_json: bool) -> None:
    """Store a scanned dossier (PDF) and queue its pages for OCR."""
    runtime = _prepared_runtime()
    queue = JobQueue(runtime.settings)
    try:
        with file.open("rb") as stream:
            dossier, created = submit(runtime, queue, stream, file.name, case_number, unit_code)
    except IngestError as refused:
        if as_json:
            click.echo(json.dumps(refused.to_dict(), ensure_ascii=False))
        click.echo(f"error: {refused.code}: {refused.detail}\nlỗi: {refused.message_vi} {refused.remedy_vi}", err=True)
        sys.exit(EXIT_REFUSED)
    if wait:
        _wait_for(runtime, dossier.id, dossier.page_count, show_progress=not as_json)
    with runtime.sessions() as session:
        current = session.get(Dossier, dossier.id)
        assert current is not None
        data = {
            "dossier_id": current.id,
            "status": current.status,
            "created": created,
            "page_count": current.page_count,
            "sha256": current.original_sha256,
        }
    note = "" if created else " (same original as an existing dossier)"
    _emit(data, as_json, f"dossier {data['dossier_id']}: {data['status']}, {data['page_count']} pages{note}")


def _format_report(report: dict) -> str:
    lines = [f"dossier {report['dossier_id']} ({report['status']}, {report['page_count']} pages)"]
    cover = report["cover"]
    lines.append(f"cover: page {cover['page']}" if cover["present"] else "cover: missing")
    lines.append("page  sheet  conf  rot  role      doc_type")
    for page in report["pages"]:
        confidence = "" if page["sheet_confidence"] is None else f"{page['sheet_confidence']:.2f}"
        lines.append(
            f"{page['page']:>4}  {page['sheet_number'] or '-':>5}  {confidence:>4}  {page['rotation']:>3}  "
            f"{page['role']:<8}  {page['doc_type'] or ''}"
        )
    lines.append("findings:" if report["findings"] else "findings: none")
    for finding in report["findings"]:
        lines.append(f"  [{finding['severity']}] {finding['code']} pages {finding['pages']}: {finding['message']}")
    lines.append("PASSED" if report["passed"] else "NOT PASSED")
    return "\n".join(lines)


@main.command()
@click.argument("dossier_id")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the verify contract).")
def verify(dossier_id: str, as_json: bool) -> None:
    """Check a dossier's sheet numbering and cover, and list the findings."""
    runtime = _prepared_runtime()
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            click.echo(f"error: no dossier {dossier_id!r}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        report = verification_report(dossier)
    _emit(report, as_json, _format_report(report))
    sys.exit(0 if report["passed"] else 1)


@main.command()
@click.argument("query")
@click.option("--unit", "unit_code", default=None, help="Only this unit and the units under it.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search(query: str, unit_code: str | None, limit: int, as_json: bool) -> None:
    """Full-text search over every OCR'd page, with or without diacritics."""
    runtime = _prepared_runtime()
    scope = None
    if unit_code:
        with runtime.sessions() as session:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                click.echo(f"error: no unit {unit_code!r}", err=True)
                sys.exit(EXIT_NOT_FOUND)
            scope = unit.path
    try:
        result = runtime.index.search(query, scope=scope, limit=limit)
    except QuerySyntaxError as bad_query:
        click.echo(f"error: {bad_query}", err=True)
        sys.exit(EXIT_REFUSED)
    hits = [hit.__dict__ for hit in result.hits]
    lines = [f"{result.total} pages"] + [
        f"{hit['dossier_id']} p.{hit['page']} ({hit['case_number']}, {hit['unit_code']}) {hit['snippet_html']}"
        for hit in hits
    ]
    _emit({"total": result.total, "hits": hits}, as_json, "\n".join(lines))


if __name__ == "__main__":
    main()
