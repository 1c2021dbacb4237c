"""Hostile and broken files, through intake (what `hoso ingest` and the watched folder call) and through the
HTTP API: each is accepted, or refused with a code documented in docs/ingest.md, the API answers 4xx JSON and
never 5xx, and a refusal leaves no dossier, page, object or temp file. Intake only: no page is read (no OCR)."""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageFile, TiffImagePlugin
from sqlalchemy import func, select

from archive import tokens
from archive.models import Dossier, Page, User
from archive.runtime import Runtime
from archive.web import create_app
from ingest.errors import IngestError
from ingest.intake import IntakeLimits, receive
from ingest.queue import JobQueue
from ingest.submit import submit
from tests.conftest import CORPUS, REPO_ROOT
from tests.ingest.hostile_files import ACCEPTED, Hostile, fuzz_seeds, hostile_cases, regression_files
from tests.ingest.intake_files import assert_nothing_left

CASES = hostile_cases()
CRASHERS = Path(__file__).parent / "fuzz_crashers"
REAL_CORPUS = CORPUS / "real"
REAL_FILES = sorted(path for path in REAL_CORPUS.rglob("*") if path.is_file()) if REAL_CORPUS.is_dir() else []
CASE_NUMBER, UNIT = "148/QĐ-XPHC", "LCI-D1"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about corrupt EXIF while refusing


def documented_codes() -> set[str]:
    """The refusal codes in the table of docs/ingest.md's "Refusals" section."""
    text = (REPO_ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    section = text.split("### Refusals", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


# The upload route's own refusals, listed in docs/web.md (a multipart body werkzeug cannot parse has no file).
DOCUMENTED = documented_codes() | {"missing_file"}


class RecordingQueue(JobQueue):
    """The real queue's interface, recording what would be queued: intake is under test, not the workers."""

    def __init__(self, runtime: Runtime):
        super().__init__(runtime.settings)
        self.queued: list[tuple[str, int]] = []

    def enqueue_pages(self, dossier_id: str, page_numbers: list[int]) -> None:
        self.queued += [(dossier_id, number) for number in page_numbers]

    def enqueue_conversion(self, dossier_id: str) -> None:
        self.queued.append((dossier_id, 0))


@pytest.fixture
def queue(runtime: Runtime) -> RecordingQueue:
    return RecordingQueue(runtime)


@pytest.fixture
def client(runtime: Runtime, queue: RecordingQueue) -> FlaskClient:
    """A scanner station's client: the API with a bearer token (no Argon2 sign-in per test)."""
    with runtime.sessions() as session:
        owner = session.scalars(select(User).where(User.username == "canbo")).one()
        token = tokens.create(session, owner, "hostile files").token
    app = create_app(runtime, queue)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture(autouse=True)
def no_pixel_decoded(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a bomb's header, decoding any pixel fails the test: the refusal must come from the header alone."""
    case = request.node.callspec.params.get("case") if hasattr(request.node, "callspec") else None
    if isinstance(case, Hostile) and case.header_only:

        def refuse_to_decode(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("pixels were decoded")

        monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
        monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "load", refuse_to_decode)


def with_case_limits(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, case: Hostile) -> None:
    if case.limits:
        monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, **case.limits))


def sent_dir(tmp_path: Path) -> Path:
    """Where a test writes the file it sends, outside HOSO_HOME."""
    path = tmp_path / "sent"
    path.mkdir(exist_ok=True)
    return path


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def assert_nothing_written_outside_the_store(runtime: Runtime, tmp_path: Path, before: set[Path]) -> None:
    """Files that appeared since ``before`` are in the store, the test's own files, or the databases."""
    settings = runtime.settings
    allowed = (settings.storage_dir, settings.temp_dir, sent_dir(tmp_path))
    for path in files_under(tmp_path) - before:
        in_store = any(path.is_relative_to(root) for root in allowed)
        assert in_store or path.parent == settings.home, f"written outside the store: {path}"


def assert_safe_name(name: str) -> None:
    """What a stored file name may hold, whatever was sent: one NFC path part, nothing hidden, not too long."""
    assert len(name) <= 255 and "/" not in name and "\\" not in name
    assert unicodedata.normalize("NFC", name) == name
    hidden = [
        c
        for c in name
        if unicodedata.category(c) in ("Cc", "Cs") or (unicodedata.category(c) == "Cf" and c != "\u200d")
    ]
    assert not hidden, f"hidden characters kept: {hidden!r}"


def row_counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Dossier)) or 0,
            session.scalar(select(func.count()).select_from(Page)) or 0,
        )


