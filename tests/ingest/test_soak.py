"""Soak: 20 scans uploaded through the real HTTP API while `hoso serve` and `hoso worker` are SIGKILLed at random
moments and started again. Every acknowledged upload must end as exactly one processed dossier, one original
whose bytes match its SHA-256 key, and one search-index entry per page; an upload never acknowledged may be
absent or complete, never half there.

Both services run as real processes, each in its own process group, killed whole (kill -9) as a power cut or the
OOM killer would. The worker is the real one with OCR replaced by recorded words (tests/ingest/replay_worker.py),
so a page takes a realistic but short time. The scans are generated here (noise JPEG pages in a PDF, distinct
bytes per scan), so the test needs no shared corpus.

The kill schedule (which service, when, how long it stays down) and the scans come from one seed, printed at the
start; run another with ``SOAK_SEED=1234 .venv/bin/pytest tests/ingest/test_soak.py -s``. The seed fixes the
schedule, not the interleaving with the processes, which the machine's load decides.
"""

from __future__ import annotations

import io
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import urllib3
from fpdf import FPDF
from PIL import Image
from sqlalchemy import func, select

from archive import tokens
from archive.models import Dossier, Page, User
from archive.runtime import Runtime
from archive.storage import file_sha256, original_key
from tests.conftest import REPO_ROOT
from tests.ingest.test_crash import index_pages

UPLOADS = 20
KILLS_PER_SERVICE = 5
TRUTH_PAGES = 3
REPLAY_SECONDS = "0.3"
START_SECONDS = 60
SETTLE_SECONDS = 120  # after the last kill, for the queue to finish every dossier
UNIT = "LCI-D1"
FINAL_STATUSES = ("processed", "failed")
# A client whose request is cut off by a kill gives its scan up with this chance (a person who walks away);
# otherwise it sends the same file again, as a scanner station's retry does.
ABANDON_CHANCE = 0.25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """A hoso process (server or worker) in its own process group; ``kill_9`` ends the whole group at once."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    def kill_9(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, characters: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-characters:]


def _server_answers(url: str) -> bool:
    try:
        return urllib3.request("GET", url + "/login", timeout=2, retries=False).status == 200
    except urllib3.exceptions.HTTPError:
        return False


def _wait_until_up(server: Service, url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not _server_answers(url):
        assert server.alive(), f"hoso serve exited:\n{server.log_tail()}"
        assert time.monotonic() < deadline, f"hoso serve did not answer within {START_SECONDS} s:\n{server.log_tail()}"
        time.sleep(0.1)


def _replay_truth(path: Path) -> Path:
    """Recorded OCR for TRUTH_PAGES pages (page n of every scan replays page n), in the dev corpus's format."""
    pages = []
    for number in range(1, TRUTH_PAGES + 1):
        lines = [f"BIÊN BẢN KIỂM TRA số {number}", f"Hộ kinh doanh Đồng Tâm trang {number}", "Hàng hóa nhập lậu"]
        pages.append(
            {
                "role": "document",
                "doc_type": "bien_ban_kiem_tra",
                "sheet_number": str(number),
                "rotation": 0,
                "width_px": 1654,
                "height_px": 2339,
                "text": "\n".join(lines),
                "lines": [
                    {"text": text, "bbox": [200, 150 + 60 * i, 1400, 200 + 60 * i]} for i, text in enumerate(lines)
                ],
            }
        )
    path.write_text(json.dumps({"dpi": 200, "pages": pages}, ensure_ascii=False), encoding="utf-8")
    return path


def _scan(rng: random.Random, pages: int, target: Path) -> Path:
    """A PDF of ``pages`` A4 pages, each a grey noise JPEG (a few hundred KB, like a scanned sheet)."""
    pdf = FPDF(format="A4")
    for _ in range(pages):
        image = Image.frombytes("L", (620, 877), rng.randbytes(620 * 877))
        jpeg = io.BytesIO()
        image.save(jpeg, format="JPEG", quality=60)
        pdf.add_page()
        pdf.image(jpeg, x=0, y=0, w=210, h=297)
    pdf.output(str(target))
    return target


@dataclass
class Upload:
    path: Path
    sha256: str
    attempts: int = 0
    refused: int = 0  # attempts whose connection was refused (the server was down)
    dropped: int = 0  # attempts sent whose answer never came (the server was killed under them)
    abandoned: bool = False
    acknowledged: list[tuple[int, str]] = field(default_factory=list)  # (status, dossier id) of each 2xx


