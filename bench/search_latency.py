"""Search latency at scale: hoso's `search_dossiers` against SQLite FTS5 and Whoosh, on the same pages.

Writes N synthetic Vietnamese case-file pages (`bench/search_corpus.py`: dev-corpus structure and text,
about 300 words a page, realistic units, tax codes and document types) to one JSON-lines file, draws a
query mix from them (at least 200 queries of each kind: one common word, two-word AND, phrase, prefix,
tax code, and two words with a unit filter and facets; half national, half scoped to a province; half
typed without diacritics), then runs each system in its own process, so its build time, disk size and
peak memory are its own:

- hoso: `TantivyIndex.add_pages` in `hoso reindex`'s batches, then `search_dossiers` exactly as
  `GET /api/v1/search` calls it (20 dossiers, their best 3 pages with highlighted snippets, facets);
- SQLite FTS5 (`unicode61 remove_diacritics 2`): top 20 pages by bm25 with `snippet()`, the scope and the
  unit filter as a `unit_path` range, facets as GROUP BY counts of distinct dossiers;
- Whoosh (what paperless-ngx used before Tantivy; `whoosh-reloaded`, accent folding): top 20 pages with
  highlights, scope and unit filter as a term filter, facets with `groupedby`.

The references run on the first `--reference-pages` pages (default 100,000, or all if fewer). When
`--pages` is larger, hoso is measured at both sizes, so every ratio compares the same documents. Whoosh
lives in the bench venv (`make bench-venv`), outside hoso's dependencies; without it Whoosh is skipped.

    .venv/bin/python bench/search_latency.py --pages 100000
    .venv/bin/python bench/search_latency.py --pages 1000000 --json-out /tmp/search_latency.json
    .venv/bin/python bench/search_latency.py --pages 5000 --per-kind 20          # a quick look
    .venv/bin/python bench/search_latency.py --pages 20000 --systems hoso,fts5   # without Whoosh
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_corpus import QUERY_KINDS, BenchQuery, make_queries, read_pages, write_pages  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WHOOSH_PYTHON = REPO / ".bench-venv" / "bin" / "python"
TOP = 20  # hits with snippets per query, as the API's default page
WARMUP_QUERIES = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1_000_000, help="pages in hoso's large index")
    parser.add_argument("--reference-pages", type=int, default=100_000, help="pages for the comparison")
    parser.add_argument("--per-kind", type=int, default=200, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workdir", type=Path, help="keep the pages and indexes here (default: a temp dir)")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--systems", default="hoso,fts5,whoosh", help="comma-separated subset of hoso,fts5,whoosh (default: all)"
    )
    parser.add_argument("--system", choices=("hoso", "fts5", "whoosh"), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.system:
        _run_child(arguments)
        return
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="hoso-search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = _run_all(arguments, workdir)
        results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    finally:
        if arguments.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    _print_report(results)
    if arguments.json_out:
        arguments.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


def _run_all(arguments: argparse.Namespace, workdir: Path) -> dict:
    reference_pages = min(arguments.reference_pages, arguments.pages)
    pages_file, queries_file = workdir / "pages.jsonl", workdir / "queries.json"
    started = time.perf_counter()
    print(f"writing {arguments.pages:,} pages to {pages_file} …", flush=True)
    cases, frequencies = write_pages(pages_file, arguments.pages, arguments.seed)
    # Queries name only what the smallest index holds (tax codes, provinces), so every system can find them.
    in_reference = [case for case, first_page in cases if first_page < reference_pages]
    queries = make_queries(in_reference, frequencies, arguments.per_kind, arguments.seed + 1)
    queries_file.write_text(json.dumps([asdict(query) for query in queries], ensure_ascii=False))
    generated = time.perf_counter() - started
    print(f"  {len(cases):,} dossiers, {len(queries)} queries, {generated:.0f} s", flush=True)
    runs = [("hoso", reference_pages), ("fts5", reference_pages), ("whoosh", reference_pages)]
    if arguments.pages > reference_pages:
        runs.append(("hoso", arguments.pages))
    chosen = set(arguments.systems.split(","))
    runs = [(system, pages) for system, pages in runs if system in chosen]
    results: dict = {
        "machine": _machine(),
        "pages": arguments.pages,
        "reference_pages": reference_pages,
        "dossiers": len(cases),
        "queries_per_kind": arguments.per_kind,
        "generation_seconds": round(generated, 1),
        "runs": [],
    }
    for system, pages in runs:
        if system == "whoosh" and not WHOOSH_PYTHON.exists():
            print("whoosh: skipped (run `make bench-venv` first)", flush=True)
            continue
        print(f"{system} on {pages:,} pages …", flush=True)
        result_file = workdir / f"result-{system}-{pages}.json"
        python = WHOOSH_PYTHON if system == "whoosh" else Path(sys.executable)
        command = [str(python), __file__, "--system", system, "--pages", str(pages), "--workdir", str(workdir)]
        subprocess.run([*command, "--result", str(result_file)], check=True)
        run = json.loads(result_file.read_text())
        results["runs"].append(run)
        print(f"  built in {run['build_seconds']:.0f} s, {run['size_bytes'] / 1e6:.0f} MB", flush=True)
    return results


# --- one system, in its own process ----------------------------------------------------------------------


def _run_child(arguments: argparse.Namespace) -> None:
    workdir: Path = arguments.workdir
    pages = arguments.pages
    queries = [BenchQuery(**raw) for raw in json.loads((workdir / "queries.json").read_text())]
    index_dir = workdir / f"index-{arguments.system}-{pages}"
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir()
    build, search = {"hoso": _hoso, "fts5": _fts5, "whoosh": _whoosh}[arguments.system](index_dir)
    started = time.perf_counter()
    build(workdir / "pages.jsonl", pages)
    build_seconds = time.perf_counter() - started
    peak_after_build = _peak_rss_mb()
    for query in queries[:WARMUP_QUERIES]:
        search(query)
    latencies: dict[str, list[float]] = {kind: [] for kind in QUERY_KINDS}
    found: dict[str, list[int]] = {kind: [] for kind in QUERY_KINDS}
    for query in queries:
        started = time.perf_counter()
        total = search(query)
        latencies[query.kind].append((time.perf_counter() - started) * 1000)
        found[query.kind].append(total)
    result = {
        "system": arguments.system,
        "pages": pages,
        "build_seconds": round(build_seconds, 1),
        "size_bytes": sum(path.stat().st_size for path in index_dir.rglob("*") if path.is_file()),
        "peak_rss_mb_build": peak_after_build,
        "peak_rss_mb": _peak_rss_mb(),
        "latency_ms": {kind: _percentiles(values) for kind, values in latencies.items()},
        "mean_pages_found": {kind: round(statistics.fmean(values), 1) for kind, values in found.items()},
        "queries_with_no_hit": {kind: sum(1 for value in values if not value) for kind, values in found.items()},
    }
    arguments.result.write_text(json.dumps(result))
    shutil.rmtree(index_dir, ignore_errors=True)


Build = Callable[[Path, int], None]
Search = Callable[[BenchQuery], int]  # returns the number of pages found


def _hoso(index_dir: Path) -> tuple[Build, Search]:
    from datetime import date

    from archive.reindex import BATCH_PAGES
    from search.documents import PageDocument
    from search.request import SearchFilters, SearchRequest
    from search.tantivy_index import TantivyIndex

    index = TantivyIndex(index_dir)

    def build(pages_file: Path, pages: int) -> None:
        batch: list[PageDocument] = []
        for page in read_pages(pages_file, pages):
            year = page.pop("year")
            batch.append(PageDocument(**page, doc_date=date(year, 6, 1)))
            if len(batch) >= BATCH_PAGES:
                index.add_pages(batch)
                batch = []
        index.add_pages(batch)

    def search(query: BenchQuery) -> int:
        filters = SearchFilters(unit_path=query.unit_filter)
        result = index.search_dossiers(SearchRequest(query.text, scope=query.scope, filters=filters, limit=TOP))
        return result.total_pages

    return build, search


_FTS5_FACETS = ("unit_code", "year", "doc_type", "violation")


def _fts5(index_dir: Path) -> tuple[Build, Search]:
    database = sqlite3.connect(index_dir / "fts5.db")
    database.execute(
        "CREATE VIRTUAL TABLE pages USING fts5(text, meta, dossier_id UNINDEXED, page UNINDEXED, "
        "unit_code UNINDEXED, unit_path UNINDEXED, doc_type UNINDEXED, year UNINDEXED, violation UNINDEXED, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )

    def build(pages_file: Path, pages: int) -> None:
        rows = (
            (
                page["text"],
                " ".join((page["subject_name"], page["tax_code"], page["violation"], page["case_number"])),
                page["dossier_id"],
                page["page"],
                page["unit_code"],
                page["unit_path"] + "/",
                page["doc_type"],
                page["year"],
                page["violation"],
            )
            for page in read_pages(pages_file, pages)
        )
        with database:
            database.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        database.execute("INSERT INTO pages(pages) VALUES ('optimize')")
        database.commit()

    def search(query: BenchQuery) -> int:
        match = _fts5_match(query)
        where, parameters = "pages MATCH ?", [match]
        for subtree in (query.scope, query.unit_filter):
            if subtree:
                where += " AND unit_path >= ? AND unit_path < ?"
                parameters += [subtree + "/", subtree + "0"]  # "0" sorts right after "/"
        rows = database.execute(
            f"SELECT dossier_id, page, snippet(pages, 0, '<mark>', '</mark>', '…', 40) FROM pages "
            f"WHERE {where} ORDER BY rank LIMIT {TOP}",
            parameters,
        ).fetchall()
        total = database.execute(f"SELECT count(*) FROM pages WHERE {where}", parameters).fetchone()[0]
        if query.kind == "filtered":
            for column in _FTS5_FACETS:
                database.execute(
                    f"SELECT {column}, count(DISTINCT dossier_id) AS n FROM pages WHERE {where} "
                    f"GROUP BY {column} ORDER BY n DESC LIMIT 50",
                    parameters,
                ).fetchall()
        return int(total) if rows or total else 0

    return build, search


def _fts5_match(query: BenchQuery) -> str:
    """The query in FTS5 syntax: each word a quoted string (ANDed), a phrase one string, a prefix `"ab"*`."""
    if query.kind == "phrase":
        return '"' + " ".join(query.words) + '"'
    if query.kind == "prefix":
        return f'"{query.words[0]}"*'
    return " ".join(f'"{word}"' for word in query.words)


def _whoosh(index_dir: Path) -> tuple[Build, Search]:
    from whoosh import fields, index, qparser, sorting
    from whoosh import query as whoosh_query
    from whoosh.analysis import CharsetFilter, StandardAnalyzer
    from whoosh.support.charset import accent_map

    analyzer = StandardAnalyzer(stoplist=None) | CharsetFilter(accent_map)
    schema = fields.Schema(
        text=fields.TEXT(analyzer=analyzer, stored=True),
        meta=fields.TEXT(analyzer=analyzer),
        dossier_id=fields.ID(stored=True),
        page=fields.NUMERIC(stored=True),
        scope=fields.KEYWORD(commas=True),
        unit_code=fields.ID(sortable=True),
        doc_type=fields.ID(sortable=True),
        year=fields.ID(sortable=True),
        violation=fields.ID(sortable=True),
    )
    store = index.create_in(str(index_dir), schema)

    def build(pages_file: Path, pages: int) -> None:
        writer = store.writer(limitmb=256)
        for page in read_pages(pages_file, pages):
            segments = page["unit_path"].split("/")
            writer.add_document(
                text=page["text"],
                meta=" ".join((page["subject_name"], page["tax_code"], page["violation"], page["case_number"])),
                dossier_id=page["dossier_id"],
                page=page["page"],
                scope=",".join("/".join(segments[: depth + 1]) for depth in range(len(segments))),
                unit_code=page["unit_code"],
                doc_type=page["doc_type"],
                year=str(page["year"]),
                violation=page["violation"],
            )
        writer.commit()

    parser = qparser.MultifieldParser(["text", "meta"], schema)
    searchers = []  # opened after the build, once

    def search(query: BenchQuery) -> int:
        if not searchers:
            searchers.append(store.searcher())
        searcher = searchers[0]
        if query.kind == "prefix":  # Whoosh does not analyse wildcard terms: fold it as the index did
            text = "".join(token.text for token in analyzer(query.words[0])) + "*"
        elif query.kind == "phrase":
            text = query.text
        else:
            text = " ".join(f'"{word}"' if not word.isalnum() else word for word in query.words)
        restrictions = [whoosh_query.Term("scope", subtree) for subtree in (query.scope, query.unit_filter) if subtree]
        facets = None
        if query.kind == "filtered":
            facets = {name: sorting.FieldFacet(name) for name in ("unit_code", "year", "doc_type", "violation")}
        results = searcher.search(
            parser.parse(text),
            limit=TOP,
            filter=whoosh_query.And(restrictions) if restrictions else None,
            groupedby=facets,
        )
        for hit in results:
            hit.highlights("text")
        return len(results)

    return build, search


# --- reporting ---------------------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def _print_report(results: dict) -> None:
    print(f"\nmachine: {results['machine']}")
    print(f"load average at end: {[round(value, 2) for value in os.getloadavg()]}")
    print("\nsystem   pages      build s  size MB  MB/M pages  peak RSS MB")
    for run in results["runs"]:
        size = run["size_bytes"] / 1e6
        print(
            f"{run['system']:8} {run['pages']:>9,}  {run['build_seconds']:>7.0f}  {size:>7.0f}  "
            f"{size * 1e6 / run['pages']:>10.0f}  {run['peak_rss_mb']:>11}"
        )
    print("\nlatency ms (p50 / p95 / p99) and mean pages found")
    for run in results["runs"]:
        print(f"{run['system']} on {run['pages']:,} pages:")
        for kind in QUERY_KINDS:
            latency = run["latency_ms"][kind]
            print(
                f"  {kind:9} {latency['p50']:8.1f} {latency['p95']:8.1f} {latency['p99']:8.1f}   "
                f"found {run['mean_pages_found'][kind]:>9,.1f}  no hit {run['queries_with_no_hit'][kind]}"
            )
    hoso = next((run for run in results["runs"] if run["system"] == "hoso"), None)
    if hoso is None:
        return
    print(f"\nratios on {hoso['pages']:,} pages, p95 (reference / hoso: above 1 means hoso is faster)")
    for reference in (run for run in results["runs"] if run["system"] != "hoso"):
        ratios = [
            f"{kind} {reference['latency_ms'][kind]['p95'] / max(hoso['latency_ms'][kind]['p95'], 1e-9):.2f}"
            for kind in QUERY_KINDS
        ]
        build = reference["build_seconds"] / max(hoso["build_seconds"], 1e-9)
        print(f"  {reference['system']:7} " + ", ".join(ratios) + f"; build time {build:.2f}")


if __name__ == "__main__":
    main()
