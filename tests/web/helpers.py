"""Helpers for the web tests: sign in through the real form (CSRF included), make small PDFs, and plant
dossiers whose OCR facts are written straight to the database and the index."""

from __future__ import annotations

import io
import re

import pikepdf
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.models import Case, Dossier, Page, Unit
from archive.runtime import Runtime
from ingest.pipeline import verification_report
from search.documents import PageDocument

MAX_UPLOAD_MB = 1
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = "hoso-demo") -> None:
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def pdf_bytes(pages: int = 2, marker: str = "") -> bytes:
    """A small valid PDF; ``marker`` goes into its metadata so different markers give different SHA-256s."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    if marker:
        pdf.docinfo["/Title"] = marker
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def plant_dossier(
    runtime: Runtime,
    unit_code: str,
    case_number: str,
    texts: list[str],
    status: str = "processed",
) -> str:
    """Insert a dossier whose pages OCR has already read, index them, and return its id."""
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        assert unit is not None
        dossier = Dossier(
            case=Case(unit=unit, case_number=case_number),
            original_sha256=f"{case_number}-{unit_code}".encode().hex().ljust(64, "0")[:64],
            original_filename=f"{case_number}.pdf",
            size_bytes=1000,
            page_count=len(texts),
            status=status,
        )
        dossier.pages = [
            Page(
                page_number=number,
                status="done",
                text=text,
                sheet_number=str(number - 1) if number > 1 else None,
                sheet_confidence=0.93,
                role="cover" if number == 1 else "document",
                doc_type=None if number == 1 else "bien_ban_kiem_tra",
            )
            for number, text in enumerate(texts, start=1)
        ]
        session.add(dossier)
        session.flush()
        if status == "processed":
            dossier.verify_report = verification_report(dossier)
        session.commit()
        runtime.index.add_pages(
            [
                PageDocument(
                    dossier_id=dossier.id,
                    page=page.page_number,
                    case_number=case_number,
                    unit_code=unit.code,
                    unit_path=unit.path,
                    text=page.text,
                )
                for page in dossier.pages
            ]
        )
        return dossier.id