def assert_refusal(runtime: Runtime, code: str, detail: str) -> None:
    assert code in DOCUMENTED, f"{code} is not in docs/ingest.md's refusal table"
    assert detail and str(runtime.settings.temp_dir) not in detail and "upload-" not in detail
    assert_nothing_left(runtime)


def assert_accepted(runtime: Runtime, queue: RecordingQueue, case: Hostile, dossier_id: str, name: str) -> None:
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        assert dossier.original_filename == name
        assert len(dossier.pages) == dossier.page_count >= 1
    assert queued_for(queue, dossier_id), "an accepted dossier has its work queued"
    assert_safe_name(name)
    if case.expected_name is not None:
        assert name == case.expected_name
    assert list(runtime.settings.temp_dir.iterdir()) == []


def queued_for(queue: RecordingQueue, dossier_id: str) -> list[int]:
    return [number for queued_id, number in queue.queued if queued_id == dossier_id]


@pytest.mark.parametrize("case", CASES, ids=[case.case_id for case in CASES])
def test_intake_answers_a_hostile_file(
    runtime: Runtime, queue: RecordingQueue, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: Hostile
) -> None:
    with_case_limits(runtime, monkeypatch, case)
    path = case.write(sent_dir(tmp_path))
    before = files_under(tmp_path)
    try:
        with path.open("rb") as stream:
            dossier, created = submit(runtime, queue, stream, case.filename, CASE_NUMBER, UNIT)
    except IngestError as refused:
        assert refused.code in case.outcomes, f"refused with {refused.code}: {refused.detail}"
        assert refused.message_vi and refused.remedy_vi
        assert_refusal(runtime, refused.code, refused.detail)
    else:
        assert ACCEPTED in case.outcomes, "accepted a file that must be refused"
        assert created
        assert_accepted(runtime, queue, case, dossier.id, dossier.original_filename)
    assert_nothing_written_outside_the_store(runtime, tmp_path, before)


def multipart(content: bytes, filename: str) -> tuple[bytes, str]:
    """The upload body as a browser or a hostile client writes it, with the file name's bytes as given
    (a lone surrogate stands for an invalid UTF-8 byte); CR, LF and '"' escaped as the HTML standard says."""
    boundary = "hoso-hostile-boundary"
    escaped = filename.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22").encode("utf-8", "surrogateescape")
    parts = [
        b'Content-Disposition: form-data; name="file"; filename="' + escaped + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content,
        b'Content-Disposition: form-data; name="case_number"\r\n\r\n' + CASE_NUMBER.encode(),
        b'Content-Disposition: form-data; name="unit"\r\n\r\n' + UNIT.encode(),
    ]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("case", CASES, ids=[case.case_id for case in CASES])
