"""Search through the page and the API: scoped to the caller's units, OCR text escaped around the highlights."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from archive.runtime import Runtime
from tests.web.helpers import login, plant_dossier

TEMPLATES = Path(__file__).parents[2] / "archive" / "web" / "templates"


def test_search_page_shows_hits_with_escaped_text_and_highlights(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "05/LCI", ["Biên bản kiểm tra <script>alert(1)</script> gạo"])
    login(client, "canbo")
    response = client.get("/search?q=gạo")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/dossiers/{dossier_id}#page-1" in html and "05/LCI" in html
    assert "<mark>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_search_never_returns_other_units_pages(client: FlaskClient, runtime: Runtime) -> None:
    own = plant_dossier(runtime, "LCI-D1", "05/LCI", ["hàng lậu thuốc lá"])
    other = plant_dossier(runtime, "QNI-D1", "06/QNI", ["hàng lậu thuốc lá"])
    login(client, "canbo")
    body = client.get("/api/v1/search?q=thuốc lá").get_json()
    assert body["total"] == 1
    assert [hit["dossier_id"] for hit in body["hits"]] == [own]
    assert {"dossier_id", "page", "case_number", "unit_code", "score", "snippet_html"} <= body["hits"][0].keys()
    assert other not in client.get("/search?q=thuốc lá").get_data(as_text=True)
    login(client, "quantri")
    assert client.get("/api/v1/search?q=thuốc lá").get_json()["total"] == 2


def test_bad_query_syntax_is_a_400(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.get("/api/v1/search?q=(gạo")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_query"
    assert response.get_json()["detail"]
    page = client.get("/search?q=(gạo")
    assert page.status_code == 400
    assert "Câu truy vấn không hợp lệ." in page.get_data(as_text=True)


def test_only_the_search_snippet_is_marked_safe() -> None:
    """OCR text is untrusted: a second ``|safe`` or Markup in the templates would need a reason and a test."""
    uses = [
        (template.name, line.strip())
        for template in TEMPLATES.glob("*.html")
        for line in template.read_text().splitlines()
        if "safe" in line and "{{" in line
    ]
    assert uses == [("search.html", '<p class="snippet">{{ hit.snippet_html | safe }}</p>')]
