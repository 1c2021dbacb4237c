"""Load: concurrent clients against a running `hoso serve` on loopback, per kind of request.

Without --url it prepares an instance first, in a fresh HOSO_HOME under --workdir: `hoso init --demo`'s units
and users, then N dossiers cut from the dev corpus (../shared/corpus/dev), ingested in this process through the
real pipeline with each page's recorded OCR replayed instead of Tesseract (so pages, words, archive copies and
the search index hold real content). It then starts `hoso serve --no-worker` on a free port of 127.0.0.1 and,
for the uploads made during the run, the real worker with replayed OCR (tests/ingest/replay_worker.py).

Every client signs in as one person (the demo officer of LCI-D1, whose unit holds every prepared dossier) and
loops until --seconds have passed or --max-requests were sent, picking by weight among: six kinds of search
(one common word, the same without diacritics, a phrase, a prefix, a tax code, a word with a document-type
filter and facets), the dossier page (HTML), one page's text (JSON), a page image and a thumbnail (rendered by
poppler on first view, then served from the store), the original's download, and an upload of a small PDF.

For each kind: count, throughput, p50/p95/p99 latency and the status codes; the reference is the cheapest
request of the same run, a static file (`/static/hoso.css`, which still loads the signed-in user), and each
kind's p50 and p95 are given as a multiple of the reference's. Exits 1 if any request got a 5xx or no answer.

    .venv/bin/python bench/load.py                                # prepare, serve, 20 clients for 60 s
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000    # an instance already running
    .venv/bin/python bench/load.py --clients 5 --seconds 10 --dossiers 6 --json-out /tmp/load.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pikepdf
import urllib3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the tests' replay helpers are imported from the checkout

from archive.accounts import DEMO_PASSWORD  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "dev"
USER = "canbo"
UNIT = "LCI-D1"
START_SECONDS = 60
REFERENCE = "static file"
# Relative weights of the request kinds (a reading room: mostly searching and looking, a few uploads).
WEIGHTS = {
    REFERENCE: 10,
    "search: word": 6,
    "search: no diacritics": 6,
    "search: phrase": 5,
    "search: prefix": 5,
    "search: tax code": 5,
    "search: filter + facets": 5,
    "dossier page (HTML)": 10,
    "page text (JSON)": 10,
    "page image": 10,
    "thumbnail": 8,
    "original download": 8,
    "upload": 2,
}


# --- preparing an instance ------------------------------------------------------------------------------------


def _excerpt(source: Path, pages: list[int], target: Path, title: str | None = None) -> Path:
    with pikepdf.open(source) as pdf, pikepdf.new() as excerpt:
        for page in pages:
            excerpt.pages.append(pdf.pages[page - 1])
        if title is not None:
            excerpt.docinfo["/Title"] = title
        excerpt.save(target)
    return target


def _prepared_dossiers(count: int, workdir: Path) -> list[tuple[Path, dict]]:
    """``count`` PDFs cut from the dev dossiers (all pages, then every other, every third…) with their truth."""
    sources = sorted(CORPUS.glob("dev-*.pdf"))
    if not sources:
        sys.exit(f"no dev corpus at {CORPUS}: it holds the scans and recorded OCR this benchmark serves")
    made = []
    for number in range(count):
        source = sources[number % len(sources)]
        truth = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
        step = number // len(sources) + 1
        pages = list(range(1, truth["page_count"] + 1))[number // len(sources) % step :: step]
        target = _excerpt(source, pages, workdir / f"prepared-{number:03d}.pdf")
        made.append((target, truth | {"pages": [truth["pages"][page - 1] for page in pages]}))
    return made


def prepare_instance(home: Path, count: int) -> None:
    """The demo units and users, and ``count`` dossiers processed with their recorded OCR replayed."""
    os.environ["HOSO_HOME"] = str(home)
    import archive.runtime
    from archive.accounts import install_demo
    from archive.db import upgrade
    from archive.storage import file_sha256
    from ingest import page_job, pipeline
    from ingest.queue import JobQueue
    from ingest.submit import submit
    from tests.conftest import replayed_facts
    from tests.ingest.truth_words import facts_words

    archive.runtime._current = None
    runtime = archive.runtime.current_runtime()
    runtime.settings.ensure_dirs()
    upgrade(runtime.settings.database_url)
    with runtime.sessions() as session:
        install_demo(session)
    dossiers = _prepared_dossiers(count, home.parent)
    truths = {file_sha256(path): truth for path, truth in dossiers}

    def read_page(pdf_path: Path, page: int, dpi: int = 300):  # type: ignore[no-untyped-def]
        path = Path(pdf_path)
        truth = truths[path.parent.name if path.name == "pages.pdf" else path.name]
        facts = replayed_facts(truth, page)
        return dataclasses.replace(facts, words=facts_words(truth["pages"][page - 1]))

    pipeline.read_page = read_page  # type: ignore[assignment]  # the extension point the tests use
    queue = JobQueue(runtime.settings)
    queue.huey.immediate = True  # each job runs as it is queued, through the real task wiring
    for number, (path, _truth) in enumerate(dossiers, start=1):
        with path.open("rb") as stream:
            submit(runtime, queue, stream, path.name, f"{number}/QĐ-XPHC", UNIT)
    page_job.stop_reader()
    runtime.engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_instance(home: Path, log_dir: Path) -> Iterator[tuple[str, int | None]]:
    """`hoso serve --no-worker` and a replaying worker, each in its own process group, stopped at the end."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    env |= {
        "HOSO_HOME": str(home),
        "HOSO_SECRET_KEY": secrets.token_hex(32),
        "HOSO_WORKERS": "1",
        "HOSO_LOGIN_RATE_LIMIT": "1000/minute",
        "HOSO_UPLOAD_RATE_LIMIT": "100000/hour",
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    commands = {
        "serve": [sys.executable, "-m", "archive.cli", "serve", "--no-worker", "--port", str(port)],
        "worker": [sys.executable, "-m", "tests.ingest.replay_worker"],
    }
    worker_env = env | {"REPLAY_TRUTH": str(CORPUS / "dev-003.json"), "REPLAY_SECONDS": "0.2"}
    processes = []
    try:
        for name, command in commands.items():
            with (log_dir / f"{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=REPO,
                        env=worker_env if name == "worker" else env,
                        stdout=log,
                        stderr=log,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + START_SECONDS
        while not _answers(url):
            if processes[0].poll() is not None or time.monotonic() > deadline:
                sys.exit(f"hoso serve did not start; see {log_dir / 'serve.log'}")
            time.sleep(0.2)
        yield url, processes[0].pid
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        return urllib3.request("GET", url + "/login", timeout=2, retries=False).status == 200
    except urllib3.exceptions.HTTPError:
        return False


# --- the clients ----------------------------------------------------------------------------------------------


def sign_in(url: str, username: str, password: str) -> str:
    """The session cookie of a form sign-in (with its CSRF token), shared by every client."""
    http = urllib3.PoolManager(retries=False)
    form = http.request("GET", url + "/login")
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.data.decode())
    assert match, "no CSRF token on the login form"
    answer = http.request(
        "POST",
        url + "/login",
        fields={"username": username, "password": password, "csrf_token": match.group(1)},
        encode_multipart=False,
        headers={"Cookie": cookie},
        redirect=False,
    )
    if answer.status != 302 or "Set-Cookie" not in answer.headers:
        sys.exit(f"signing in as {username} failed: {answer.status}")
    return answer.headers["Set-Cookie"].split(";", 1)[0]


