"""`hoso export DIR` and `hoso import DIR`: the archive as a BagIt package, and back into an empty instance.

Exit codes: 0 done; 1 export finished but some objects were missing or altered (listed; the package holds
what the store had); 2 refused (the directory is not empty, the package is damaged or of another schema,
the instance is not empty) with nothing written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from tqdm import tqdm

from archive.backup_export import BackupError, ExportResult, Progress, export_package
from archive.backup_import import ImportResult, import_package
from archive.db import upgrade
from archive.runtime import Runtime, current_runtime

EXIT_PROBLEMS = 1
EXIT_REFUSED = 2


class _Bars(Progress):
    """One tqdm bar per stage on stderr, each closed when the next starts; none with --json."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: tqdm | None = None

    def stage(self, name: str, total: int | None, unit: str) -> None:
        self.close()
        if self.enabled:
            self.bar = tqdm(total=total, unit=unit, unit_scale=unit == "B", desc=name, file=sys.stderr)

    def advance(self, amount: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


ResultT = TypeVar("ResultT")


def _runtime() -> Runtime:
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    return runtime


def _refuse(refused: BackupError, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": "refused", "detail": str(refused)}, ensure_ascii=False))
    click.echo(f"error: {refused}\nlỗi: không thực hiện được, không có gì bị ghi.", err=True)
    sys.exit(EXIT_REFUSED)


def _export_text(result: ExportResult) -> str:
    lines = [
        f"package written to {result.directory}: {sum(result.rows.values())} rows, {result.objects} objects "
        f"({result.object_bytes} bytes)",
        f"audit head {result.audit_head}",
        f"package fingerprint (SHA-256 of tagmanifest-sha256.txt): {result.fingerprint}",
    ]
    lines += [f"  {p.status.upper()} {p.key} (dossier {p.dossier_id})" for p in result.problems]
    if result.problems:
        lines.append("some objects were missing or altered: run `hoso fixity` (có tệp bị mất hoặc bị thay đổi)")
    return "\n".join(lines)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no progress bars).")
def export_command(directory: Path, as_json: bool) -> None:
    """Write every record and stored file to DIRECTORY as a BagIt package (a new or empty directory)."""
    result = _run(export_package, directory, as_json)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if as_json else _export_text(result))
    sys.exit(EXIT_PROBLEMS if result.problems else 0)


def _import_text(result: ImportResult) -> str:
    return (
        f"imported {result.directory}: {sum(result.rows.values())} rows, {result.objects} objects; "
        f"audit log {'intact' if result.audit_intact else 'BROKEN'} ({result.audit_entries} entries); "
        f"{result.pages_indexed} pages indexed"
    )


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no progress bars).")
def import_command(directory: Path, as_json: bool) -> None:
    """Check a package from `hoso export`, then restore it into this empty instance and rebuild the index."""
    result = _run(import_package, directory, as_json)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if as_json else _import_text(result))
    sys.exit(0 if result.audit_intact else EXIT_PROBLEMS)


def _run(operation: Callable[[Runtime, Path, Progress], ResultT], directory: Path, as_json: bool) -> ResultT:
    """Run an export or import with progress bars (none under --json); a refusal is reported and exits."""
    runtime = _runtime()
    bars = _Bars(enabled=not as_json)
    try:
        return operation(runtime, directory, bars)
    except BackupError as refused:
        bars.close()
        _refuse(refused, as_json)
    finally:
        bars.close()
