"""A watched folder takes each file once it is complete, files it under done/ or failed/ (with the reason
beside it), takes the case number from the name, and leaves a file in place when the fault is not the file's."""

from __future__ import annotations

import dataclasses
import json
import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli import main
from archive.models import Dossier
from archive.runtime import Runtime
from ingest import watch
from ingest.queue import JobQueue
from ingest.watch import FolderWatch, case_number_from_name
from tests.ingest.intake_files import assert_nothing_left, blank_pdf, multipage_tiff, stored_objects


@pytest.mark.parametrize(
    ("filename", "case_number"),
    [
        ("148-QĐ-XPHC.pdf", "148/QĐ-XPHC"),
        ("148-QĐ-XPHC_part2.tif", "148/QĐ-XPHC"),
        ("01-BB-KT.jpeg", "01/BB-KT"),
        ("BB-2025-07.pdf", "BB-2025-07"),
        (unicodedata.normalize("NFD", "15-QĐ-Xử phạt.pdf"), "15/QĐ-Xử phạt"),
        ("_scan.pdf", None),
    ],
)
def test_case_number_from_name(filename: str, case_number: str | None) -> None:
    assert case_number_from_name(filename) == case_number


class Clock:
    """A clock the test moves: settling is about time, and tests do not sleep."""

    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


def drop(folder: Path, name: str, content: bytes, clock: Clock) -> Path:
    path = folder / name
    path.write_bytes(content)
    os.utime(path, (clock.now, clock.now))
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_complete_files_are_filed_under_done_or_failed(runtime: Runtime, inbox: Path) -> None:
    clock = Clock()
    watcher = FolderWatch(runtime, JobQueue(runtime.settings), inbox, "LCI-D1", settle_seconds=5, clock=clock)
    drop(inbox, "148-QĐ-XPHC.pdf", blank_pdf(2), clock)
    drop(inbox, "12-QĐ-KT.pdf", b"PK\x03\x04 not a scan", clock)
    drop(inbox, "77-BB.tif.part", b"still copying", clock)
    drop(inbox, ".~lock.148-QĐ-XPHC.pdf#", b"", clock)

    assert watcher.poll() == ([], 2), "first look: two candidates, neither known to be complete"
    clock.now += 1
    assert watcher.poll() == ([], 2), "unchanged, but younger than the settle time"
    clock.now += 5
    outcomes, waiting = watcher.poll()
    assert waiting == 0
    by_name = {outcome.filename: outcome for outcome in outcomes}
    accepted, refused = by_name["148-QĐ-XPHC.pdf"], by_name["12-QĐ-KT.pdf"]
    assert (accepted.outcome, accepted.case_number) == ("accepted", "148/QĐ-XPHC")
    assert (refused.outcome, refused.error) == ("refused", "unsupported_type")
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["148-QĐ-XPHC.pdf"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["12-QĐ-KT.pdf", "12-QĐ-KT.pdf.error.txt"]
    reason = (inbox / "failed" / "12-QĐ-KT.pdf.error.txt").read_text(encoding="utf-8")
    assert "unsupported_type" in reason and "ZIP archive" in reason and "Tệp không phải là PDF." in reason
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [".~lock.148-QĐ-XPHC.pdf#", "77-BB.tif.part"]
    with runtime.sessions() as session:
        dossiers = session.scalars(select(Dossier)).all()
        assert [(d.id, d.case.case_number, d.case.unit.code) for d in dossiers] == [
            (accepted.dossier_id, "148/QĐ-XPHC", "LCI-D1")
        ]
    assert len(stored_objects(runtime)) == 1, "the refused file stored nothing"


def test_a_file_still_growing_is_not_taken(runtime: Runtime, inbox: Path) -> None:
    clock = Clock()
    watcher = FolderWatch(runtime, JobQueue(runtime.settings), inbox, "LCI-D1", settle_seconds=0, clock=clock)
    content = blank_pdf(3)
    path = drop(inbox, "5-QĐ-XPHC.pdf", content[:300], clock)
    watcher.poll()
    with path.open("ab") as scanner:
        scanner.write(content[300:])
    assert watcher.poll() == ([], 1), "the size changed since the last look"
    outcomes, _ = watcher.poll()
    assert [(o.outcome, o.filename) for o in outcomes] == [("accepted", "5-QĐ-XPHC.pdf")]
    with runtime.sessions() as session:
        assert session.scalars(select(Dossier)).one().page_count == 3


def test_the_same_scan_again_is_the_same_dossier_and_names_never_clash(runtime: Runtime, inbox: Path) -> None:
    clock = Clock()
    watcher = FolderWatch(runtime, JobQueue(runtime.settings), inbox, "LCI-D1", case_number="9/QĐ", clock=clock)
    content = multipage_tiff([(200, 300), (200, 300)])
    ids = []
    for _ in range(2):
        drop(inbox, "scan.tif", content, clock)
        watcher.poll()
        clock.now += 20
        (outcome,), _ = watcher.poll()
        ids.append(outcome.dossier_id)
    assert ids[0] == ids[1]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["scan.1.tif", "scan.tif"]


def test_a_name_without_a_case_number_is_refused(runtime: Runtime, inbox: Path) -> None:
    clock = Clock()
    watcher = FolderWatch(runtime, JobQueue(runtime.settings), inbox, "LCI-D1", settle_seconds=0, clock=clock)
    drop(inbox, "_scan.pdf", blank_pdf(1), clock)
    watcher.poll()
    (outcome,), _ = watcher.poll()
    assert outcome.error == "case_number_not_in_name"
    assert "148-QĐ-XPHC.pdf" in (inbox / "failed" / "_scan.pdf.error.txt").read_text(encoding="utf-8")
    assert_nothing_left(runtime)


def test_a_failure_that_is_not_the_file_s_leaves_it_for_the_next_look(
    runtime: Runtime, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    watcher = FolderWatch(runtime, JobQueue(runtime.settings), inbox, "LCI-D1", settle_seconds=0, clock=clock)
    drop(inbox, "3-QĐ.pdf", blank_pdf(1), clock)
    watcher.poll()
    real_submit = watch.submit

    def database_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database is down")

    monkeypatch.setattr(watch, "submit", database_down)
    assert watcher.poll() == ([], 0)
    assert (inbox / "3-QĐ.pdf").exists() and not any((inbox / "failed").iterdir())
    monkeypatch.setattr(watch, "submit", real_submit)
    (outcome,), _ = watcher.poll()
    assert outcome.outcome == "accepted"


def test_hoso_watch_once_reports_json_lines_and_exits_2_after_a_refusal(
    runtime: Runtime, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, watch_interval=0.01, watch_settle=0))
    (inbox / "21-QĐ-XPHC.pdf").write_bytes(blank_pdf(1))
    (inbox / "22-QĐ-XPHC.pdf").write_bytes(b"")
    result = CliRunner().invoke(main, ["watch", str(inbox), "--unit", "LCI-D1", "--once", "--json"])
    assert result.exit_code == 2, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["filename"], line["outcome"], line["error"]) for line in lines] == [
        ("21-QĐ-XPHC.pdf", "accepted", None),
        ("22-QĐ-XPHC.pdf", "refused", "empty_file"),
    ]
    result = CliRunner().invoke(main, ["watch", str(inbox), "--unit", "NOPE", "--once"])
    assert result.exit_code == 3 and "NOPE" in result.stderr
