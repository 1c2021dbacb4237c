"""Coverage-guided fuzzing of intake: mutated PDFs, TIFFs, PNGs and JPEGs through ``ingest.intake.receive``.

Why: intake parses whatever anyone uploads (qpdf for PDFs, Pillow's header parsers for images, img2pdf for a
JPEG's or PNG's pages PDF) inside the web server's process. Every input must end as an acceptance or an
``IngestError`` (a documented refusal), within a time bound, and leave no temp file; any other exception, a
crash of the native code, a hang past ``-timeout`` or memory past ``-rss_limit_mb`` is a finding. The seeds are
small valid files made here; libFuzzer (through atheris) mutates them, guided by the coverage of the
instrumented Python code (hoso's intake, Pillow's image plugins, img2pdf, pikepdf's Python layer; qpdf's own
C++ is not instrumented).

atheris is not a project dependency (it builds against libFuzzer and is used only here); install it apart:

    .venv/bin/pip install --target /tmp/hoso-atheris atheris
    mkdir -p /tmp/hoso-fuzz/corpus /tmp/hoso-fuzz/crashes
    PYTHONPATH=/tmp/hoso-atheris .venv/bin/python bench/fuzz_intake.py /tmp/hoso-fuzz/corpus \\
        -max_total_time=600 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=/tmp/hoso-fuzz/crashes/

Extra arguments go to libFuzzer. Every 5000 inputs, and at the end, it prints the inputs run and how
they ended. A crasher, once fixed, goes to ``tests/ingest/fuzz_crashers/``, where
``tests/ingest/test_hostile_files.py`` replays it. ``--replay FILE...`` runs files through the same check
without atheris (to confirm a fix).
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import io
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

REPORT_EVERY = 5000
# Intake's limits as deployed (HOSO_MAX_PAGES 2000, HOSO_MAX_PAGE_MPIXELS 300, HOSO_OCR_DPI 300), but files of
# at most 1 MiB: mutations stay small and fast.
MAX_BYTES = 1024 * 1024


class Harness:
    """One intake per input, in a temp directory that must be empty again afterwards.

    A Python exception other than a refusal is a finding: counted under its type and the line of hoso or of
    the library that raised it, its first input saved to ``findings_dir``, and fuzzing goes on, so one run
    reports every kind it met (a native crash, a hang or too much memory still stops libFuzzer, which saves
    the input itself).
    """

    def __init__(self, findings_dir: Path | None = None) -> None:
        from ingest.intake import IntakeLimits

        self.temp_dir = Path(tempfile.mkdtemp(prefix="hoso-fuzz-"))
        self.limits = IntakeLimits(MAX_BYTES, 2000, 300_000_000, 300)
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.findings: collections.Counter[str] = collections.Counter()
        self.findings_dir = findings_dir
        self.started = time.monotonic()

    def check(self, data: bytes) -> None:
        """``run``, keeping going after a finding."""
        try:
            self.run(data)
        except Exception as failure:  # noqa: BLE001 - every kind is a finding, recorded and reported
            frame = traceback.extract_tb(failure.__traceback__)[-1]
            signature = f"{type(failure).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            if signature not in self.findings and self.findings_dir is not None:
                digest = hashlib.sha1(data).hexdigest()
                (self.findings_dir / f"finding-{digest}").write_bytes(data)
                print(f"[fuzz_intake] NEW FINDING {signature} ({str(failure)[:150]}) -> finding-{digest}", flush=True)
            self.findings[signature] += 1
            self.outcomes["FINDING"] += 1

    def run(self, data: bytes) -> str:
        """Accepted, or the refusal code; raises on anything else."""
        from ingest.errors import IngestError
        from ingest.intake import receive

        try:
            received = receive(io.BytesIO(data), "fuzz.bin", self.temp_dir, self.limits)
        except IngestError as refused:
            outcome = refused.code
        else:
            outcome = f"accepted {received.media_type}"
            received.discard()
        left = list(self.temp_dir.iterdir())
        if left:
            for path in left:
                path.unlink()
            raise AssertionError(f"intake left {[path.name for path in left]} after {outcome}")
        self.outcomes[outcome] += 1
        if sum(self.outcomes.values()) % REPORT_EVERY == 0:
            self.report()
        return outcome

    def report(self) -> None:
        total = sum(self.outcomes.values())
        elapsed = time.monotonic() - self.started
        ends = ", ".join(f"{name} {count}" for name, count in self.outcomes.most_common())
        print(f"[fuzz_intake] {total} inputs in {elapsed:.0f} s ({total / elapsed:.0f}/s): {ends}", flush=True)
        for signature, count in self.findings.most_common():
            print(f"[fuzz_intake]   finding x{count}: {signature}", flush=True)


def replay(paths: list[str]) -> int:
    harness = Harness()
    try:
        for name in paths:
            print(f"{name}: {harness.run(Path(name).read_bytes())}")
    finally:
        shutil.rmtree(harness.temp_dir, ignore_errors=True)
    return 0


def fuzz(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        import img2pdf  # noqa: F401 - instrumented for coverage
        import pikepdf  # noqa: F401
        import PIL.Image  # noqa: F401
        import PIL.JpegImagePlugin  # noqa: F401
        import PIL.PngImagePlugin  # noqa: F401
        import PIL.TiffImagePlugin  # noqa: F401

        import ingest.images  # noqa: F401
        import ingest.intake  # noqa: F401
        import ingest.sniff  # noqa: F401
    from tests.ingest.hostile_files import fuzz_seeds  # after: it imports pikepdf, Pillow and img2pdf too

    corpus = next((Path(arg) for arg in argv[1:] if not arg.startswith("-")), None)
    if corpus is not None:
        corpus.mkdir(parents=True, exist_ok=True)
        for name, content in fuzz_seeds().items():
            (corpus / f"seed-{name}").write_bytes(content)
    prefix = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("-artifact_prefix=")), None)
    harness = Harness(Path(prefix) if prefix else None)
    atexit.register(harness.report)
    warnings.simplefilter("ignore")  # Pillow warns on every corrupt EXIF block; that is not a finding

    def test_one_input(data: bytes) -> None:
        harness.check(data)

    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--replay":
        sys.exit(replay(sys.argv[2:]))
    fuzz(sys.argv)
