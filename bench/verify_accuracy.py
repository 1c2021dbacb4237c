"""Measure the whole verification (reading + judging) on the dev corpus against its ground truth.

Usage: python bench/verify_accuracy.py [--dossiers N | --ids dev-003,dev-011] [--json-out FILE]
                                       [--corpus DIR] [--no-fast | --no-full] [--cache DIR] [--workers 2]

For each of the first N dev dossiers:
- full check: every page through ocr.page.read_page in a process pool (2 workers by default), then
  archive.verify.report on those facts, built by archive.verify_inputs.page_fact like the ingest
  pipeline builds them;
- fast check: ocr.fast_check.fast_report on the PDF (corners, orientation, cover).

Scores, against the ground truth JSON of each dossier:
- sheet numbers exact on numbered pages; numbers invented on pages that carry none;
- expected flags: a flag counts as found when a finding has the same code and the same detail (pages
  made 1-based). Recall per code; precision over the findings whose code the corpus knows (codes the
  corpus does not describe, such as low_confidence, are listed apart, not scored);
- cover fields exact (a missed cover makes all its fields wrong); document type right per page (the
  type carried to continuation pages);
- seconds per dossier for each check (the full check's time is only known when its pages were not in
  the cache; the page facts of a full check are cached in --cache, keyed by the PDF and the source of
  ocr/, so a second run re-judges without re-reading).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from archive import verify, verify_inputs  # noqa: E402
from ocr.cover import COVER_FIELDS  # noqa: E402
from ocr.facts import PageFacts  # noqa: E402
from ocr.fast_check import fast_report  # noqa: E402
from ocr.page import count_pages, read_page  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dev"
DEFAULT_CACHE = Path("/tmp/hoso-verify-bench-cache")
# The codes the corpus README describes: only these can be scored for precision.
CORPUS_CODES = (
    "cover_missing",
    "cover_field_blank",
    "sheet_count_mismatch",
    "unnumbered",
    "duplicate",
    "gap",
    "out_of_order",
    "inserted_sheet",
    "upside_down",
    "rotated",
)


def _source_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "ocr").glob("*.py")) + sorted((REPO_ROOT / "ocr").glob("*.npz")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _read(job: tuple[Path, int]) -> PageFacts:
    return read_page(*job)


def read_dossier(pdf: Path, workers: int, cache: Path) -> tuple[list[PageFacts], float | None]:
    """Every page's facts and the seconds it took (None when they came from the cache)."""
    key = hashlib.sha256(f"{pdf.resolve()}:{pdf.stat().st_size}:{_source_version()}".encode()).hexdigest()[:24]
    cached = cache / f"{pdf.stem}-{key}.pickle"
    if cached.exists():
        facts: list[PageFacts] = pickle.loads(cached.read_bytes())
        return facts, None
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        facts = list(pool.map(_read, [(pdf, page) for page in range(1, count_pages(pdf) + 1)]))
    elapsed = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(facts))
    return facts, elapsed


def full_report(dossier_id: str, facts: list[PageFacts]) -> dict[str, Any]:
    """The report the pipeline would give these page facts (no upload time: the corpus has none)."""
    page_facts = []
    read_pages = []
    for page in facts:
        page_facts.append(
            verify_inputs.page_fact(
                page.page,
                role=page.role,
                blank=page.blank,
                sheet_number=page.sheet_number,
                sheet_confidence=page.sheet_confidence,
                rotation=page.rotation,
                doc_type=page.doc_type,
                details=page.details,
                dpi=page.dpi,
                mean_confidence=page.mean_confidence,
            )
        )
        read_pages.append(verify_inputs.ReadPage(page.page, page.role, page.text, page.details))
    context = verify_inputs.dossier_context(read_pages)
    return verify.report(dossier_id, "processed", page_facts, verify_inputs.cover_fact(read_pages), context)


def _flag_key(flag: dict[str, Any]) -> str:
    return json.dumps(flag, sort_keys=True, ensure_ascii=False)


def expected_flags(truth: dict[str, Any]) -> list[dict[str, Any]]:
    flags = []
    for flag in truth["expected_flags"]:
        converted = dict(flag)
        if "pages" in converted:
            converted["pages"] = [page + 1 for page in converted["pages"]]
        if "page" in converted:
            converted["page"] += 1
        flags.append(converted)
    return flags


