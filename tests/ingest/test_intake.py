"""Bad input is refused with a clear error and leaves nothing behind: no object, no record, no temp file."""

from __future__ import annotations

import dataclasses
import io

import pikepdf
import pytest
from sqlalchemy import func, select

from archive.models import Case, Dossier, Page
from archive.runtime import Runtime
from ingest.errors import (
    EmptyFile,
    EncryptedPdf,
    FileTooLarge,
    IngestError,
    UnknownUnit,
    UnreadablePdf,
    UnsupportedType,
)
from ingest.queue import JobQueue
from ingest.submit import MissingCaseNumber, submit
from tests.conftest import corpus_file


def blank_pdf(pages: int) -> bytes:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page()
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def assert_nothing_left(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        for model in (Dossier, Page, Case):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    objects = [p for p in runtime.settings.storage_dir.rglob("*") if p.is_file()]
    temps = list(runtime.settings.temp_dir.iterdir())
    assert objects == [] and temps == []


def submit_bytes(
    runtime: Runtime, content: bytes, name: str = "scan.pdf", unit: str = "LCI-D1", case: str = "01/QĐ-XPHC"
) -> tuple[Dossier, bool]:
    return submit(runtime, JobQueue(runtime.settings), io.BytesIO(content), name, case, unit)


@pytest.mark.parametrize(
    ("content", "error", "code"),
    [
        (b"", EmptyFile, "empty_file"),
        (b"PK\x03\x04 a zip file, not a scan", UnsupportedType, "unsupported_type"),
        (b"%PDF-1.7\n garbage that is no PDF at all", UnreadablePdf, "unreadable_pdf"),
    ],
)
def test_refused_files_leave_nothing(runtime: Runtime, content: bytes, error: type, code: str) -> None:
    with pytest.raises(error) as refused:
        submit_bytes(runtime, content)
    assert refused.value.code == code
    assert refused.value.message_vi and refused.value.remedy_vi and refused.value.detail
    assert_nothing_left(runtime)


@pytest.mark.parametrize("cut", [9, 40, 150])
def test_pdf_truncated_beyond_repair_is_refused(runtime: Runtime, cut: int) -> None:
    with pytest.raises(IngestError):
        submit_bytes(runtime, blank_pdf(3)[:cut])
    assert_nothing_left(runtime)


def test_truncated_pdf_that_pikepdf_repairs_is_accepted(runtime: Runtime) -> None:
    whole = blank_pdf(3)
    dossier, created = submit_bytes(runtime, whole[: len(whole) // 2])
    assert created and dossier.page_count == 3


def test_encrypted_pdf_names_the_remedy(runtime: Runtime) -> None:
    encrypted = corpus_file("real", "py-pdf-sample-files", "libreoffice-writer-password.pdf").read_bytes()
    with pytest.raises(EncryptedPdf) as refused:
        submit_bytes(runtime, encrypted)
    assert refused.value.code == "encrypted_pdf"
    assert "qpdf" in refused.value.detail and "--decrypt" in refused.value.detail
    assert_nothing_left(runtime)


def test_upload_over_the_size_limit_is_refused_while_streaming(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, max_upload_bytes=1000))
    with pytest.raises(FileTooLarge):
        submit_bytes(runtime, blank_pdf(1) + b"\n" * 2000)
    assert_nothing_left(runtime)


def test_unknown_unit_and_missing_case_are_refused(runtime: Runtime) -> None:
    with pytest.raises(UnknownUnit):
        submit_bytes(runtime, blank_pdf(1), unit="XXX")
    with pytest.raises(MissingCaseNumber):
        submit_bytes(runtime, blank_pdf(1), case="  ")
    assert_nothing_left(runtime)


def test_accepted_pdf_is_stored_once_and_its_pages_recorded(runtime: Runtime) -> None:
    content = blank_pdf(3)
    dossier, created = submit_bytes(runtime, content)
    again, created_again = submit_bytes(runtime, content, name="copy.pdf")
    assert created and not created_again and again.id == dossier.id
    with runtime.sessions() as session:
        stored = session.get(Dossier, dossier.id)
        assert stored.page_count == 3 and stored.status == "processing"
        assert [page.status for page in stored.pages] == ["pending"] * 3
        assert stored.case.case_number == "01/QĐ-XPHC" and stored.case.unit.code == "LCI-D1"
    objects = [p for p in runtime.settings.storage_dir.rglob("*") if p.is_file()]
    assert [p.name for p in objects] == [dossier.original_sha256]
    assert objects[0].read_bytes() == content
    assert list(runtime.settings.temp_dir.iterdir()) == []


def test_pdf_header_after_leading_junk_is_accepted(runtime: Runtime) -> None:
    dossier, created = submit_bytes(runtime, b"\r\n\r\n" + blank_pdf(1))
    assert created and dossier.page_count == 1