def test_the_api_answers_a_hostile_file(
    client: FlaskClient,
    runtime: Runtime,
    queue: RecordingQueue,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    case: Hostile,
) -> None:
    with_case_limits(runtime, monkeypatch, case)
    body, content_type = multipart(case.write(sent_dir(tmp_path)).read_bytes(), case.filename)
    before = files_under(tmp_path)
    response = client.post("/api/v1/dossiers", data=body, content_type=content_type)
    answer = response.get_json()
    assert response.status_code < 500, answer
    if response.status_code >= 400:
        assert set(answer) >= {"error", "detail"} and answer["error"] in case.api_outcomes, answer
        assert_refusal(runtime, answer["error"], answer["detail"])
    else:
        assert response.status_code == 201 and ACCEPTED in case.outcomes, answer
        with runtime.sessions() as session:
            name = session.get_one(Dossier, answer["dossier_id"]).original_filename
        if any(character in case.filename for character in '\r\n"\\'):
            # Sent escaped (CR, LF, '"'), or unescaped by werkzeug ('\' escapes the next character in a
            # quoted header value): only the name's safety is checked.
            case = dataclasses.replace(case, expected_name=None)
        assert_accepted(runtime, queue, case, answer["dossier_id"], name)
    assert_nothing_written_outside_the_store(runtime, tmp_path, before)
    still_up = client.get("/api/v1/dossiers/no-such-dossier")
    assert still_up.status_code == 404 and still_up.get_json()["error"], "the server still answers"


@pytest.mark.skipif(not REAL_FILES, reason=f"the shared real corpus ({REAL_CORPUS}) is not present")
@pytest.mark.parametrize(
    "path", REAL_FILES or [None], ids=[str(path.relative_to(REAL_CORPUS)) for path in REAL_FILES] or ["absent"]
)
def test_every_real_corpus_file_is_accepted_or_refused_as_documented(
    runtime: Runtime, queue: RecordingQueue, path: Path
) -> None:
    with path.open("rb") as stream:
        try:
            dossier, created = submit(runtime, queue, stream, path.name, CASE_NUMBER, UNIT)
        except IngestError as refused:
            assert_refusal(runtime, refused.code, refused.detail)
            return
    assert created and row_counts(runtime) == (1, dossier.page_count)
    assert list(runtime.settings.temp_dir.iterdir()) == []


CRASHER_FILES = regression_files(CRASHERS)


@pytest.mark.parametrize("path", CRASHER_FILES, ids=[path.name for path in CRASHER_FILES])
def test_fuzzer_crashers_are_answered(client: FlaskClient, runtime: Runtime, queue: RecordingQueue, path: Path) -> None:
    """Inputs on which bench/fuzz_intake.py made intake raise something other than a refusal (a server error
    through the API), kept once fixed: now accepted or refused as documented, by intake and by the API."""
    try:
        dossier, created = submit(runtime, queue, io.BytesIO(path.read_bytes()), path.name, CASE_NUMBER, UNIT)
    except IngestError as refused:
        assert_refusal(runtime, refused.code, refused.detail)
        body, content_type = multipart(path.read_bytes(), path.name)
        response = client.post("/api/v1/dossiers", data=body, content_type=content_type)
        assert response.status_code < 500 and response.get_json()["error"] == refused.code
        assert_refusal(runtime, refused.code, response.get_json()["detail"])
        return
    assert created and row_counts(runtime) == (1, dossier.page_count)


SEEDS = fuzz_seeds()


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)), max_size=4),
    kept=st.floats(0.05, 1.0),
)
def test_mutated_files_are_accepted_or_refused(
    tmp_path: Path, seed: str, edits: list[tuple[float, bytes]], kept: float
) -> None:
    """A few bench/fuzz_intake.py-like mutations of the fuzzer's seeds on every run, without atheris: bytes
    overwritten at some places, the end cut off. Intake accepts or refuses as documented, and leaves no file."""
    content = bytearray(SEEDS[seed])
    for where, replacement in edits:
        start = int(where * (len(content) - 1))
        content[start : start + len(replacement)] = replacement
    content = content[: max(1, int(len(content) * kept))]
    spool_dir = tmp_path / "spool"
    try:
        received = receive(
            io.BytesIO(bytes(content)), "mutated.bin", spool_dir, IntakeLimits(1 << 20, 2000, 300_000_000, 300)
        )
    except IngestError as refused:
        assert refused.code in DOCUMENTED
    else:
        received.discard()
    assert list(spool_dir.iterdir()) == []
