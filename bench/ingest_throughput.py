"""Ingest throughput: hoso against raw Tesseract and OCRmyPDF on the same pages, in one run.

Three systems read every page of the chosen dossiers, one after the other, on this machine:

(a) raw    `tesseract PAGE.pgm stdout -l vie --dpi D` with OMP_THREAD_LIMIT=1, one process per core,
           on each page image at its native resolution. The page images are extracted first with
           `pdftoppm -gray -r NATIVE` and that time is reported on its own line, not in (a)'s time.
(b) ocrmypdf `ocrmypdf -l vie --jobs CORES --rotate-pages --deskew --output-type pdfa --sidecar`,
           one dossier after the other (OCRmyPDF parallelises within a file).
(c) hoso   `hoso init --demo` in a fresh HOSO_HOME, one `hoso worker` with HOSO_WORKERS=CORES, then
           `hoso ingest FILE --wait` for every dossier at once (as uploads arrive); the time runs from
           the first ingest to the last one returning, so it includes storing, OCR, indexing, verification
           and the archive copy. Page texts are read back from hoso's SQLite database.

For each: pages per minute, peak memory (sum of the PSS of all processes of the system, sampled every
0.1 s with psutil) and character error rate (Levenshtein distance / reference length, whitespace runs
folded to one space, NFC) against the ground-truth text, over all pages and over the rotated pages.
Then the ratios hoso/raw (pages per minute) and hoso/OCRmyPDF.

Runs in the bench venv (`make bench-venv`: OCRmyPDF, psutil and rapidfuzz live there, not in hoso's
dependencies); hoso is run through its own venv's `hoso` command:

    .bench-venv/bin/python bench/ingest_throughput.py                 # all 12 dev dossiers (297 pages)
    .bench-venv/bin/python bench/ingest_throughput.py --dossiers 2 --limit 8 --json-out /tmp/t.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import psutil
from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
HOSO = REPO / ".venv" / "bin" / "hoso"
OCRMYPDF = Path(sys.executable).parent / "ocrmypdf"
UNIT = "LCI-D1"


@dataclass(frozen=True)
class CorpusPage:
    dossier: str
    page: int  # 1-based, in the (possibly shortened) PDF the systems read
    dpi: int
    rotation: int
    text: str


@dataclass
class Result:
    name: str
    seconds: float
    peak_memory_mb: float
    texts: dict[tuple[str, int], str] = field(repr=False)


def folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def character_error_rate(pages: list[CorpusPage], texts: dict[tuple[str, int], str]) -> float | None:
    reference_length = sum(len(folded(page.text)) for page in pages)
    if not reference_length:
        return None
    errors = sum(
        Levenshtein.distance(folded(page.text), folded(texts.get((page.dossier, page.page), ""))) for page in pages
    )
    return errors / reference_length


class PeakMemory:
    """Samples the memory of this process's descendants (the system under test) every 0.1 s.

    Summed as PSS (each shared page counted once, split between the processes sharing it): forked
    workers share their parent's pages, and summing RSS would count those once per process. RSS is
    used where PSS cannot be read.
    """

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += getattr(child.memory_full_info(), "pss", 0) or child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def measured(name: str, results: list[Result]) -> Iterator[dict[tuple[str, int], str]]:
    texts: dict[tuple[str, int], str] = {}
    with PeakMemory() as memory:
        started = time.perf_counter()
        yield texts
        seconds = time.perf_counter() - started
    results.append(Result(name, seconds, memory.peak_bytes / 2**20, texts))
    print(f"  {name}: {seconds:.1f} s", file=sys.stderr)


def prepare_corpus(corpus: Path, dossiers: int, limit: int | None, work: Path) -> tuple[list[Path], list[CorpusPage]]:
    """The PDFs to read (the first `limit` pages of each when given) and their ground truth."""
    pdfs, pages = [], []
    for truth_path in sorted(corpus.glob("*.json"))[:dossiers]:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        source = corpus / truth["pdf"]
        kept = truth["pages"][:limit] if limit else truth["pages"]
        if limit and limit < len(truth["pages"]):
            target = work / source.name
            with pikepdf.open(source) as pdf, pikepdf.new() as excerpt:
                for index in range(len(kept)):
                    excerpt.pages.append(pdf.pages[index])
                excerpt.save(target)
            source = target
        pdfs.append(source)
        pages += [
            CorpusPage(source.stem, index + 1, int(truth["dpi"]), page["rotation"], page["text"])
            for index, page in enumerate(kept)
        ]
    return pdfs, pages


def in_parallel(function: Callable, items: list, workers: int) -> list:
    """`function` over `items` in `workers` threads; on Ctrl-C the queued items are dropped, not run."""
    pool = ThreadPoolExecutor(workers)
    try:
        return list(pool.map(function, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def single_thread_env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def extract_page_images(
    pdfs: list[Path], pages: list[CorpusPage], cores: int, folder: Path
) -> dict[tuple[str, int], Path]:
    by_name = {pdf.stem: pdf for pdf in pdfs}

    def extract(page: CorpusPage) -> tuple[tuple[str, int], Path]:
        prefix = folder / f"{page.dossier}-{page.page:04d}"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", str(page.dpi), "-f", str(page.page), "-l", str(page.page), "-singlefile"]
            + [str(by_name[page.dossier]), str(prefix)],
            check=True,
        )
        return (page.dossier, page.page), prefix.with_suffix(".pgm")

    return dict(in_parallel(extract, pages, cores))


def run_raw(images: dict[tuple[str, int], Path], pages: list[CorpusPage], cores: int, texts: dict) -> None:
    def read(page: CorpusPage) -> None:
        completed = subprocess.run(
            ["tesseract", str(images[(page.dossier, page.page)]), "stdout", "-l", "vie", "--dpi", str(page.dpi)],
            env=single_thread_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        texts[(page.dossier, page.page)] = completed.stdout

    in_parallel(read, pages, cores)


def run_ocrmypdf(pdfs: list[Path], cores: int, folder: Path, texts: dict) -> None:
    for pdf in pdfs:
        sidecar = folder / f"{pdf.stem}.txt"
        subprocess.run(
            [str(OCRMYPDF), "-l", "vie", "--jobs", str(cores), "--rotate-pages", "--deskew"]
            + ["--output-type", "pdfa", "--sidecar", str(sidecar), "--quiet", str(pdf), str(folder / pdf.name)],
            env=single_thread_env(),
            check=True,
        )
        for index, text in enumerate(sidecar.read_text(encoding="utf-8").split("\f")):
            texts[(pdf.stem, index + 1)] = text


def hoso_env(home: Path, cores: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    return {**env, "HOSO_HOME": str(home), "HOSO_WORKERS": str(cores)}


def run_hoso(pdfs: list[Path], cores: int, home: Path, texts: dict) -> None:
    env = hoso_env(home, cores)
    worker = subprocess.Popen([str(HOSO), "worker"], env=env, stderr=(home / "worker.log").open("ab"))
    try:
        heartbeat_wait = time.monotonic() + 60
        while not any(home.glob("*heartbeat*")) and time.monotonic() < heartbeat_wait:
            time.sleep(0.05)

        def ingest(numbered: tuple[int, Path]) -> dict:
            number, pdf = numbered
            completed = subprocess.run(
                [str(HOSO), "ingest", str(pdf), "--case", f"BENCH-{number}", "--unit", UNIT, "--wait", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return json.loads(completed.stdout)

        outcomes = in_parallel(ingest, list(enumerate(pdfs)), len(pdfs))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    names = {outcome["dossier_id"]: pdf.stem for outcome, pdf in zip(outcomes, pdfs, strict=True)}
    with sqlite3.connect(home / "hoso.db") as database:
        for dossier_id, page_number, text in database.execute("SELECT dossier_id, page_number, text FROM pages"):
            texts[(names[dossier_id], page_number)] = text or ""
    bad = [outcome for outcome in outcomes if outcome["status"] != "processed"]
    if bad:
        raise SystemExit(f"hoso did not process every dossier: {bad}")


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_gb = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores, {model}, {memory_gb:.0f} GB RAM, Python {platform.python_version()}"


def report(results: list[Result], pages: list[CorpusPage], extraction_seconds: float) -> dict:
    rotated = [page for page in pages if page.rotation]
    rows = {}
    print(f"machine: {machine()}")
    print(f"pages: {len(pages)} ({len(rotated)} rotated) in {len({page.dossier for page in pages})} dossiers")
    print(f"raw: page image extraction (pdftoppm -gray at native dpi, not in raw's time): {extraction_seconds:.1f} s\n")
    print(f"{'system':10} {'seconds':>8} {'pages/min':>10} {'peak MB':>8} {'CER all':>8} {'CER rotated':>12}")
    for result in results:
        cer_all = character_error_rate(pages, result.texts)
        cer_rotated = character_error_rate(rotated, result.texts)
        rows[result.name] = {
            "seconds": round(result.seconds, 2),
            "pages_per_minute": round(len(pages) / result.seconds * 60, 1),
            "peak_memory_mb": round(result.peak_memory_mb, 1),
            "cer": None if cer_all is None else round(cer_all, 4),
            "cer_rotated": None if cer_rotated is None else round(cer_rotated, 4),
        }
        row = rows[result.name]
        print(
            f"{result.name:10} {row['seconds']:8.1f} {row['pages_per_minute']:10.1f} {row['peak_memory_mb']:8.0f}"
            f" {_percent(cer_all):>8} {_percent(cer_rotated):>12}"
        )
    ratios = {}
    if "hoso" in rows:
        for other in ("raw", "ocrmypdf"):
            if other in rows:
                ratios[f"hoso/{other}"] = round(rows["hoso"]["pages_per_minute"] / rows[other]["pages_per_minute"], 2)
    print()
    for name, ratio in ratios.items():
        print(f"pages per minute {name}: {ratio:.2f}  (wall time {name.split('/')[1]}/hoso: {ratio:.2f})")
    return {"machine": machine(), "pages": len(pages), "rotated_pages": len(rotated), "systems": rows, "ratios": ratios}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of PDFs with ground-truth JSON")
    parser.add_argument("--dossiers", type=int, default=None, help="only the first N dossiers (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages of each dossier")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="processes / jobs / workers")
    parser.add_argument(
        "--systems", default="raw,ocrmypdf,hoso", help="comma-separated subset of raw,ocrmypdf,hoso (default all)"
    )
    parser.add_argument("--json-out", type=Path, help="write the results (and per-page texts) to this JSON file")
    args = parser.parse_args()
    systems = args.systems.split(",")
    for name, tool in (("ocrmypdf", OCRMYPDF), ("hoso", HOSO)):
        if name in systems and not tool.exists():
            raise SystemExit(f"{tool} is missing: run `make bench-venv` and this script with .bench-venv/bin/python")
    work = Path(tempfile.mkdtemp(prefix="hoso-bench-"))
    try:
        pdfs, pages = prepare_corpus(args.corpus, args.dossiers or 10**6, args.limit, work)
        results: list[Result] = []
        runs: dict[str, Callable[[dict], None]] = {}
        extraction_seconds = 0.0
        if "raw" in systems:
            (work / "images").mkdir()
            started = time.perf_counter()
            images = extract_page_images(pdfs, pages, args.cores, work / "images")
            extraction_seconds = time.perf_counter() - started
            runs["raw"] = lambda texts: run_raw(images, pages, args.cores, texts)
        (work / "ocrmypdf").mkdir()
        runs["ocrmypdf"] = lambda texts: run_ocrmypdf(pdfs, args.cores, work / "ocrmypdf", texts)
        home = _fresh_home(work) if "hoso" in systems else work
        runs["hoso"] = lambda texts: run_hoso(pdfs, args.cores, home, texts)
        print(f"reading {len(pages)} pages with {', '.join(systems)}", file=sys.stderr)
        for name in systems:
            with measured(name, results) as texts:
                runs[name](texts)
        summary = report(results, pages, extraction_seconds)
        summary["command"] = " ".join([Path(sys.executable).name, *sys.argv])
        if args.json_out:
            summary["texts"] = {
                result.name: {f"{dossier}:{page}": text for (dossier, page), text in sorted(result.texts.items())}
                for result in results
            }
            args.json_out.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fresh_home(work: Path) -> Path:
    home = work / "hoso-home"
    subprocess.run([str(HOSO), "init", "--demo", "--json"], env=hoso_env(home, 1), check=True, capture_output=True)
    return home


if __name__ == "__main__":
    main()