def score(report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Counts for one dossier; summed over dossiers by `totals`."""
    pages = list(zip(report["pages"], truth["pages"], strict=True))
    numbered = [(read, true) for read, true in pages if true["sheet_number"] is not None]
    unnumbered = [(read, true) for read, true in pages if true["sheet_number"] is None]
    expected = Counter(_flag_key(flag) for flag in expected_flags(truth))
    found_flags = [{"code": f["code"], **f["detail"]} for f in report["findings"]]
    found = Counter(_flag_key(flag) for flag in found_flags if flag["code"] in CORPUS_CODES)
    matched = expected & found
    typed = [(read, true) for read, true in pages if true["role"] in ("document", "back_text")]
    cover_right = cover_total = 0
    cover_wrong: list[list[Any]] = []
    if truth["cover"]["present"]:
        true_cover = truth["cover"]
        for field in COVER_FIELDS:
            expected_value = None if field in true_cover["blank_fields"] else true_cover["fields"][field]
            read_fields = report["cover"]["fields"] if report["cover"]["present"] else {}
            read_value = read_fields.get(field, "(no cover)")
            cover_total += 1
            if read_value == expected_value:
                cover_right += 1
            else:
                cover_wrong.append([field, expected_value, read_value])
    return {
        "sheet_exact": sum(read["sheet_number"] == true["sheet_number"] for read, true in numbered),
        "sheet_numbered": len(numbered),
        "invented": sum(read["sheet_number"] is not None for read, _true in unnumbered),
        "sheet_unnumbered": len(unnumbered),
        "flags_expected": dict(Counter(json.loads(key)["code"] for key in expected.elements())),
        "flags_found": dict(Counter(json.loads(key)["code"] for key in found.elements())),
        "flags_matched": dict(Counter(json.loads(key)["code"] for key in matched.elements())),
        "flags_missed": sorted((expected - found).elements()),
        "flags_extra": sorted((found - expected).elements()),
        "other_codes": dict(Counter(f["code"] for f in found_flags if f["code"] not in CORPUS_CODES)),
        "doc_type_right": sum(read["doc_type"] == true["doc_type"] for read, true in typed),
        "doc_type_pages": len(typed),
        "cover_right": cover_right,
        "cover_fields": cover_total,
        "cover_wrong": cover_wrong,
    }


def totals(scores: list[dict[str, Any]]) -> dict[str, Any]:
    def total(name: str) -> int:
        return sum(item[name] for item in scores)

    def per_code(name: str) -> Counter[str]:
        summed: Counter[str] = Counter()
        for item in scores:
            summed.update(item[name])
        return summed

    expected, found, matched = per_code("flags_expected"), per_code("flags_found"), per_code("flags_matched")
    return {
        "sheet_exact_share": _share(total("sheet_exact"), total("sheet_numbered")),
        "no_invented_share": _share(total("sheet_unnumbered") - total("invented"), total("sheet_unnumbered")),
        "recall_by_code": {code: _share(matched[code], expected[code]) for code in sorted(expected)},
        "recall": _share(sum(matched.values()), sum(expected.values())),
        "precision": _share(sum(matched.values()), sum(found.values())),
        "cover_exact_share": _share(total("cover_right"), total("cover_fields")),
        # The fast check reads no document types: its pages all carry None, so it is not scored.
        "doc_type_share": _share(total("doc_type_right"), total("doc_type_pages")) if total("doc_type_right") else None,
        "other_codes": dict(per_code("other_codes")),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers): wall time on a loaded
    machine says little, CPU time divided by the cores is what an idle machine would take."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=12, help="how many dev dossiers, from dev-001")
    parser.add_argument("--ids", default="", help="comma-separated dossier ids instead (dev-003,dev-011)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where page facts are cached")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-fast", action="store_true", help="skip the fast check")
    parser.add_argument("--no-full", action="store_true", help="skip the full check (run the fast check only)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    truths = sorted(args.corpus.glob("dev-*.json"))[: args.dossiers]
    if args.ids:
        truths = [args.corpus / f"{dossier_id.strip()}.json" for dossier_id in args.ids.split(",")]
    results: dict[str, Any] = {"dossiers": {}}
    full_scores, fast_scores = [], []
    for truth_path in truths:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        pdf = truth_path.with_suffix(".pdf")
        entry: dict[str, Any] = {"pages": len(truth["pages"]), "full_seconds": None}
        full: dict[str, Any] = {}
        if not args.no_full:
            facts, entry["full_seconds"] = read_dossier(pdf, args.workers, args.cache)
            full = score(full_report(truth["dossier_id"], facts), truth)
            full_scores.append(full)
            entry["full"] = full
        if not args.no_fast:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            fast = score(fast_report(pdf, workers=args.workers), truth)
            entry["fast_seconds"] = round(time.perf_counter() - started, 2)
            entry["fast_cpu_seconds"] = round(_cpu_seconds() - cpu_started, 2)
            entry["fast"] = fast
            fast_scores.append(fast)
        results["dossiers"][truth["dossier_id"]] = entry
        full_seconds = entry["full_seconds"]
        seconds = "cached" if full_seconds is None else f"{full_seconds:.1f}s"
        print(
            f"{truth['dossier_id']}: {entry['pages']} pages, full {'skipped' if args.no_full else seconds}"
            + (
                f", fast {entry['fast_seconds']}s ({entry['fast_cpu_seconds']} CPU s)"
                if "fast_seconds" in entry
                else ""
            )
            + "".join(
                f"; {mode} missed {scores['flags_missed']} extra {scores['flags_extra']}"
                for mode, scores in (("full", full), ("fast", entry.get("fast")))
                if scores
            ),
            flush=True,
        )
    if full_scores:
        results["full"] = totals(full_scores)
    if fast_scores:
        results["fast"] = totals(fast_scores)
    timed = [entry for entry in results["dossiers"].values() if entry["full_seconds"] is not None]
    if timed:
        results["full_seconds_per_page"] = round(
            sum(entry["full_seconds"] for entry in timed) / sum(entry["pages"] for entry in timed), 3
        )
    if fast_scores:
        entries = results["dossiers"].values()
        pages = sum(entry["pages"] for entry in entries)
        results["fast_seconds_per_page"] = round(sum(entry["fast_seconds"] for entry in entries) / pages, 3)
        results["fast_cpu_seconds_per_page"] = round(sum(entry["fast_cpu_seconds"] for entry in entries) / pages, 3)
        results["full_to_fast_ratio"] = (
            round(results["full_seconds_per_page"] / results["fast_seconds_per_page"], 1) if timed else None
        )
    print(json.dumps({key: value for key, value in results.items() if key != "dossiers"}, indent=2, ensure_ascii=False))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
