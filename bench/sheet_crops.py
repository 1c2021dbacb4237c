"""Tune the sheet-number reader on cached page corners: exact, missed, wrong and invented reads per kind.

Usage:
    python bench/sheet_crops.py build --corpus DIR --out CROPS.pickle [--dpi 300]
    python bench/sheet_crops.py eval CROPS.pickle [CROPS2.pickle ...] [--verbose] [--json-out FILE]

Reading whole pages costs a render per page; the reader only ever looks at the top-right corner
(`ocr.mark.corner_of`). `build` renders every page of a folder of `gen_dossiers.py` output once, turns
it upright with the ground-truth rotation and keeps only the corner with the truth of its mark; `eval`
runs `ocr.sheet_number.read_corner` on those corners, so a change to the reader or a retrained glyph
model is measured in seconds. Tune on generated dossiers (other seeds than the dev corpus's); the dev
corpus is the held-out test set, measured with bench/ocr_accuracy.py and bench/verify_accuracy.py.

`eval` reports per kind of mark (stamp, hand, zero-padded, suffix, number of digits):
- exact: the normalised read equals the truth;
- missed: nothing read (verify then reports the sheet as unnumbered, a loud failure);
- wrong, split into "flagged" (confidence below verify's LOW_SHEET_CONFIDENCE: the `low_confidence`
  finding sends a person to it) and "confident" (silently wrong: the failure that must not happen),
  and by how the read differs: lost leading digit(s) ("37" -> "7"), lost other digit(s), extra digit(s),
  other;
- invented: a number read on a page that carries none, and of those how many were confident.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from archive.verify import LOW_SHEET_CONFIDENCE  # noqa: E402
from ocr.mark import Corner, corner_of  # noqa: E402
from ocr.orientation import upright  # noqa: E402
from ocr.raster import render_page  # noqa: E402
from ocr.sheet_number import read_corner  # noqa: E402
from ocr.train_digits import upright_box  # noqa: E402


@dataclass(frozen=True)
class CachedCorner:
    """One page's corner and the truth about its mark."""

    where: str  # "gen-003 page 7" (1-based page)
    role: str
    truth: str | None  # normalised sheet number, None when the page carries none
    printed: str | None
    style: str | None  # "stamp" | "hand"
    corner: Corner
    mark_box: tuple[int, int, int, int] | None  # the printed mark in upright page pixels


