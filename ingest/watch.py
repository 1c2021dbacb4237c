"""A watched folder: scanner stations drop files into it, hoso takes each one once it is complete.

Polling, not file-system events: scan folders are often network shares (SMB/NFS), where inotify sees
nothing of what other machines write, and a poll every few seconds costs nothing next to OCR. A file is
complete when its size and modification time are unchanged between two looks and at least
``settle_seconds`` old; then it is submitted like any upload and moved to ``done/`` (accepted, or the
same original as an existing dossier) or ``failed/`` with ``NAME.error.txt`` beside it (refused).
Unexpected failures (database or store down) leave the file where it is, to be tried again.

The case number comes from ``--case`` or from the file name: the name without extension, cut at the
first ``_`` (so ``148-QĐ-XPHC_part2.pdf`` works), with the hyphen after the leading number standing for
the slash no file name can hold: ``148-QĐ-XPHC.pdf`` is case ``148/QĐ-XPHC``.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive.runtime import Runtime
from ingest.errors import IngestError
from ingest.queue import JobQueue
from ingest.submit import submit

log = logging.getLogger(__name__)

DONE_DIR = "done"
FAILED_DIR = "failed"
ERROR_SUFFIX = ".error.txt"
# Names scanner software and copy tools give files still being written.
_PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart")
_LEADING_NUMBER = re.compile(r"^(\d+)-(.+)$")


class CaseNumberNotInName(IngestError):
    code = "case_number_not_in_name"
    detail = "The file name does not hold a case number (expected e.g. 148-QĐ-XPHC.pdf for case 148/QĐ-XPHC)."
    message_vi = "Tên tệp không chứa số vụ việc."
    remedy_vi = "Đặt tên tệp theo số vụ việc, ví dụ 148-QĐ-XPHC.pdf cho vụ việc 148/QĐ-XPHC, rồi chép lại vào thư mục."


def case_number_from_name(filename: str) -> str | None:
    """The case number a file name stands for, or None when the name holds none (see the module docstring)."""
    stem = unicodedata.normalize("NFC", Path(filename).stem).split("_", 1)[0].strip()
    if not stem:
        return None
    match = _LEADING_NUMBER.match(stem)
    return f"{match.group(1)}/{match.group(2)}" if match else stem


@dataclass(frozen=True)
class WatchOutcome:
    """What became of one file: ``accepted``, ``duplicate`` (an existing dossier) or ``refused``."""

    filename: str
    outcome: str
    moved_to: str
    dossier_id: str | None = None
    case_number: str | None = None
    error: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return dict(self.__dict__)


@dataclass
class FolderWatch:
    """One watched folder for one unit; ``poll`` looks once, ``run`` keeps looking."""

    runtime: Runtime
    queue: JobQueue
    folder: Path
    unit_code: str
    case_number: str | None = None
    settle_seconds: float = 10.0
    clock: Callable[[], float] = time.time
    # (size, mtime) of each file at the previous look.
    _seen: dict[Path, tuple[int, float]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for sub in (DONE_DIR, FAILED_DIR):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    def candidates(self) -> list[Path]:
        return sorted(
            path
            for path in self.folder.iterdir()
            if path.is_file() and not path.name.startswith((".", "~")) and not path.name.endswith(_PARTIAL_SUFFIXES)
        )

    def poll(self) -> tuple[list[WatchOutcome], int]:
        """Take every complete file; returns the outcomes and how many files are still being written."""
        outcomes: list[WatchOutcome] = []
        waiting = 0
        seen_now: dict[Path, tuple[int, float]] = {}
        for path in self.candidates():
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime)
            settled = self._seen.get(path) == signature and self.clock() - stat.st_mtime >= self.settle_seconds
            if not settled:
                seen_now[path] = signature
                waiting += 1
                continue
            outcome = self._take(path)
            if outcome is None:
                seen_now[path] = signature  # left in place after an unexpected error: try again later
            else:
                outcomes.append(outcome)
        self._seen = seen_now
        return outcomes, waiting

    def run(self, interval: float, once: bool, report: Callable[[WatchOutcome], None]) -> None:
        """Poll every ``interval`` seconds; with ``once``, stop when no file is left waiting to settle (a file
        kept after an unexpected error is not waited for)."""
        while True:
            outcomes, waiting = self.poll()
            for outcome in outcomes:
                report(outcome)
            if once and not waiting:
                return
            time.sleep(interval)

    def _take(self, path: Path) -> WatchOutcome | None:
        case_number = self.case_number or case_number_from_name(path.name)
        try:
            if not case_number:
                raise CaseNumberNotInName()
            with path.open("rb") as stream:
                dossier, created = submit(self.runtime, self.queue, stream, path.name, case_number, self.unit_code)
        except IngestError as refused:
            moved = _move(path, self.folder / FAILED_DIR)
            moved.with_name(moved.name + ERROR_SUFFIX).write_text(_error_text(refused), encoding="utf-8")
            log.info("watch: %s refused: %s: %s", path.name, refused.code, refused.detail)
            return WatchOutcome(
                path.name, "refused", str(moved), case_number=case_number, error=refused.code, detail=refused.detail
            )
        except Exception:  # noqa: BLE001 - not the file's fault: keep it and try again at the next look
            log.exception("watch: %s could not be ingested now; it stays for the next look", path.name)
            return None
        moved = _move(path, self.folder / DONE_DIR)
        outcome = "accepted" if created else "duplicate"
        return WatchOutcome(path.name, outcome, str(moved), dossier_id=dossier.id, case_number=case_number)


def _move(path: Path, target_dir: Path) -> Path:
    """Move ``path`` into ``target_dir`` without overwriting: a second ``a.pdf`` becomes ``a.1.pdf``."""
    target = target_dir / path.name
    counter = 0
    while target.exists() or target.with_name(target.name + ERROR_SUFFIX).exists():
        counter += 1
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
    shutil.move(path, target)
    return target


def _error_text(refused: IngestError) -> str:
    return (
        f"error: {refused.code}\n"
        f"detail: {refused.detail}\n"
        f"lỗi: {refused.message_vi}\n"
        f"cách khắc phục: {refused.remedy_vi}\n"
    )
