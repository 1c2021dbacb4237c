"""The language switch (Vietnamese first, English on request) and the English catalog behind it."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import write_po
from flask import Flask
from flask.testing import FlaskClient

from archive.runtime import Runtime
from archive.verify import COVER_LABELS_VI
from archive.web.catalog import missing_translations, used_message_ids
from archive.web.errors import MESSAGES_VI
from archive.web.filters import COVER_FIELD_VI
from archive.web.language import compile_catalogs
from tests.archive.handover_helpers import plant
from tests.web.helpers import csrf_token, login


def _switch(client: FlaskClient, lang: str, next_path: str) -> str:
    response = client.post(
        "/language", data={"lang": lang, "next": next_path, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 303
    return response.headers["Location"]


def test_the_switch_turns_the_page_english_and_back_to_vietnamese(client: FlaskClient) -> None:
    login(client, "canbo")
    html = client.get("/upload").get_data(as_text=True)
    assert '<html lang="vi">' in html and "Tải hồ sơ lên" in html and ">English</button>" in html

    assert _switch(client, "en", "/upload") == "/upload"
    html = client.get("/upload").get_data(as_text=True)
    assert '<html lang="en">' in html and "Upload a dossier" in html and "Tải hồ sơ lên" not in html
    assert ">Tiếng Việt</button>" in html and "Log out" in html

    assert _switch(client, "vi", "/upload") == "/upload"
    assert '<html lang="vi">' in client.get("/upload").get_data(as_text=True)


def test_the_login_page_can_be_switched_before_signing_in(client: FlaskClient) -> None:
    assert _switch(client, "en", "/login") == "/login"
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_the_language_lasts_for_the_session_across_pages(client: FlaskClient) -> None:
    login(client, "luutru")
    _switch(client, "en", "/")
    assert "Overview" in client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/handover").get_data(as_text=True)


def test_the_handover_panel_queue_and_messages_speak_english(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant(runtime, "LCI-D1", "11/LCI", state="submitted")
    login(client, "luutru")
    _switch(client, "en", f"/dossiers/{dossier_id}")
    panel = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Handover to the archive" in panel and "Submitted, awaiting acceptance" in panel
    assert "Accept into the archive" in panel and "Reject the dossier" in panel
    assert "e.g. 20 năm (20 years), Vĩnh viễn (permanent)" in panel
    for vietnamese in ("Giao nộp lưu trữ", "Đã nộp, chờ tiếp nhận", "Tiếp nhận vào lưu trữ", "Trả lại hồ sơ"):
        assert vietnamese not in panel

    token = csrf_token(client, "/handover")
    accepted = client.post("/handover/accept", data={"csrf_token": token, "dossier_id": dossier_id})
    assert accepted.status_code == 303
    panel = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "Accepted 1 dossier(s) (handover no. " in panel  # the flash, translated when flashed
    assert "Accepted into the archive" in panel and "Handover record of dossiers and documents" in panel
    assert "Đã tiếp nhận" not in panel and "Biên bản giao nhận hồ sơ, tài liệu" not in panel

    queue = client.get("/handover").get_data(as_text=True)
    assert "Dossiers awaiting acceptance into the archive" in queue and "Handover no." in queue and "11/LCI" in queue
    assert "Các lần giao nhận" not in queue and "Chưa có lần giao nhận nào" not in queue


def test_the_error_page_turns_english_while_the_api_keeps_its_vietnamese(client: FlaskClient) -> None:
    login(client, "canbo")
    _switch(client, "en", "/")
    page = client.get("/dossiers/no-such-dossier")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Not found" in html and "outside your units" in html and "Không tìm thấy" not in html
    api = client.get("/api/v1/dossiers/no-such-dossier/handover")
    assert api.status_code == 404 and api.get_json()["message_vi"] == MESSAGES_VI[404]


def test_the_pages_cover_labels_are_verifys_in_vietnamese(app: Flask) -> None:
    with app.test_request_context("/"):
        assert {field: str(label) for field, label in COVER_FIELD_VI.items()} == COVER_LABELS_VI


def test_an_unknown_language_or_a_foreign_return_address_is_ignored(client: FlaskClient) -> None:
    login(client, "canbo")
    assert _switch(client, "fr", "https://evil.example/") == "/"
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_the_switch_needs_the_form_token(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.post("/language", data={"lang": "en", "next": "/"})
    assert response.status_code == 400
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_every_text_of_the_interface_has_english() -> None:
    """Fails when a template or view gains a Vietnamese text: run `make translations` and write its English."""
    assert len(used_message_ids()) > 100  # the extraction did find the interface's texts
    assert missing_translations("en") == []


def test_catalogs_are_compiled_once_and_again_after_an_edit(tmp_path: Path) -> None:
    source, cache = tmp_path / "source", tmp_path / "cache"
    po_path = source / "en" / "LC_MESSAGES" / "messages.po"
    po_path.parent.mkdir(parents=True)

    def write_catalog(english: str) -> None:
        catalog = Catalog(locale="en")
        catalog.add("Hồ sơ", english)
        with po_path.open("wb") as po_file:
            write_po(po_file, catalog)

    def compiled() -> str:
        with (compile_catalogs(source, cache) / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as mo_file:
            return read_mo(mo_file)["Hồ sơ"].string

    write_catalog("Dossier")
    assert compiled() == "Dossier"
    mo_path = cache / "en" / "LC_MESSAGES" / "messages.mo"
    stamp = mo_path.stat().st_mtime_ns
    assert compiled() == "Dossier" and mo_path.stat().st_mtime_ns == stamp  # unchanged source: not rewritten

    write_catalog("Case file")
    os.utime(po_path, ns=(stamp - 10**9, stamp - 10**9))  # an older time, as a checkout can give
    assert compiled() == "Case file"
