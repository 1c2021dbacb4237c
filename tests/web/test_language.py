"""The language switch (Vietnamese first, English on request) and the English catalog behind it."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import write_po
from flask.testing import FlaskClient

from archive.web.catalog import missing_translations, used_message_ids
from archive.web.language import compile_catalogs
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
