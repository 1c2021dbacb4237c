"""Peak memory of all hoso processes while one 300-page, 300 dpi dossier is ingested (issue budget: 600 MB).

The dossier is the 12 dev dossiers joined (297 pages) plus the first 3 pages of dev-003. Memory is the sum
of PSS (from /proc/PID/smaps_rollup, so no psutil is needed; PSS, not RSS, because forked workers share
pages) of every hoso process, sampled every 0.2 s. Two modes:

- end to end (default): a fresh HOSO_HOME, one `hoso worker` (HOSO_WORKERS = cores) and one
  `hoso ingest FILE --wait --json`; the worker's and the client's process trees are summed. Real OCR:
  about 10 minutes on an idle 2-core machine.
- ``--finish-only``: the pages' facts are planted from the ground truth (the replayed words of
  tests/ingest/replay_worker.py, through the real ``process_page``), then ``finish_dossier`` (archive copy,
  index, verification) runs in a child process whose PSS is sampled: the stage that holds every page at once.
  Takes seconds, so a change to that stage can be measured without OCRing 300 pages.

    .venv/bin/python bench/ingest_memory.py [--finish-only] [--pages N] [--json-out FILE]

``--pages N`` takes the first N pages only (a quick probe, not the budget's case). With HOSO_BENCH_TRACE=1 each
process's PSS is printed to stderr as it rises; the result gives each process's share at the peak.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pikepdf

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "corpus" / "dev"
HOSO = REPO / ".venv" / "bin" / "hoso"
BUDGET_MB = 600
SAMPLE_SECONDS = 0.2


def make_dossier(target: Path, pages: int) -> list[tuple[str, int]]:
    """Write the 300-page dossier, or its first ``pages``; returns, per page, the dev dossier and page it came from."""
    origins: list[tuple[str, int]] = []
    with pikepdf.new() as joined:
        for source in sorted(DEV.glob("dev-*.pdf")):
            with pikepdf.open(source) as pdf:
                joined.pages.extend(pdf.pages)
                origins += [(source.stem, number) for number in range(1, len(pdf.pages) + 1)]
                if source.name == "dev-003.pdf":
                    joined.pages.extend(pdf.pages[:3])
                    origins += [(source.stem, number) for number in (1, 2, 3)]
        del joined.pages[pages:]
        joined.save(target)
    return origins[:pages]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def tree_pss(roots: list[int]) -> dict[str, int]:
    """Bytes of PSS of the processes ``roots`` and all their descendants, by "pid command"."""
    sizes, todo = {}, list(roots)
    while todo:
        pid = todo.pop()
        todo += _children(pid)
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[-60:]
        except OSError:
            continue
        pss = next((int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:")), 0)
        sizes[f"{pid} {command}"] = pss
    return sizes


def peak_while(process: subprocess.Popen | multiprocessing.Process, roots: list[int]) -> tuple[int, dict[str, int]]:
    """The highest sum of PSS sampled while ``process`` runs, and each process's share at that moment.

    With HOSO_BENCH_TRACE set, each process's own highest PSS is printed to stderr as it rises.
    """
    peak, at_peak, highest = 0, {}, {}
    trace = bool(os.environ.get("HOSO_BENCH_TRACE"))
    while (process.poll() if isinstance(process, subprocess.Popen) else process.exitcode) is None:
        sizes = tree_pss(roots)
        if sum(sizes.values()) > peak:
            peak, at_peak = sum(sizes.values()), sizes
        for name, size in sizes.items():
            if trace and size > highest.get(name, 0) + 10 * 2**20:
                highest[name] = size
                print(f"{time.strftime('%H:%M:%S')} {name}: {size / 2**20:.0f} MB", file=sys.stderr)
        time.sleep(SAMPLE_SECONDS)
    return peak, at_peak


def end_to_end(scratch: Path, dossier: Path) -> dict:
    env = dict(os.environ, HOSO_HOME=str(scratch / "var"))
    subprocess.run([HOSO, "init", "--demo"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen([HOSO, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        started = time.monotonic()
        client = subprocess.Popen(
            [HOSO, "ingest", dossier, "--case", "MEM/300", "--unit", "LCI-D1", "--wait", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        peak, at_peak = peak_while(client, [worker.pid, client.pid])
        assert client.stdout is not None
        result = json.loads(client.stdout.read())
    finally:
        worker.terminate()
        worker.wait(60)
    seconds = round(time.monotonic() - started, 1)
    return {"mode": "end to end", "seconds": seconds, "peak": peak, "at_peak": at_peak, "status": result["status"]}


def _plant_facts(home: Path, dossier: Path, origins: list[tuple[str, int]]) -> str:
    """Accept the dossier and write each page's facts as a perfect OCR would have (no worker, no Tesseract)."""
    os.environ["HOSO_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    from archive.runtime import current_runtime
    from ingest import pipeline
    from ingest.queue import JobQueue
    from ingest.submit import submit
    from tests.conftest import replayed_facts
    from tests.ingest.truth_words import facts_words

    truths = {name: json.loads((DEV / f"{name}.json").read_text(encoding="utf-8")) for name, _ in set(origins)}

    def replay(_pdf: Path, page: int, _dpi: int = 300):  # type: ignore[no-untyped-def]
        name, number = origins[page - 1]
        facts = dataclasses.replace(replayed_facts(truths[name], number), page=page)
        return dataclasses.replace(facts, words=facts_words(truths[name]["pages"][number - 1]))

    pipeline.read_page = replay  # type: ignore[assignment]
    runtime = current_runtime()
    with dossier.open("rb") as stream:
        accepted, _created = submit(runtime, JobQueue(runtime.settings), stream, dossier.name, "MEM/300", "LCI-D1")
    for page in range(1, len(origins) + 1):
        pipeline.process_page(runtime, accepted.id, page)
    assert pipeline.claim_assembly(runtime, accepted.id)
    return accepted.id


def _finish(home: str, dossier_id: str) -> None:
    os.environ["HOSO_HOME"] = home
    from archive.runtime import current_runtime
    from ingest import pipeline

    pipeline.finish_dossier(current_runtime(), dossier_id)


def finish_only(scratch: Path, dossier: Path, origins: list[tuple[str, int]]) -> dict:
    home = scratch / "var"
    env = dict(os.environ, HOSO_HOME=str(home))
    subprocess.run([HOSO, "init", "--demo"], env=env, check=True, capture_output=True)
    planting = multiprocessing.get_context("fork").Process(target=_plant_facts, args=(home, dossier, origins))
    planting.start()
    planting.join()
    dossier_id = _dossier_id(home)
    child = multiprocessing.get_context("spawn").Process(target=_finish, args=(str(home), dossier_id))
    started = time.monotonic()
    child.start()
    assert child.pid is not None
    peak, at_peak = peak_while(child, [child.pid])
    child.join()
    seconds = time.monotonic() - started
    status = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; print(sqlite3.connect('{home}/hoso.db').execute("
            f"\"select status from dossiers where id='{dossier_id}'\").fetchone()[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "mode": "finish_dossier alone, facts planted",
        "seconds": round(seconds, 1),
        "peak": peak,
        "at_peak": at_peak,
        "status": status,
    }


def _dossier_id(home: Path) -> str:
    import sqlite3

    with sqlite3.connect(home / "hoso.db") as database:
        return str(database.execute("select id from dossiers").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finish-only", action="store_true", help="plant the facts, measure finish_dossier alone")
    parser.add_argument("--pages", type=int, default=300, help="the first PAGES pages only (a quick probe)")
    parser.add_argument("--json-out", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoso-memory-") as scratch:
        dossier = Path(scratch) / "dossier-300.pdf"
        origins = make_dossier(dossier, options.pages)
        run = (
            finish_only(Path(scratch), dossier, origins) if options.finish_only else end_to_end(Path(scratch), dossier)
        )
    peak, at_peak = run.pop("peak"), run.pop("at_peak")
    summary = {
        **run,
        "at_peak_mb": {name: round(size / 2**20) for name, size in sorted(at_peak.items())},
        "pages": len(origins),
        "peak_pss_mb": round(peak / 2**20),
        "budget_mb": BUDGET_MB,
        "peak_to_budget": round(peak / 2**20 / BUDGET_MB, 2),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary, indent=2))
    if options.json_out:
        options.json_out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
