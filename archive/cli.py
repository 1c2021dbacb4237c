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
import pikepdf
from sqlalchemy import select
from tqdm import tqdm

from archive import accounts, leftovers
from archive.config import MissingSecretKey
from archive.db import upgrade
from archive.models import Dossier, Unit
from archive.runtime import Runtime, current_runtime
from ingest.errors import IngestError
from ingest.pipeline import page_counts, verification_report
from ingest.queue import JobQueue
from ingest.submit import submit
from ingest.watch import FolderWatch, WatchOutcome
from ocr.fast_check import fast_report
from ocr.raster import count_pages
from search.index import QuerySyntaxError

EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 130
EXIT_NOT_CONFIGURED = 78  # sysexits' EX_CONFIG: a required setting is missing
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
        runtime.settings.mark_demo()  # a demo may run without HOSO_SECRET_KEY (archive/config.py)
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
    leftovers.sweep(runtime.settings)
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

    from archive.fixity import FixitySchedule
    from archive.web import FORM_OVERHEAD_BYTES, create_app

    runtime = _prepared_runtime()
    logging.getLogger().setLevel(logging.INFO)
    settings = runtime.settings
    leftovers.sweep(settings)
    try:
        app = create_app(runtime)
    except MissingSecretKey as missing:
        logging.getLogger("archive.cli").error("hoso serve cannot start: %s", missing)
        sys.exit(EXIT_NOT_CONFIGURED)
    worker_process = None if no_worker else _start_worker_process()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fixity_schedule = FixitySchedule(runtime, settings.fixity_hours) if settings.fixity_hours > 0 else None
    if fixity_schedule is not None:
        fixity_schedule.start()
    try:
        address = f"http://{host or settings.host}:{port or settings.port}"
        click.echo(f"hoso serving on {address}", err=True)
        waitress_serve(
            app,
            host=host or settings.host,
            port=port or settings.port,
            threads=8,
            # waitress's own default (1 GiB) would refuse large scans with a bare 413 before hoso could answer.
            max_request_body_size=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        )
    finally:
        if fixity_schedule is not None:
            fixity_schedule.stop()
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
                    counts = page_counts(session, dossier_id)
                    status = session.scalar(select(Dossier.status).where(Dossier.id == dossier_id))
                done = counts.get("done", 0) + counts.get("failed", 0)
                failed = counts.get("failed", 0)
                bar.update(done - bar.n)
                if failed:
                    bar.set_postfix_str(f"{failed} failed (see `hoso verify`)", refresh=False)
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
    """Store a scanned dossier (PDF, or a TIFF, JPEG or PNG scan) and queue its pages for OCR."""
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
            "pages_failed": page_counts(session, current.id).get("failed", 0),
            "archive_pdf_sha256": current.archive_pdf_sha256,
        }
    note = "" if created else " (same original as an existing dossier)"
    _emit(data, as_json, f"dossier {data['dossier_id']}: {data['status']}, {data['page_count']} pages{note}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="Code of the unit (team) that owns the cases, e.g. LCI-D1.")
@click.option(
    "--case",
    "case_number",
    default=None,
    help="Case number for every file. Default: from each file's name (148-QĐ-XPHC.pdf is case 148/QĐ-XPHC).",
)
@click.option("--once", is_flag=True, help="Take the files there now, then stop (exit 2 if one was refused).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file, one per line.")
def watch(folder: Path, unit_code: str, case_number: str | None, once: bool, as_json: bool) -> None:
    """Ingest every scan dropped into FOLDER, then move it to done/ or to failed/ with NAME.error.txt.

    A file is taken once its size has not changed for HOSO_WATCH_SETTLE seconds. Run `hoso serve` or
    `hoso worker` beside it to process the queued pages.
    """
    runtime = _prepared_runtime()
    with runtime.sessions() as session:
        if session.scalar(select(Unit).where(Unit.code == unit_code)) is None:
            click.echo(f"error: no unit {unit_code!r}", err=True)
            sys.exit(EXIT_NOT_FOUND)
    settings = runtime.settings
    watcher = FolderWatch(runtime, JobQueue(settings), folder, unit_code, case_number, settings.watch_settle)
    refused: list[WatchOutcome] = []

    def report(outcome: WatchOutcome) -> None:
        if outcome.outcome == "refused":
            refused.append(outcome)
        if as_json:
            click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False))
        elif outcome.dossier_id:
            click.echo(f"{outcome.filename}: {outcome.outcome}, dossier {outcome.dossier_id} ({outcome.case_number})")
        else:
            click.echo(f"{outcome.filename}: refused, {outcome.error}: {outcome.detail}")

    if not once:
        click.echo(f"watching {folder} every {settings.watch_interval:g} s; Ctrl+C stops", err=True)
    try:
        watcher.run(settings.watch_interval, once, report)
    except KeyboardInterrupt:
        return
    sys.exit(EXIT_REFUSED if refused else 0)


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
@click.option(
    "--fast",
    is_flag=True,
    help="DOSSIER_ID is a PDF file: check its sheet numbers, orientation and cover at the scanner, before upload.",
)
def verify(dossier_id: str, as_json: bool, fast: bool) -> None:
    """Check a dossier's sheet numbering and cover, and list the findings."""
    if fast:
        _verify_file_fast(Path(dossier_id), as_json)
        return
    runtime = _prepared_runtime()
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier is None:
            click.echo(f"error: no dossier {dossier_id!r}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        report = verification_report(dossier)
    _emit(report, as_json, _format_report(report))
    sys.exit(0 if report["passed"] else 1)


def _verify_file_fast(pdf_path: Path, as_json: bool) -> None:
    """`verify --fast FILE`: no database, no upload; the report of ocr.fast_check with "mode": "fast"."""
    if not pdf_path.is_file():
        click.echo(f"error: no file {str(pdf_path)!r} / không tìm thấy tệp", err=True)
        sys.exit(EXIT_NOT_FOUND)
    try:
        page_count = count_pages(pdf_path)
    except pikepdf.PdfError as refused:
        click.echo(f"error: not a readable PDF ({refused}) / tệp không phải PDF đọc được", err=True)
        sys.exit(EXIT_REFUSED)
    with tqdm(total=page_count, unit="page", disable=as_json, file=sys.stderr, desc="corners") as bar:
        report = fast_report(pdf_path, progress=bar.update)
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


@main.command()
@click.option("--restart", is_flag=True, help="Start over even if an interrupted run could be resumed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (no progress bar).")
def reindex(restart: bool, as_json: bool) -> None:
    """Rebuild the search index from the database; an interrupted run resumes where it stopped."""
    from archive.reindex import dossiers_to_index
    from archive.reindex import reindex as rebuild

    runtime = _prepared_runtime()
    left, total = dossiers_to_index(runtime)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it like Ctrl-C
    bar = tqdm(total=total if restart else left, unit="dossier", disable=as_json, file=sys.stderr)
    try:
        with bar:
            summary = rebuild(runtime, restart=restart, on_progress=lambda dossiers, _pages: bar.update(dossiers))
    except KeyboardInterrupt:
        click.echo("interrupted: run `hoso reindex` again to resume (đã dừng; chạy lại để tiếp tục)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    data = {"dossiers": summary.dossiers, "pages": summary.pages, "resumed_after": summary.resumed_after}
    resumed = f" (resumed after dossier {summary.resumed_after})" if summary.resumed_after else ""
    _emit(data, as_json, f"indexed {summary.dossiers} dossiers, {summary.pages} pages{resumed}")


# The handover workflow and the audit log live in their own module; imported here, after `main` exists.
from archive.cli_handover import audit_group, handover  # noqa: E402

main.add_command(handover)
main.add_command(audit_group)

from archive.cli_cases import case_group  # noqa: E402

main.add_command(case_group)

from archive.cli_reports import report_group, retention_group  # noqa: E402

main.add_command(report_group)
main.add_command(retention_group)

from archive.cli_users import token_group, unit_group, user_group  # noqa: E402

main.add_command(user_group)
main.add_command(unit_group)
main.add_command(token_group)

from archive.cli_backup import export_command, import_command  # noqa: E402
from archive.cli_fixity import fixity_command  # noqa: E402

main.add_command(fixity_command)
main.add_command(export_command)
main.add_command(import_command)


if __name__ == "__main__":
    main()
