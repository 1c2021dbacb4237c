"""The upload page's contract with upload.js: the form it enhances, and its texts in the reader's language."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from archive.web import language
from tests.web.helpers import login

UPLOAD_JS = Path(language.__file__).with_name("static") / "upload.js"
_TEXTS = re.compile(r'<script id="upload-texts" type="application/json">(.*?)</script>', re.S)


def _texts(html: str) -> dict[str, str]:
    match = _TEXTS.search(html)
    assert match, "the upload page carries no texts for upload.js"
    return json.loads(match.group(1))


def test_the_form_works_without_javascript_and_names_what_the_script_needs(client: FlaskClient) -> None:
    login(client, "canbo")
    html = client.get("/upload").get_data(as_text=True)
    assert 'id="upload-form" method="post" action="/upload" enctype="multipart/form-data"' in html
    assert 'data-api="/api/v1/dossiers"' in html and 'name="case_number"' in html and 'id="upload-file"' in html
    assert '<meta name="csrf-token" content="' in html and "upload.js" in html


def test_every_text_the_script_uses_is_on_the_page_in_the_reader_s_language(client: FlaskClient) -> None:
    login(client, "canbo")
    vietnamese = _texts(client.get("/upload").get_data(as_text=True))
    script = UPLOAD_JS.read_text(encoding="utf-8")
    used = set(re.findall(r"texts\.(\w+)", script)) | set(re.findall(r'say\("(\w+)"', script))
    assert used <= set(vietnamese), used - set(vietnamese)
    assert all(re.search(rf'"{key}"|texts\.{key}\b', script) for key in vietnamese)  # no text left unused
    assert vietnamese["uploading"] == "Đang tải lên" and vietnamese["processing"] == "Đang đọc trang {done}/{total}"

    with client.session_transaction() as session:
        session["lang"] = "en"
    english = _texts(client.get("/upload").get_data(as_text=True))
    assert english.keys() == vietnamese.keys()
    assert english["uploading"] == "Uploading" and english["processing"] == "Reading pages {done}/{total}"