@dataclasses.dataclass(frozen=True)
class Targets:
    """What the requests point at, found through the API as any client would."""

    dossiers: list[tuple[str, int]]  # (dossier id, page count)
    tax_codes: list[str]
    upload_source: Path


def find_targets(http: urllib3.PoolManager, url: str, workdir: Path) -> Targets:
    found = http.request("GET", url + "/api/v1/search", fields={"q": "biên bản", "limit": "100"}).json()
    dossiers = []
    for group in found["dossiers"]:
        status = http.request("GET", f"{url}/api/v1/dossiers/{group['dossier_id']}").json()
        dossiers.append((status["dossier_id"], status["page_count"]))
    if not dossiers:
        sys.exit("the instance has no dossier that a search for 'biên bản' finds: nothing to view")
    tax_codes = sorted(
        json.loads(path.read_text(encoding="utf-8"))["case"]["business"]["tax_code"] for path in CORPUS.glob("*.json")
    )
    return Targets(dossiers, tax_codes or ["0101234567"], _excerpt(CORPUS / "dev-003.pdf", [1, 2], workdir / "up.pdf"))


class Client(threading.Thread):
    def __init__(
        self,
        number: int,
        url: str,
        cookie: str,
        targets: Targets,
        stop: Callable[[], bool],
        seed: int,
        weights: dict[str, int] = WEIGHTS,
    ):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.url, self.targets, self.stop, self.weights = number, url, targets, stop, weights
        self.rng = random.Random(seed * 1000 + number)
        self.http = urllib3.PoolManager(maxsize=1, retries=False, headers={"Cookie": cookie})
        self.results: list[tuple[str, int | str, float]] = []  # (kind, status or error, seconds)
        self.uploads = 0

    def run(self) -> None:
        kinds, weights = list(self.weights), list(self.weights.values())
        while not self.stop():
            self.send(self.rng.choices(kinds, weights)[0])

    def send(self, kind: str) -> None:
        method, path, fields = self._request(kind)
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, self.url + path, fields=fields, timeout=120, preload_content=True, redirect=False
            )
            status: int | str = response.status
        except urllib3.exceptions.HTTPError as failure:
            status = type(failure).__name__
        self.results.append((kind, status, time.perf_counter() - started))

    def _page(self) -> tuple[str, int]:
        dossier_id, page_count = self.rng.choice(self.targets.dossiers)
        # Half the views are of a dossier's first page (where a reader starts), the rest anywhere in it.
        return dossier_id, 1 if self.rng.random() < 0.5 else self.rng.randint(1, page_count)

    def _request(self, kind: str) -> tuple[str, str, dict | None]:
        search = {
            "search: word": {"q": "biên bản"},
            "search: no diacritics": {"q": "quyet dinh xu phat"},
            "search: phrase": {"q": '"hàng hóa nhập lậu"'},
            "search: prefix": {"q": "niêm*"},
            "search: tax code": {"q": self.rng.choice(self.targets.tax_codes)},
            "search: filter + facets": {"q": "hàng hóa", "doc_type": "quyet_dinh_xu_phat"},
        }
        if kind in search:
            return "GET", "/api/v1/search", search[kind]
        if kind == REFERENCE:
            return "GET", "/static/hoso.css", None
        dossier_id, page = self._page()
        if kind == "dossier page (HTML)":
            return "GET", f"/dossiers/{dossier_id}", None
        if kind == "page text (JSON)":
            return "GET", f"/api/v1/dossiers/{dossier_id}/pages/{page}", {"q": "biên bản"}
        if kind == "page image":
            return "GET", f"/dossiers/{dossier_id}/pages/{page}.png", None
        if kind == "thumbnail":
            return "GET", f"/dossiers/{dossier_id}/pages/{page}/thumb.png", None
        if kind == "original download":
            return "GET", f"/dossiers/{dossier_id}/original", None
        self.uploads += 1
        data = _unique_pdf(self.targets.upload_source, f"load client {self.number} upload {self.uploads} {time.time()}")
        name = f"load-{self.number}-{self.uploads}.pdf"
        return "POST", "/api/v1/dossiers", {"file": (name, data, "application/pdf"), "case_number": name, "unit": UNIT}


