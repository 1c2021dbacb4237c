"""Throughput of hoso's whole pipeline against raw Tesseract on the same pages, measured in one run.

hoso: `hoso ingest --wait` of each dossier into a fresh home with HOSO_WORKERS workers (store, rasterise,
orientation, OCR, sheet number, classification, index, verify). Reference: for every page,
`pdftoppm -r DPI | tesseract - - -l vie+eng`, the same number of pages in parallel. The ratio is
reference seconds / hoso seconds (above 1: hoso is faster than raw OCR of the same pages).

    .venv/bin/python bench/pipeline.py dev-003 dev-009 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pikepdf

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def run_hoso(pdfs: list[Path], workers: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOSO_")}
        env.update(HOSO_HOME=home, HOSO_WORKERS=str(workers))
        hoso = [sys.executable, "-m", "archive.cli"]
        subprocess.run([*hoso, "init", "--demo"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        for number, pdf in enumerate(pdfs):
            result = subprocess.run(
                [*hoso, "ingest", str(pdf), "--case", f"BENCH-{number}", "--unit", "LCI-D1", "--wait", "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            assert json.loads(result.stdout)["status"] == "processed"
        return time.perf_counter() - started


def ocr_one_page(pdf: Path, page: int, dpi: int) -> None:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    render = subprocess.Popen(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(pdf)], stdout=subprocess.PIPE
    )
    subprocess.run(
        ["tesseract", "-", "-", "-l", "vie+eng"], stdin=render.stdout, env=env, check=True, capture_output=True
    )
    render.wait()


def run_reference(pdfs: list[Path], workers: int, dpi: int) -> float:
    jobs = []
    for pdf in pdfs:
        with pikepdf.open(pdf) as document:
            jobs += [(pdf, page) for page in range(1, len(document.pages) + 1)]
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda job: ocr_one_page(job[0], job[1], dpi), jobs))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dossiers", nargs="+", help="dev corpus names, e.g. dev-003")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dpi", type=int, default=300, help="reference rendering resolution (hoso caps to native)")
    args = parser.parse_args()
    pdfs = [CORPUS / f"{name}.pdf" for name in args.dossiers]
    pages = sum(len(pikepdf.open(pdf).pages) for pdf in pdfs)
    hoso_seconds = run_hoso(pdfs, args.workers)
    reference_seconds = run_reference(pdfs, args.workers, args.dpi)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"pages: {pages} in {len(pdfs)} dossiers, workers: {args.workers}")
    print(f"hoso pipeline:       {hoso_seconds:7.1f} s  {pages / hoso_seconds * 60:6.1f} pages/min")
    print(f"raw tesseract @{args.dpi}: {reference_seconds:7.1f} s  {pages / reference_seconds * 60:6.1f} pages/min")
    print(f"ratio (reference time / hoso time): {reference_seconds / hoso_seconds:.2f}")


if __name__ == "__main__":
    main()
