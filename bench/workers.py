"""Workers over Redis: pages per minute with one and two worker processes on the shared Redis queue and
PostgreSQL, against the embedded defaults (SQLite database, SQLite queue) with as many worker processes, in one run.

Four runs, one after the other, each on a fresh HOSO_HOME with real OCR on the same pages:

    embedded x1   one `hoso worker`, HOSO_WORKERS=1, SQLite database and queue (the reference)
    embedded x2   one `hoso worker`, HOSO_WORKERS=2 (the embedded queue has one consumer, with two processes)
    redis+pg x1   one `hoso worker`, HOSO_WORKERS=1, HOSO_REDIS_URL and HOSO_DATABASE_URL on PostgreSQL
    redis+pg x2   two `hoso worker` commands, HOSO_WORKERS=1 each, as on two machines

The workers are started first and the time runs from the first `hoso ingest` (every dossier is queued at once,
as uploads arrive) until every dossier is processed (OCR, archive copy, index, verification), read in the
database. The Tantivy index and the object directory stay local in every run (one machine). The PostgreSQL
database is created for the run and dropped after it; Redis database 13 is emptied before and after.

    .venv/bin/python bench/workers.py                          # all 12 dev dossiers (297 pages)
    .venv/bin/python bench/workers.py --dossiers 2 --limit 8   # a subset: 2 dossiers x their first 8 pages
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf
import psycopg
import redis
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
HOSO = [sys.executable, "-m", "archive.cli"]
UNIT = "LCI-D1"
REDIS_URL = "redis://127.0.0.1:6379/13"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEADLINE_SECONDS = 4 * 3600


@dataclass
class Run:
    name: str
    processes: int
    pages: int
    seconds: float
    pages_failed: int
    load_before: float
    load_after: float

    @property
    def pages_per_minute(self) -> float:
        return self.pages / self.seconds * 60


def subset(corpus: Path, dossiers: int, limit: int | None, work: Path) -> list[tuple[Path, int]]:
    """The first ``dossiers`` PDFs, each cut to its first ``limit`` pages; (file, page count) each."""
    chosen = []
    for source in sorted(corpus.glob("*.pdf"))[:dossiers]:
        target = work / source.name
        with pikepdf.open(source) as pdf, pikepdf.new() as excerpt:
            count = len(pdf.pages) if limit is None else min(limit, len(pdf.pages))
            excerpt.pages.extend(pdf.pages[:count])
            excerpt.save(target)
        chosen.append((target, count))
    return chosen


def base_env(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    return {**env, "HOSO_HOME": str(home)}


def run(name: str, shared: bool, processes: int, pdfs: list[tuple[Path, int]], work: Path) -> Run:
    home = work / name.replace(" ", "-").replace("+", "")
    env = base_env(home)
    database = None
    if shared:
        database = f"hoso_bench_workers_{os.getpid()}_{processes}"
        _admin(f'CREATE DATABASE "{database}"')
        env["HOSO_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        env["HOSO_REDIS_URL"] = REDIS_URL
        redis.Redis.from_url(REDIS_URL).flushdb()
    database_url = env.get("HOSO_DATABASE_URL", f"sqlite:///{home / 'hoso.db'}")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*HOSO, "init", "--demo"], cwd=REPO, env=env, check=True, capture_output=True)
        consumers, per_consumer = (processes, 1) if shared else (1, processes)
        for number in range(consumers):
            log = (home / f"worker{number}.log").open("ab")
            workers.append(
                subprocess.Popen(
                    [*HOSO, "worker"], cwd=REPO, env={**env, "HOSO_WORKERS": str(per_consumer)}, stdout=log, stderr=log
                )
            )
        _wait_for_heartbeat(home / "worker.heartbeat", workers)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        for number, (pdf, _count) in enumerate(pdfs, start=1):
            command = [*HOSO, "ingest", str(pdf), "--case", f"{number}/QĐ-XPHC", "--unit", UNIT]
            subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
        failed = _wait_until_processed(database_url, len(pdfs), workers)
        seconds = time.monotonic() - started
        return Run(name, processes, sum(c for _p, c in pdfs), seconds, failed, load_before, os.getloadavg()[0])
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
        if database is not None:
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            redis.Redis.from_url(REDIS_URL).flushdb()


def _admin(statement: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def _wait_for_heartbeat(path: Path, workers: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 300
    while not path.exists():
        if any(worker.poll() is not None for worker in workers) or time.monotonic() > deadline:
            raise SystemExit(f"a worker did not start; see the worker logs beside {path}")
        time.sleep(0.2)


def _wait_until_processed(database_url: str, dossiers: int, workers: list[subprocess.Popen[bytes]]) -> int:
    """Poll the database until every dossier is processed; returns the pages that failed."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while True:
            with engine.connect() as connection:
                done = connection.scalar(text("SELECT count(*) FROM dossiers WHERE status = 'processed'"))
                if done == dossiers:
                    return int(connection.scalar(text("SELECT count(*) FROM pages WHERE status = 'failed'")) or 0)
            if any(worker.poll() is not None for worker in workers):
                raise SystemExit("a worker stopped during the run; see its log")
            if time.monotonic() > deadline:
                raise SystemExit("the dossiers were not processed in time")
            time.sleep(0.5)
    finally:
        engine.dispose()


def machine() -> str:
    return f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(runs: list[Run]) -> dict:
    by_key = {(run.name.split(" ")[0], run.processes): run for run in runs}
    print(f"machine: {machine()}")
    print(f"{'run':<14} {'pages':>5} {'seconds':>8} {'pages/min':>9} {'failed':>6} {'load before/after':>18}")
    for item in runs:
        print(
            f"{item.name:<14} {item.pages:>5} {item.seconds:>8.1f} {item.pages_per_minute:>9.2f} "
            f"{item.pages_failed:>6} {item.load_before:>8.2f} / {item.load_after:<8.2f}"
        )
    ratios = {}
    for processes in (1, 2):
        shared, embedded = by_key.get(("redis+pg", processes)), by_key.get(("embedded", processes))
        if shared and embedded:
            ratios[f"redis+pg/embedded x{processes}"] = shared.pages_per_minute / embedded.pages_per_minute
    for kind in ("embedded", "redis+pg"):
        one, two = by_key.get((kind, 1)), by_key.get((kind, 2))
        if one and two:
            ratios[f"{kind} x2/x1"] = two.pages_per_minute / one.pages_per_minute
    for label, ratio in ratios.items():
        print(f"ratio {label}: {ratio:.2f}")
    return {"machine": machine(), "runs": [asdict(item) for item in runs], "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--dossiers", type=int, default=12, help="how many dev dossiers (default all 12)")
    parser.add_argument("--limit", type=int, default=None, help="the first pages of each dossier only")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, homes)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hoso-bench-workers-"))
    try:
        pdfs = subset(options.corpus, options.dossiers, options.limit, work)
        runs = [
            run("embedded x1", False, 1, pdfs, work),
            run("redis+pg x1", True, 1, pdfs, work),
            run("embedded x2", False, 2, pdfs, work),
            run("redis+pg x2", True, 2, pdfs, work),
        ]
        result = report(runs)
        if options.json_out:
            options.json_out.write_text(json.dumps(result, indent=2))
    finally:
        if options.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
