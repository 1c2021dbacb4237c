"""Peak memory of all hoso processes while one 300-page, 300 dpi dossier is ingested (issue budget: 600 MB).

The dossier is the 12 dev dossiers joined (297 pages) plus the first 3 pages of dev-003. A fresh
HOSO_HOME, one `hoso worker` (HOSO_WORKERS = cores) and one `hoso ingest FILE --wait --json`; the PSS of
the worker's and the client's process trees is summed every 0.2 s (PSS, not RSS: forked workers share
pages). Runs in the bench venv, which has psutil:

    .bench-venv/bin/python bench/ingest_memory.py [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pikepdf
import psutil

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "corpus" / "dev"
HOSO = REPO / ".venv" / "bin" / "hoso"


def make_dossier(target: Path) -> int:
    with pikepdf.new() as joined:
        for source in sorted(DEV.glob("dev-*.pdf")):
            with pikepdf.open(source) as pdf:
                joined.pages.extend(pdf.pages)
                if source.name == "dev-003.pdf":
                    joined.pages.extend(pdf.pages[:3])
        joined.save(target)
        return len(joined.pages)


def tree_pss(roots: list[int]) -> int:
    total = 0
    for root in roots:
        try:
            processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in processes:
            try:
                total += process.memory_full_info().pss
            except psutil.Error:
                pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoso-memory-") as scratch:
        dossier = Path(scratch) / "dossier-300.pdf"
        pages = make_dossier(dossier)
        env = dict(os.environ, HOSO_HOME=str(Path(scratch) / "var"))
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
            peak = 0
            while client.poll() is None:
                peak = max(peak, tree_pss([worker.pid, client.pid]))
                time.sleep(0.2)
            assert client.stdout is not None
            result = json.loads(client.stdout.read())
        finally:
            worker.terminate()
            worker.wait(60)
    summary = {
        "pages": pages,
        "seconds": round(time.monotonic() - started, 1),
        "peak_pss_mb": round(peak / 2**20),
        "budget_mb": 600,
        "peak_to_budget": round(peak / 2**20 / 600, 2),
        "status": result["status"],
    }
    print(json.dumps(summary, indent=2))
    if options.json_out:
        options.json_out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