class Client(threading.Thread):
    """Sends each scan through POST /api/v1/dossiers until acknowledged (or abandoned), one at a time."""

    def __init__(self, url: str, token: str, uploads: list[Upload], rng: random.Random, in_flight: threading.Event):
        super().__init__(name="soak-client", daemon=True)
        self.url, self.uploads, self.rng, self.in_flight = url, uploads, rng, in_flight
        self.http = urllib3.PoolManager(headers={"Authorization": f"Bearer {token}"}, retries=False)
        self.errors: list[str] = []  # answers that are neither 2xx nor a dropped connection

    def run(self) -> None:
        for upload in self.uploads:
            while not upload.acknowledged and not upload.abandoned:
                self._send(upload)
            time.sleep(self.rng.uniform(0.5, 3.0))

    def _send(self, upload: Upload) -> None:
        upload.attempts += 1
        fields: dict[str, str | tuple[str, bytes, str]] = {
            "file": (upload.path.name, upload.path.read_bytes(), "application/pdf"),
            "case_number": f"SOAK/{upload.path.stem}",
            "unit": UNIT,
        }
        self.in_flight.set()
        try:
            response = self.http.request("POST", self.url + "/api/v1/dossiers", fields=fields, timeout=60)
        except urllib3.exceptions.NewConnectionError:  # the server is down: try again shortly
            upload.refused += 1
            time.sleep(0.3)
            return
        except urllib3.exceptions.HTTPError:  # sent, and the answer never came: the server died under it
            upload.dropped += 1
            upload.abandoned = self.rng.random() < ABANDON_CHANCE
            time.sleep(0.2)
            return
        finally:
            self.in_flight.clear()
        if 200 <= response.status < 300:
            upload.acknowledged.append((response.status, response.json()["dossier_id"]))
        else:
            self.errors.append(f"{upload.path.name}: {response.status} {response.data[:300]!r}")
            time.sleep(0.5)


def _chaos(
    rng: random.Random, server: Service, worker: Service, url: str, in_flight: threading.Event
) -> list[tuple[float, str]]:
    """Kill each service KILLS_PER_SERVICE times in a seeded order at seeded moments; restart it after a seeded
    pause. A server kill waits for an upload to be under way, then a seeded fraction of a second, so most land
    mid-request. Returns (seconds since start, service) of each kill."""
    started = time.monotonic()
    schedule = ["server"] * KILLS_PER_SERVICE + ["worker"] * KILLS_PER_SERVICE
    rng.shuffle(schedule)
    kills = []
    for name in schedule:
        time.sleep(rng.uniform(0.5, 3.0))
        service = server if name == "server" else worker
        if name == "server":
            in_flight.wait(timeout=5)
            time.sleep(rng.uniform(0.0, 0.25))
        service.kill_9()
        service.kills += 1
        kills.append((round(time.monotonic() - started, 1), name))
        time.sleep(rng.uniform(0.0, 1.0))
        service.start()
        if name == "server":
            _wait_until_up(server, url)
    return kills


def _final(runtime: Runtime, dossier_ids: list[str]) -> bool:
    with runtime.sessions() as session:
        statuses = session.scalars(select(Dossier.status).where(Dossier.id.in_(dossier_ids))).all()
    return len(statuses) == len(dossier_ids) and all(status in FINAL_STATUSES for status in statuses)


def test_uploads_survive_random_kill_9_of_server_and_worker(runtime: Runtime, tmp_path: Path) -> None:
    seed = int(os.environ.get("SOAK_SEED", random.randrange(1_000_000)))
    print(f"\nsoak seed {seed} (SOAK_SEED={seed} runs this schedule again)")
    rng = random.Random(seed)
    scans = tmp_path / "scans"
    scans.mkdir()
    uploads = []
    for number in range(1, UPLOADS + 1):
        path = _scan(rng, rng.randint(1, TRUTH_PAGES), scans / f"scan-{number:02d}.pdf")
        uploads.append(Upload(path, file_sha256(path)))
    with runtime.sessions() as session:
        token = tokens.create(session, session.scalars(select(User).where(User.username == "canbo")).one(), "soak")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    env |= {
        "HOSO_HOME": str(runtime.settings.home),
        "HOSO_DATABASE_URL": runtime.settings.database_url,  # the test's database, on either engine
        "HOSO_SECRET_KEY": secrets.token_hex(32),
        "HOSO_WORKERS": "2",
        "HOSO_UPLOAD_RATE_LIMIT": "100000/hour",
    }
    hoso = [sys.executable, "-m", "archive.cli"]
    server = Service("server", [*hoso, "serve", "--no-worker", "--port", str(port)], env, tmp_path / "serve.log")
    worker_env = env | {"REPLAY_TRUTH": str(_replay_truth(tmp_path / "truth.json")), "REPLAY_SECONDS": REPLAY_SECONDS}
    worker_command = [sys.executable, "-m", "tests.ingest.replay_worker"]
    worker = Service("worker", worker_command, worker_env, tmp_path / "worker.log")
    began = time.monotonic()
    try:
        server.start()
        worker.start()
        _wait_until_up(server, url)
        in_flight = threading.Event()
        client = Client(url, token.token, uploads, rng, in_flight)
        client.start()
        kills = _chaos(random.Random(rng.random()), server, worker, url, in_flight)
        chaos_seconds = time.monotonic() - began
        client.join(timeout=START_SECONDS)
        assert not client.is_alive(), "the client never got its uploads acknowledged"
        assert client.errors == [], f"answers other than 2xx (seed {seed}): {client.errors}"
        acknowledged = [upload for upload in uploads if upload.acknowledged]
        deadline = time.monotonic() + SETTLE_SECONDS
        with runtime.sessions() as session:
            every_dossier = list(session.scalars(select(Dossier.id)))
        while not _final(runtime, every_dossier):
            assert worker.alive(), f"the worker died (seed {seed}):\n{worker.log_tail()}"
            assert time.monotonic() < deadline, f"dossiers never finished (seed {seed}):\n{worker.log_tail()}"
            time.sleep(0.2)
        settle_seconds = time.monotonic() - began - chaos_seconds
    finally:
        server.kill_9()
        worker.kill_9()
    print(
        f"soak: {len(acknowledged)} acknowledged, {sum(u.abandoned for u in uploads)} abandoned, "
        f"{sum(u.dropped for u in uploads)} requests cut off, {sum(u.refused for u in uploads)} refused, "
        f"kills {kills}, "
        f"chaos {chaos_seconds:.0f} s, then {settle_seconds:.0f} s to finish"
    )
    _assert_exactly_once(runtime, uploads, seed)


