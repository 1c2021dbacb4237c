"""Bad input is refused with a clear error and leaves nothing behind: no object, no record, no temp file.
Good PDFs are stored exactly as uploaded; a damaged one that pikepdf repairs is read from a repaired copy."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.models import Dossier
from archive.runtime import Runtime
from archive.storage import original_key
from ingest.errors import (
    EmptyFile,
    EncryptedPdf,
    FileTooLarge,
    IngestError,
    NoPages,
    PageTooLarge,
    TooManyPages,
    UnknownUnit,
    UnreadablePdf,
    UnsupportedType,
)
from ingest.intake import pages_pdf_key, pages_source_key
from ingest.queue import JobQueue
from ingest.submit import MissingCaseNumber, submit
from tests.conftest import corpus_file
from tests.ingest.intake_files import assert_nothing_left, blank_pdf, image_pdf, stored_objects, truncated_pdf


def submit_bytes(
    runtime: Runtime, content: bytes, name: str = "scan.pdf", unit: str = "LCI-D1", case: str = "01/QĐ-XPHC"
) -> tuple[Dossier, bool]:
    return submit(runtime, JobQueue(runtime.settings), io.BytesIO(content), name, case, unit)


def with_limits(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, **limits: int) -> None:
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, **limits))


def refusal(runtime: Runtime, content: bytes, error: type[IngestError]) -> IngestError:
    """The refusal of ``content``, checked to be ``error``, fully worded, and to have left nothing behind."""
    with pytest.raises(error) as refused:
        submit_bytes(runtime, content)
    assert refused.value.code == error.code
    assert refused.value.detail and refused.value.message_vi and refused.value.remedy_vi
    assert_nothing_left(runtime)
    return refused.value


@pytest.mark.parametrize(
    ("content", "error", "named"),
    [
        (b"", EmptyFile, "0 bytes"),
        (b"PK\x03\x04 a zip file, not a scan", UnsupportedType, "ZIP archive"),
        (b"GIF89a\x01\x00\x01\x00", UnsupportedType, "GIF image"),
        (b"Hello, this is a letter, not a scan.", UnsupportedType, "text file"),
        (b"%PDF-1.7\n garbage that is no PDF at all", UnreadablePdf, "damaged"),
    ],
)
def test_refused_files_leave_nothing(runtime: Runtime, content: bytes, error: type[IngestError], named: str) -> None:
    assert named in refusal(runtime, content, error).detail


@pytest.mark.parametrize("cut", [9, 40, 150])
def test_pdf_truncated_beyond_repair_is_refused(runtime: Runtime, cut: int) -> None:
    with pytest.raises(IngestError):
        submit_bytes(runtime, blank_pdf(3)[:cut])
    assert_nothing_left(runtime)


def test_a_real_broken_pdf_is_refused_without_naming_the_temp_file(runtime: Runtime) -> None:
    refused = refusal(runtime, corpus_file("real", "ocrmypdf", "invalid.pdf").read_bytes(), UnreadablePdf)
    assert str(runtime.settings.temp_dir) not in refused.detail and "upload-" not in refused.detail


def test_encrypted_pdf_names_the_remedy(runtime: Runtime) -> None:
    encrypted = corpus_file("real", "py-pdf-sample-files", "libreoffice-writer-password.pdf").read_bytes()
    refused = refusal(runtime, encrypted, EncryptedPdf)
    assert "qpdf" in refused.detail and "--decrypt" in refused.detail and "print" in refused.detail
    assert "qpdf" in refused.remedy_vi


def test_a_pdf_with_only_an_owner_password_opens_and_is_accepted(runtime: Runtime) -> None:
    with pikepdf.open(io.BytesIO(blank_pdf(2))) as pdf:
        locked = io.BytesIO()
        pdf.save(locked, encryption=pikepdf.Encryption(owner="permissions", user=""))
    dossier, created = submit_bytes(runtime, locked.getvalue())
    assert created and dossier.page_count == 2


def test_a_pdf_without_pages_is_refused(runtime: Runtime) -> None:
    refusal(runtime, blank_pdf(0), NoPages)


def test_more_pages_than_the_limit_are_refused(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    with_limits(runtime, monkeypatch, max_pages=2)
    assert "3 pages" in refusal(runtime, blank_pdf(3), TooManyPages).detail
    dossier, created = submit_bytes(runtime, blank_pdf(2))
    assert created and dossier.page_count == 2


def test_a_page_too_large_at_the_ocr_resolution_is_refused(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 x 100 inches at 300 dpi is 900 Mpx, over the default 300 Mpx.
    refused = refusal(runtime, blank_pdf(2, size_pt=(7200, 7200)), PageTooLarge)
    assert "Page 1" in refused.detail and "900 Mpx" in refused.detail and "HOSO_MAX_PAGE_MPIXELS" in refused.detail
    # The limit follows HOSO_OCR_DPI: the same page at 100 dpi is 100 Mpx.
    with_limits(runtime, monkeypatch, ocr_dpi=100)
    assert submit_bytes(runtime, blank_pdf(2, size_pt=(7200, 7200)))[1]


def test_a_real_decompression_bomb_pdf_is_refused(runtime: Runtime) -> None:
    """hugemono.pdf: one 35000 x 35000 px image on a 117-inch page; refused from its page size alone."""
    refused = refusal(runtime, corpus_file("real", "ocrmypdf", "hugemono.pdf").read_bytes(), PageTooLarge)
    assert "1225 Mpx" in refused.detail


def test_upload_over_the_size_limit_is_refused_while_streaming(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(runtime, monkeypatch, max_upload_bytes=1000)
    read_sizes: list[int] = []

    class CountingStream(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            read_sizes.append(len(data))
            return data

    stream = CountingStream(blank_pdf(1) + b"\n" * (10 * 1024 * 1024))
    with pytest.raises(FileTooLarge):
        submit(runtime, JobQueue(runtime.settings), stream, "big.pdf", "01/QĐ-XPHC", "LCI-D1")
    assert len(read_sizes) == 1, "the refusal comes at the first chunk past the limit, not after reading it all"
    assert_nothing_left(runtime)


def test_unknown_unit_and_missing_case_are_refused(runtime: Runtime) -> None:
    with pytest.raises(UnknownUnit):
        submit_bytes(runtime, blank_pdf(1), unit="XXX")
    with pytest.raises(UnknownUnit):
        submit_bytes(runtime, truncated_pdf(), unit="XXX")  # needs a pages PDF, which must not be stored either
    with pytest.raises(MissingCaseNumber):
        submit_bytes(runtime, blank_pdf(1), case="  ")
    assert_nothing_left(runtime)


def test_accepted_pdf_is_stored_once_and_its_pages_recorded(runtime: Runtime) -> None:
    content = image_pdf()
    dossier, created = submit_bytes(runtime, content)
    again, created_again = submit_bytes(runtime, content, name="copy.pdf")
    assert created and not created_again and again.id == dossier.id
    with runtime.sessions() as session:
        stored = session.get_one(Dossier, dossier.id)
        assert stored.page_count == 1 and stored.status == "processing"
        assert [page.status for page in stored.pages] == ["pending"]
        assert stored.case.case_number == "01/QĐ-XPHC" and stored.case.unit.code == "LCI-D1"
    assert stored_objects(runtime) == [original_key(dossier.original_sha256)]
    assert (runtime.settings.storage_dir / original_key(dossier.original_sha256)).read_bytes() == content
    assert pages_source_key(runtime.store, dossier.original_sha256) == original_key(dossier.original_sha256)
    assert list(runtime.settings.temp_dir.iterdir()) == []


def test_pdf_header_after_leading_junk_is_accepted(runtime: Runtime) -> None:
    dossier, created = submit_bytes(runtime, b"\r\n\r\n" + blank_pdf(1))
    assert created and dossier.page_count == 1


def test_truncated_pdf_is_kept_as_uploaded_and_read_from_a_repaired_copy(runtime: Runtime, tmp_path: Path) -> None:
    truncated = truncated_pdf()
    dossier, created = submit_bytes(runtime, truncated)
    assert created and dossier.page_count == 3
    sha256 = dossier.original_sha256
    assert stored_objects(runtime) == sorted([original_key(sha256), pages_pdf_key(sha256)])
    assert (runtime.settings.storage_dir / original_key(sha256)).read_bytes() == truncated, "never modified"
    assert pages_source_key(runtime.store, sha256) == pages_pdf_key(sha256)
    # Why the copy: poppler, which rasterises the pages, cannot read the truncated original at all.
    original, repaired = runtime.settings.storage_dir / original_key(sha256), tmp_path / "repaired.pdf"
    repaired.write_bytes((runtime.settings.storage_dir / pages_pdf_key(sha256)).read_bytes())
    assert subprocess.run(["pdfinfo", str(original)], capture_output=True).returncode != 0
    assert b"Pages:           3" in subprocess.run(["pdfinfo", str(repaired)], capture_output=True).stdout
    with pikepdf.open(repaired) as pdf:
        assert not pdf.get_warnings()
    # The same damaged file again: the same dossier, and the pages PDF already there is kept.
    again, created_again = submit_bytes(runtime, truncated)
    assert not created_again and again.id == dossier.id
    assert len(stored_objects(runtime)) == 2


def test_cli_ingest_refusal_exits_non_zero_with_both_messages(runtime: Runtime, tmp_path: Path) -> None:
    empty = tmp_path / "148-QĐ-XPHC.pdf"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["ingest", str(empty), "--case", "148/QĐ-XPHC", "--unit", "LCI-D1"])
    assert result.exit_code == 2
    assert "empty_file" in result.stderr and EmptyFile.message_vi in result.stderr
    result = CliRunner().invoke(main, ["ingest", str(empty), "--case", "1", "--unit", "LCI-D1", "--json"])
    assert result.exit_code == 2 and '"error": "empty_file"' in result.stdout
    assert_nothing_left(runtime)