def _unique_pdf(source: Path, title: str) -> bytes:
    """The same pages with a title of their own: new bytes, so each upload is a new original."""
    target = Path(tempfile.mkstemp(suffix=".pdf")[1])
    try:
        return _excerpt(source, [1, 2], target, title).read_bytes()
    finally:
        target.unlink(missing_ok=True)


def solo(url: str, cookie: str, targets: Targets, per_kind: int, seed: int) -> dict:
    """Each kind ``per_kind`` times from one client, nothing else running: its cost without queueing."""
    client = Client(-1, url, cookie, targets, lambda: True, seed)
    started = time.monotonic()
    for _round in range(per_kind):
        for kind in WEIGHTS:
            client.send(kind)
    return {"seconds": round(time.monotonic() - started, 1), "kinds": _summary([client], time.monotonic() - started)}


def load(
    url: str, cookie: str, targets: Targets, clients: int, seconds: float, max_requests: int, seed: int, weights: dict
) -> dict:
    """``clients`` threads, each sending a request as soon as its last one was answered, for ``seconds``."""
    started = time.monotonic()
    threads: list[Client] = []

    def stop() -> bool:
        return time.monotonic() - started > seconds or sum(len(t.results) for t in threads) >= max_requests

    threads += [Client(number, url, cookie, targets, stop, seed, weights) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"seconds": round(elapsed, 1), "dossiers": len(targets.dossiers), "kinds": _summary(threads, elapsed)}


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU time of a process and its reaped children (pdftoppm), from /proc; None when unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _percentile(ordered: list[float], fraction: float) -> float:
    return round(1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def _summary(threads: list[Client], elapsed: float) -> dict[str, dict[str, Any]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    for thread in threads:
        for kind, status, seconds in thread.results:
            latencies[kind].append(seconds)
            statuses[kind][str(status)] += 1
    summary: dict[str, dict[str, Any]] = {}
    for kind in WEIGHTS:
        ordered = sorted(latencies[kind])
        if not ordered:
            continue
        summary[kind] = {
            "count": len(ordered),
            "per_second": round(len(ordered) / elapsed, 1),
            "p50_ms": _percentile(ordered, 0.50),
            "p95_ms": _percentile(ordered, 0.95),
            "p99_ms": _percentile(ordered, 0.99),
            "statuses": dict(sorted(statuses[kind].items())),
        }
    reference = summary.get(REFERENCE)
    for values in summary.values():
        if reference:
            values["p50_x_reference"] = round(values["p50_ms"] / max(reference["p50_ms"], 0.1), 1)
            values["p95_x_reference"] = round(values["p95_ms"] / max(reference["p95_ms"], 0.1), 1)
    return summary


def _failures(summary: dict[str, dict]) -> int:
    return sum(
        count
        for values in summary.values()
        for status, count in values["statuses"].items()
        if not status.isdigit() or int(status) >= 500
    )


def _print_table(title: str, phase: dict) -> None:
    print(f"\n{title}")
    header = f"{'kind':<26}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'p95 x':>8}"
    print(header + "  statuses")
    for kind, values in phase["kinds"].items():
        print(
            f"{kind:<26}{values['count']:>7}{values['per_second']:>8}{values['p50_ms']:>9}{values['p95_ms']:>9}"
            f"{values['p99_ms']:>9}{values.get('p50_x_reference', ''):>8}{values.get('p95_x_reference', ''):>8}"
            f"  {values['statuses']}"
        )
    total = sum(values["count"] for values in phase["kinds"].values())
    print(f"all: {total} requests in {phase['seconds']} s, {total / phase['seconds']:.1f} per second")


def _print_report(results: dict) -> None:
    print(f"\nmachine: {results['machine']}")
    print(f"reference: {REFERENCE} (GET /static/hoso.css with the session cookie); x = multiple of its latency")
    _print_table("alone: one client, each kind in turn", results["solo"])
    run = results["run"]
    _print_table(f"load: {results['clients']} clients, {run['dossiers']} dossiers", run)
    if run.get("server_cpu_seconds") is not None:
        print(f"hoso serve used {run['server_cpu_seconds']} CPU s (with its pdftoppm) in {run['seconds']} s")
    print(f"load average before {results['load_average_before']}, after {results['load_average_after']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="Attach to this running hoso (loopback) instead of preparing one.")
    parser.add_argument("--user", default=USER, help="Who the clients sign in as (an officer: uploads too).")
    parser.add_argument("--password", default=DEMO_PASSWORD, help="Their password (default: the demo one).")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000, help="Stop after this many requests in all.")
    parser.add_argument("--solo", type=int, default=5, help="Requests of each kind sent alone before the load.")
    parser.add_argument("--without", action="append", default=[], choices=list(WEIGHTS), help="Leave a kind out.")
    parser.add_argument("--dossiers", type=int, default=24, help="Dossiers to prepare (cut from the 12 dev ones).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="Where the prepared instance lives (default: a temp dir).")
    parser.add_argument("--json-out", type=Path)
    arguments = parser.parse_args()
    if arguments.url and not re.match(r"https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", arguments.url):
        sys.exit("--url must be a loopback address: this benchmark sends load only to this machine")
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="hoso-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "clients": arguments.clients,
        "command": " ".join(sys.argv),
    }
    instance: AbstractContextManager[tuple[str, int | None]]
    if arguments.url:
        instance = nullcontext((arguments.url, None))
    else:
        home = workdir / "home"
        began = time.monotonic()
        prepare_instance(home, arguments.dossiers)
        results["prepare_seconds"] = round(time.monotonic() - began, 1)
        print(f"prepared {arguments.dossiers} dossiers in {home} in {results['prepare_seconds']} s", file=sys.stderr)
        instance = running_instance(home, workdir)
    weights = {kind: weight for kind, weight in WEIGHTS.items() if kind not in arguments.without}
    with instance as (url, server_pid):
        cookie = sign_in(url, arguments.user, arguments.password)
        targets = find_targets(urllib3.PoolManager(headers={"Cookie": cookie}), url, workdir)
        results["load_average_before"] = [round(value, 2) for value in os.getloadavg()]
        results["started_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        results["solo"] = solo(url, cookie, targets, arguments.solo, arguments.seed)
        cpu_before = _cpu_seconds(server_pid)
        run = load(
            url, cookie, targets, arguments.clients, arguments.seconds, arguments.max_requests, arguments.seed, weights
        )
        cpu_after = _cpu_seconds(server_pid)
        if cpu_before is not None and cpu_after is not None:
            run["server_cpu_seconds"] = round(cpu_after - cpu_before, 1)
        results["run"] = run
        results["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    _print_report(results)
    if arguments.json_out:
        arguments.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    failures = _failures(results["solo"]["kinds"]) + _failures(results["run"]["kinds"])
    if failures:
        print(f"FAILED: {failures} requests got a 5xx or no answer", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