def _assert_exactly_once(runtime: Runtime, uploads: list[Upload], seed: int) -> None:
    store_root = runtime.settings.storage_dir
    originals = [path for path in (store_root / "originals").rglob("*") if path.is_file()]
    incoming = [path for path in originals if path.name.startswith(".incoming-")]
    originals = [path for path in originals if path not in incoming]
    for path in originals:
        assert file_sha256(path) == path.name, f"original {path.name} does not match its key (seed {seed})"
    original_names = Counter(path.name for path in originals)

    with runtime.sessions() as session:
        dossiers = {row.original_sha256: row for row in session.scalars(select(Dossier))}
        by_sha = Counter(session.scalars(select(Dossier.original_sha256)))
        page_rows = Counter(tuple(row) for row in session.execute(select(Page.dossier_id, Page.page_number)))
        pages_by_dossier = {
            dossier_id: (count, done)
            for dossier_id, count, done in session.execute(
                select(Page.dossier_id, func.count(), func.count().filter(Page.status == "done")).group_by(
                    Page.dossier_id
                )
            )
        }
        statuses = {row.id: row.status for row in dossiers.values()}
        page_counts = {row.id: row.page_count for row in dossiers.values()}

    assert all(count == 1 for count in by_sha.values()), "one dossier per SHA-256"
    assert all(count == 1 for count in page_rows.values()), "no duplicate page rows"
    for upload in uploads:
        if upload.acknowledged:
            assert upload.sha256 in dossiers, f"{upload.path.name} was acknowledged and is missing (seed {seed})"
            ids = {dossier_id for _status, dossier_id in upload.acknowledged}
            assert ids == {dossiers[upload.sha256].id}, f"{upload.path.name} acknowledged as {ids} (seed {seed})"
        elif upload.sha256 not in dossiers:
            assert original_names[upload.sha256] == 0 or upload.dropped, "an original only from a dropped request"
    for sha256, dossier in dossiers.items():
        assert original_names[sha256] == 1, f"dossier {dossier.id} has {original_names[sha256]} originals"
        assert runtime.store.sha256(original_key(sha256)) == sha256
        assert statuses[dossier.id] == "processed", f"dossier {dossier.id} is {statuses[dossier.id]} (seed {seed})"
        assert pages_by_dossier[dossier.id] == (page_counts[dossier.id], page_counts[dossier.id]), "every page done"
    assert {path.name for path in originals} >= set(dossiers), "no dossier row without its original"

    indexed = Counter(index_pages(runtime))
    expected = {(dossier.id, page) for dossier in dossiers.values() for page in range(1, dossier.page_count + 1)}
    assert set(indexed) == expected, f"the index holds every page and nothing else (seed {seed})"
    assert all(count == 1 for count in indexed.values()), f"each page indexed once (seed {seed}): {indexed}"
    leftovers = sorted(path.name for path in runtime.settings.temp_dir.iterdir())
    print(
        f"soak: {len(dossiers)} dossiers, {len(expected)} pages indexed once each; left by the kills: "
        f"{len(incoming)} half-written store files, {len(leftovers)} temp files {leftovers[:5]}"
    )