def build(corpus: Path, dpi: int) -> list[dict[str, Any]]:
    """The corner of every page with text of every dossier in `corpus` (blank backs carry nothing), as
    plain dicts (what `ocr.train_digits --crops` reads too)."""
    cached = []
    for truth_path in sorted(corpus.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        for page in truth["pages"]:
            if page["role"] == "back_blank":
                continue
            rendered = render_page(corpus / truth["pdf"], page["page_index"] + 1, dpi)
            corner = corner_of(np.asarray(upright(rendered.image, page["rotation"]).convert("L")))
            scale = rendered.image.width / page["width_px"]
            box = upright_box(page) if page["sheet_number_printed"] else None
            cached.append(
                {
                    "where": f"{truth['dossier_id']} page {page['page_index'] + 1}",
                    "role": page["role"],
                    "truth": page["sheet_number"],
                    "printed": page["sheet_number_printed"],
                    "style": page["sheet_number_style"],
                    "gray": corner.gray.copy(),
                    "left": corner.left,
                    "px_per_mm": corner.px_per_mm,
                    "mark_box": tuple(round(value * scale) for value in box) if box else None,
                }
            )
    return cached


def load(path: Path) -> list[CachedCorner]:
    return [
        CachedCorner(
            where=f"{path.stem}: {item['where']}",
            role=item["role"],
            truth=item["truth"],
            printed=item["printed"],
            style=item["style"],
            corner=Corner(gray=item["gray"], left=item["left"], px_per_mm=item["px_per_mm"]),
            mark_box=item["mark_box"],
        )
        for item in pickle.loads(path.read_bytes())
    ]


def kinds_of(item: CachedCorner) -> list[str]:
    """The groups a numbered page counts in (a page can be in several)."""
    printed = item.printed or ""
    kinds = ["all", str(item.style)]
    if printed.startswith("0"):
        kinds.append("zero-padded")
    if printed[-1:].isalpha():
        kinds.append("suffix")
    kinds.append(f"{len((item.truth or '').rstrip('abcd'))} digits")
    return kinds


def how_wrong(truth: str, read: str) -> str:
    """How a wrong read differs from the truth."""
    if len(read) < len(truth) and truth.endswith(read):
        return "lost leading digit"
    if len(read) < len(truth) and _is_subsequence(read, truth):
        return "lost other digit"
    if len(read) > len(truth) and _is_subsequence(truth, read):
        return "extra digit"
    return "other"


def _is_subsequence(short: str, long: str) -> bool:
    remaining = iter(long)
    return all(char in remaining for char in short)


def evaluate(items: list[CachedCorner], verbose: bool = False) -> dict[str, Any]:
    """Read every corner and count the outcomes per kind; print the misses (every page with --verbose)."""
    outcome: dict[str, Counter[str]] = defaultdict(Counter)
    wrong_kinds: Counter[str] = Counter()
    invented: Counter[str] = Counter()
    seconds = 0.0
    for item in items:
        started = time.perf_counter()
        read, confidence = read_corner(item.corner)
        seconds += time.perf_counter() - started
        confident = confidence is not None and confidence >= LOW_SHEET_CONFIDENCE
        if item.truth is None:
            invented["pages"] += 1
            if read is not None:
                invented["invented"] += 1
                invented["confident"] += confident
        else:
            if read == item.truth:
                result = "exact"
            elif read is None:
                result = "missed"
            else:
                result = "wrong, confident" if confident else "wrong, flagged"
                wrong_kinds[how_wrong(item.truth, read)] += 1
            for kind in kinds_of(item):
                outcome[kind][result] += 1
                outcome[kind]["pages"] += 1
        if verbose or read != item.truth:
            print(
                f"{item.where} ({item.role}, {item.style or '-'}, printed {item.printed!r}):"
                f" read {read!r} conf {confidence}"
            )
    return {
        "pages": len(items),
        "by_kind": {kind: dict(counts) for kind, counts in sorted(outcome.items())},
        "wrong_by_difference": dict(wrong_kinds),
        "unnumbered": dict(invented),
        "reader_seconds_per_page": round(seconds / max(1, len(items)), 4),
    }


def print_summary(result: dict[str, Any]) -> None:
    print(f"pages: {result['pages']}, reader seconds per page: {result['reader_seconds_per_page']}")
    for kind, counts in result["by_kind"].items():
        pages = counts["pages"]
        parts = ", ".join(f"{name} {counts.get(name, 0)}" for name in ("missed", "wrong, flagged", "wrong, confident"))
        print(f"  {kind:12s} exact {counts.get('exact', 0)}/{pages} = {counts.get('exact', 0) / pages:.1%}; {parts}")
    print(f"  wrong reads by difference: {result['wrong_by_difference']}")
    unnumbered = result["unnumbered"]
    print(
        f"  unnumbered pages {unnumbered.get('pages', 0)}: invented {unnumbered.get('invented', 0)}"
        f" (confident {unnumbered.get('confident', 0)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="cache the corners of a folder of generated dossiers")
    build_command.add_argument("--corpus", type=Path, required=True)
    build_command.add_argument("--out", type=Path, required=True)
    build_command.add_argument("--dpi", type=int, default=300, help="the full check reads at 300, the fast at 200")
    eval_command = commands.add_parser("eval", help="read cached corners and score them")
    eval_command.add_argument("crops", type=Path, nargs="+")
    eval_command.add_argument("--verbose", action="store_true", help="print every page, not only the misses")
    eval_command.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        items = build(args.corpus, args.dpi)
        args.out.write_bytes(pickle.dumps(items))
        print(f"{len(items)} corners written to {args.out}")
        return
    items = [item for path in args.crops for item in load(path)]
    result = evaluate(items, args.verbose)
    print_summary(result)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
