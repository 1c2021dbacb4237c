"""Measure the sheet-number reader alone against ground truth: exact reads, invented numbers, speed.

Usage: python bench/ocr_accuracy.py [--corpus DIR] [--dossiers dev-001,dev-002] [--limit N]
       [--dpi 300] [--verbose] [--json-out FILE]

Every page of the chosen dossiers is rasterised at 300 dpi (or `--dpi`; capped to the scan's own resolution, as
`ocr.raster.render_page` does in the pipeline) and turned upright with the ground-truth rotation, so
only `read_sheet_number` is measured, not orientation detection. Reported:
- exact: the normalised number read equals the ground truth, on pages that carry a number, overall
  and by mark style (stamp, hand, zero-padded, suffix; a page can be in two);
- invented: a number returned on a page that carries none (covers, tables of contents, closing
  sheets, backs, unnumbered sheets), overall and by page role;
- confidence: mean confidence of right and of wrong reads, and how many wrong reads fall below 0.5;
- seconds per page for the reader, and its ratio to rendering the same page (measured in this run).
Works on any folder of gen_dossiers.py output (`--corpus`), which is how the reader was tuned: the
dev corpus is for measuring only.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from ocr.orientation import upright
from ocr.raster import render_page
from ocr.sheet_number import read_sheet_number

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def styles_of(page: dict) -> list[str]:
    """The style groups a numbered page counts in."""
    printed = page["sheet_number_printed"]
    groups = [page["sheet_number_style"]]
    if printed.startswith("0"):
        groups.append("zero-padded")
    if printed[-1].isalpha():
        groups.append("suffix")
    return groups


def _rate(right: int, total: int) -> str:
    return f"{right}/{total} = {right / total:.1%}" if total else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of dossier PDFs and JSON truth")
    parser.add_argument("--dossiers", help="comma-separated dossier ids (default: all in the folder)")
    parser.add_argument("--limit", type=int, help="at most this many pages per dossier")
    parser.add_argument("--dpi", type=int, default=300, help="rendering resolution (the fast check uses 200)")
    parser.add_argument("--verbose", action="store_true", help="print every page, not only the misses")
    parser.add_argument("--json-out", type=Path, help="write every page's read and truth to this JSON file")
    args = parser.parse_args()
    truths = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(args.corpus.glob("*.json"))]
    if args.dossiers:
        wanted = set(args.dossiers.split(","))
        truths = [truth for truth in truths if truth["dossier_id"] in wanted]
    exact: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    invented: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confidences: dict[bool, list[float]] = {True: [], False: []}
    read_seconds = render_seconds = 0.0
    dump = []
    for truth in truths:
        for page in truth["pages"][: args.limit]:
            started = time.perf_counter()
            image = render_page(args.corpus / truth["pdf"], page["page_index"] + 1, args.dpi).image
            image = upright(image, page["rotation"])
            rendered = time.perf_counter()
            number, confidence = read_sheet_number(image)
            read_seconds += time.perf_counter() - rendered
            render_seconds += rendered - started
            expected = page["sheet_number"]
            if expected is None:
                for group in ("all", page["role"]):
                    invented[group][0] += number is not None
                    invented[group][1] += 1
            else:
                for group in ["all", *styles_of(page)]:
                    exact[group][0] += number == expected
                    exact[group][1] += 1
            if number is not None:
                confidences[number == expected].append(confidence or 0.0)
            where = f"{truth['dossier_id']} page {page['page_index'] + 1}"
            if number != expected or args.verbose:
                print(
                    f"{where} ({page['role']}, {page['sheet_number_style'] or '-'},"
                    f" printed {page['sheet_number_printed']!r}): read {number!r} conf {confidence}"
                )
            dump.append(
                {
                    "page": where,
                    "truth": expected,
                    "printed": page["sheet_number_printed"],
                    "style": page["sheet_number_style"],
                    "role": page["role"],
                    "read": number,
                    "confidence": confidence,
                }
            )
    pages = len(dump)
    print(f"dossiers: {len(truths)}, pages: {pages}")
    for group, (right, total) in exact.items():
        print(f"exact, {group}: {_rate(right, total)}")
    for group, (wrong, total) in invented.items():
        print(f"invented, {group}: {_rate(wrong, total)}")
    for right, values in confidences.items():
        label = "right" if right else "wrong"
        mean = sum(values) / len(values) if values else float("nan")
        print(f"confidence of {label} reads: mean {mean:.3f} over {len(values)}")
    print(f"wrong reads below 0.5: {sum(value < 0.5 for value in confidences[False])}/{len(confidences[False])}")
    if pages:
        print(f"reader seconds per page: {read_seconds / pages:.3f}")
        print(f"reader / render time: {read_seconds / render_seconds:.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps(dump, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
