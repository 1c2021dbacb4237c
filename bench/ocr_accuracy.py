"""Measure ocr.read_page against the dev corpus ground truth: sheet numbers, rotation, role, doc_type, speed.

Usage: python bench/ocr_accuracy.py [N] [--sheet-sample] [--corpus DIR] [--verbose] [--json-out FILE]

Takes N pages spread over the 12 dev dossiers (every rotated page first, then pages evenly spaced
through each dossier, dossiers taken in turn) and reads them one at a time in this process.
With --sheet-sample it takes the fixed 67-page sheet-number sample instead: the first 40 of the
spread above plus SHEET_EXTRA (every zero-padded stamp of dev-002 and dev-003, more zero-padded
stamps of dev-010 and dev-011 including "06a", more handwriting-like numbers, and unnumbered
pages: covers, a table of contents, closing sheets). dev-005 has no zero-padded numbers.
doc_type is scored on pages that start a document (the only ones that carry a title).
"false numbers" counts pages without a printed number that got one anyway.
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import zip_longest
from pathlib import Path

from ocr.page import read_page

_ROLE = {"back_blank": "blank", "back_text": "document"}
# (dossier, 1-based page) added to the first 40 spread pages by --sheet-sample.
SHEET_EXTRA = (
    [("dev-002", page) for page in (2, 3, 5, 6, 7, 8, 9)]
    + [("dev-003", page) for page in (3, 4, 5, 6, 7, 8, 9, 10)]
    + [("dev-010", page) for page in (8, 13, 21)]
    + [("dev-011", page) for page in (9, 17)]
    + [("dev-004", 5), ("dev-004", 13), ("dev-005", 7), ("dev-006", 2), ("dev-012", 1)]
    + [("dev-002", 1), ("dev-007", 2), ("dev-012", 15)]
)
DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def pick_pages(dossiers: list[dict], count: int) -> list[tuple[dict, int]]:
    """Rotated pages of every dossier first, then evenly spaced pages, dossiers interleaved."""
    rotated = [(dossier, page["page_index"]) for dossier in dossiers for page in dossier["pages"] if page["rotation"]]
    chosen = set((dossier["dossier_id"], index) for dossier, index in rotated)
    per_dossier = []
    for dossier in dossiers:
        total = dossier["page_count"]
        step = max(1, total // 6)
        per_dossier.append(
            [
                (dossier, index)
                for index in range(step // 2, total, step)
                if (dossier["dossier_id"], index) not in chosen
            ]
        )
    spread = [item for row in zip_longest(*per_dossier) for item in row if item is not None]
    return (rotated + spread)[:count]


def sheet_sample(dossiers: list[dict]) -> list[tuple[dict, int]]:
    """The fixed sheet-number sample: the first 40 spread pages, then SHEET_EXTRA."""
    by_id = {dossier["dossier_id"]: dossier for dossier in dossiers}
    picked = pick_pages(dossiers, 40)
    seen = {(dossier["dossier_id"], index) for dossier, index in picked}
    for dossier_id, page in SHEET_EXTRA:
        if (dossier_id, page - 1) not in seen:
            picked.append((by_id[dossier_id], page - 1))
            seen.add((dossier_id, page - 1))
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=36)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--verbose", action="store_true", help="print every page, not only the misses")
    parser.add_argument("--sheet-sample", action="store_true", help="the fixed 67-page sheet-number sample")
    parser.add_argument("--json-out", type=Path, help="write every page's facts and truth to this JSON file")
    args = parser.parse_args()
    dossiers = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(args.corpus.glob("dev-*.json"))]
    scores = {"sheet_number": [0, 0], "rotation": [0, 0], "role": [0, 0], "doc_type": [0, 0]}
    seconds = 0.0
    false_numbers = unnumbered = 0
    dump = []
    picked = sheet_sample(dossiers) if args.sheet_sample else pick_pages(dossiers, args.count)
    for dossier, index in picked:
        truth = dossier["pages"][index]
        started = time.perf_counter()
        facts = read_page(args.corpus / dossier["pdf"], index + 1)
        seconds += time.perf_counter() - started
        checks = {
            "sheet_number": (truth["sheet_number"], facts.sheet_number),
            "rotation": (truth["rotation"], facts.rotation),
            "role": (_ROLE.get(truth["role"], truth["role"]), facts.role),
        }
        if any(index == document["pages"][0] for document in dossier["documents"]):
            checks["doc_type"] = (truth["doc_type"], facts.doc_type)
        if truth["sheet_number"] is None:
            unnumbered += 1
            false_numbers += facts.sheet_number is not None
        if args.json_out:
            dump.append({"dossier": dossier["dossier_id"], "page": index + 1, "truth": truth, "facts": facts.to_dict()})
        for name, (expected, got) in checks.items():
            scores[name][0] += expected == got
            scores[name][1] += 1
        misses = {name: pair for name, pair in checks.items() if pair[0] != pair[1]}
        if misses or args.verbose:
            print(
                f"{dossier['dossier_id']} page {index + 1} ({truth['sheet_number_style'] or '-'},"
                f" printed {truth['sheet_number_printed']!r}, conf {facts.sheet_confidence}):"
                f" {misses or 'ok'}"
            )
    print(f"pages: {len(picked)}")
    for name, (right, total) in scores.items():
        print(f"{name}: {right}/{total} = {right / total:.1%}" if total else f"{name}: n/a")
    print(f"false numbers on unnumbered pages: {false_numbers}/{unnumbered}")
    print(f"seconds per page: {seconds / len(picked):.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
