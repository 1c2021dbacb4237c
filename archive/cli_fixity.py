"""`hoso fixity`: re-hash every stored object the records name and report what is missing or altered.

Exit 0 when every object is as recorded, 1 when one is missing or altered (a cron job or a monitoring check
reads the exit code; `--json` gives the whole result). The run is stored and audited like a scheduled one.
"""

from __future__ import annotations

import json
import sys

import click
from tqdm import tqdm

from archive.db import upgrade
from archive.fixity import FixityResult, check_objects, dossier_count
from archive.runtime import current_runtime

EXIT_PROBLEMS = 1


def _summary(result: FixityResult) -> str:
    lines = [
        f"fixity run {result.run_id}: {result.dossiers} dossiers, {result.objects_checked} objects, "
        f"{result.bytes_checked} bytes read; {result.missing} missing, {result.altered} altered"
        + (f"; {result.recorded} checksums recorded for the first time" if result.recorded else "")
    ]
    for problem in result.problems:
        found = "" if problem.found_sha256 is None else f", found {problem.found_sha256}"
        lines.append(
            f"  {problem.status.upper()} {problem.kind} {problem.key} (dossier {problem.dossier_id}, "
            f"case {problem.case_number}, {problem.unit_path}): expected {problem.expected_sha256}{found}"
        )
    lines.append("all objects intact" if result.intact else "PROBLEMS FOUND (có tệp bị mất hoặc bị thay đổi)")
    return "\n".join(lines)


@click.command("fixity")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no progress bar).")
def fixity_command(as_json: bool) -> None:
    """Re-hash every original and derived file; exit 1 if one is missing or altered."""
    runtime = current_runtime()
    upgrade(runtime.settings.database_url)
    with runtime.sessions() as session:
        total = dossier_count(session)
    with tqdm(total=total, unit="dossier", disable=as_json, file=sys.stderr, desc="fixity") as bar:
        result = check_objects(runtime, trigger="command", on_dossier=lambda: bar.update(1))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(result))
    sys.exit(0 if result.intact else EXIT_PROBLEMS)
