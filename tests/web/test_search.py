"""Search through the page and the API: grouped by dossier, scoped to the caller's units (hits, counts and
facets alike), filterable, OCR text escaped around the highlights, bad input a 400 and never a 500; hits open
the dossier viewer on their page with the words marked; the instant-results fragment is the same HTML."""

from __future__ import annotations

import html as html_module
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from flask.testing import FlaskClient

from archive.models import Dossier
from archive.runtime import Runtime
from tests.web.helpers import login, plant_dossier

TEMPLATES = Path(__file__).parents[2] / "archive" / "web" / "templates"


def set_case(runtime: Runtime, dossier_id: str, **fields: object) -> None:
    with runtime.sessions() as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        for name, value in fields.items():
            setattr(dossier.case, name, value)
        session.commit()


def test_search_page_shows_hits_with_escaped_text_and_highlights(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "05/LCI", ["Biên bản kiểm tra <script>alert(1)</script> gạo"])
    login(client, "canbo")
    response = client.get("/search?q=gạo")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/dossiers/{dossier_id}?{urlencode({"page": 1, "q": "gạo"})}#viewer"'.replace("&", "&amp;") in html
    assert "05/LCI" in html
    assert "<mark>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_search_never_returns_other_units_pages(client: FlaskClient, runtime: Runtime) -> None:
    own = plant_dossier(runtime, "LCI-D1", "05/LCI", ["hàng lậu thuốc lá"])
    other = plant_dossier(runtime, "QNI-D1", "06/QNI", ["hàng lậu thuốc lá"])
    login(client, "canbo")
    body = client.get("/api/v1/search?q=thuốc lá").get_json()
    assert (body["total_pages"], body["total_dossiers"]) == (1, 1)
    assert [group["dossier_id"] for group in body["dossiers"]] == [own]
    assert {"dossier_id", "page", "case_number", "unit_code", "score", "snippet_html"} <= body["dossiers"][0]["pages"][
        0
    ].keys()
    assert body["facets"]["unit"] == [{"value": "LCI-D1", "count": 1}]
    html = client.get("/search?q=thuốc lá").get_data(as_text=True)
    assert other not in html and "06/QNI" not in html and "QNI-D1" not in html
    login(client, "quantri")
    body = client.get("/api/v1/search?q=thuốc lá").get_json()
    assert body["total_dossiers"] == 2
    assert {facet["value"] for facet in body["facets"]["unit"]} == {"LCI-D1", "QNI-D1"}


def test_api_groups_pages_and_pages_through_dossiers(client: FlaskClient, runtime: Runtime) -> None:
    ids = [plant_dossier(runtime, "LCI-D1", f"{n}/LCI", ["bìa", "gạo giả", "gạo giả gạo"]) for n in range(3)]
    login(client, "canbo")
    first = client.get("/api/v1/search?q=gạo&limit=2").get_json()
    assert (first["total_pages"], first["total_dossiers"], first["next_offset"]) == (6, 3, 2)
    assert [page["page"] for page in first["dossiers"][0]["pages"]] == [3, 2]
    assert first["dossiers"][0]["matched_pages"] == 2
    rest = client.get("/api/v1/search?q=gạo&limit=2&offset=2").get_json()
    assert rest["next_offset"] is None
    assert sorted(group["dossier_id"] for group in first["dossiers"] + rest["dossiers"]) == sorted(ids)


def test_filters_and_facet_links(client: FlaskClient, runtime: Runtime) -> None:
    old = plant_dossier(runtime, "LCI-D1", "01/LCI", ["bìa", "rượu không rõ nguồn gốc"])
    new = plant_dossier(runtime, "LCI-D1", "02/LCI", ["bìa", "rượu nhập lậu"])
    set_case(runtime, old, opened_on=date(2022, 4, 1), violation="Hàng không rõ nguồn gốc")
    set_case(runtime, new, opened_on=date(2024, 4, 1), violation="Hàng nhập lậu")
    from archive.reindex import reindex

    reindex(runtime)  # the case fields changed after indexing
    login(client, "canbo")

    def found(arguments: str) -> list[str]:
        response = client.get(f"/api/v1/search?q=rượu{arguments}")
        assert response.status_code == 200, response.get_json()
        return [group["dossier_id"] for group in response.get_json()["dossiers"]]

    assert sorted(found("")) == sorted([old, new])
    assert found("&year=2022") == [old]
    assert found("&from=2023-01-01") == [new]
    assert found("&to=2023-01-01&from=2020-01-01") == [old]
    assert found("&violation=Hàng nhập lậu") == [new]
    assert found("&case=01/LCI") == [old]
    assert found("&unit=QNI") == []
    assert found("&status=accepted") == []
    assert sorted(found("&status=draft&doc_type=bien_ban_kiem_tra")) == sorted([old, new])
    years = client.get("/api/v1/search?q=rượu").get_json()["facets"]["year"]
    assert years == [{"value": "2022", "count": 1}, {"value": "2024", "count": 1}]
    html = client.get("/search?q=rượu&unit=LCI-D1").get_data(as_text=True)
    assert "year=2022" in html and "unit=LCI-D1" in html  # a facet link keeps the filters set


def test_bad_query_syntax_is_a_400(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.get("/api/v1/search?q=(gạo")
    assert response.status_code == 400
    assert response.get_json()["error"] == "query_syntax"
    assert "never closed" in response.get_json()["detail"]
    page = client.get("/search?q=(gạo")
    assert page.status_code == 400
    assert "Câu truy vấn không hợp lệ." in page.get_data(as_text=True)


def test_bad_filters_are_a_400(client: FlaskClient) -> None:
    login(client, "canbo")
    for arguments in ("from=2024-13-01", "year=20x4", "unit=NOWHERE", "from=2024-02-01&to=2024-01-01"):
        response = client.get(f"/api/v1/search?q=gạo&{arguments}")
        assert response.status_code == 400, arguments
        assert response.get_json()["detail"]
    assert client.get("/search?q=gạo&from=2024-13-01").status_code == 400


def test_dossier_shows_prior_cases_of_the_same_business_in_scope(client: FlaskClient, runtime: Runtime) -> None:
    mst = "0100109106"  # a valid MST (check digit)
    earlier = plant_dossier(runtime, "LCI-D2", "01/LCI", ["bìa"])
    branch = plant_dossier(runtime, "LCI-D1", "02/LCI", ["bìa"])
    by_name = plant_dossier(runtime, "LCI-D1", "03/LCI", ["bìa"])
    elsewhere = plant_dossier(runtime, "QNI-D1", "04/QNI", ["bìa"])
    unrelated = plant_dossier(runtime, "LCI-D1", "05/LCI", ["bìa"])
    current = plant_dossier(runtime, "LCI-D1", "09/LCI", ["bìa"])
    set_case(runtime, earlier, tax_code=mst, subject_name="Công ty A", opened_on=date(2021, 1, 1))
    set_case(runtime, branch, tax_code=f"{mst}-001", opened_on=date(2022, 1, 1))
    set_case(runtime, by_name, subject_name="CÔNG TY TNHH HOÀ BÌNH", opened_on=date(2023, 1, 1))
    set_case(runtime, elsewhere, tax_code=mst, opened_on=date(2020, 1, 1))
    set_case(runtime, unrelated, tax_code="0100109107", subject_name="Công ty B", opened_on=date(2022, 6, 1))
    set_case(runtime, current, tax_code=mst, subject_name="Công ty TNHH Hòa Bình", opened_on=date(2024, 1, 1))

    login(client, "luutru")  # the LCI province: both teams, not QNI
    prior = client.get(f"/api/v1/dossiers/{current}").get_json()["prior_cases"]
    assert [(case["case_number"], case["matched_on"]) for case in prior] == [
        ("03/LCI", "subject_name"),
        ("02/LCI", "tax_code"),
        ("01/LCI", "tax_code"),
    ]
    assert prior[2]["dossier_ids"] == [earlier] and prior[2]["filed_on"] == "2021-01-01"
    html = client.get(f"/dossiers/{current}").get_data(as_text=True)
    assert "Vi phạm trước đây" in html and f"/dossiers/{earlier}" in html and "04/QNI" not in html

    login(client, "canbo")  # one team only: the case of LCI-D2 is out of scope
    assert [case["case_number"] for case in client.get(f"/api/v1/dossiers/{current}").get_json()["prior_cases"]] == [
        "03/LCI",
        "02/LCI",
    ]
    login(client, "quantri")  # the earliest case has nothing before it
    assert client.get(f"/api/v1/dossiers/{elsewhere}").get_json()["prior_cases"] == []


def test_only_the_search_snippet_is_marked_safe() -> None:
    """OCR text is untrusted: a second ``|safe`` or Markup in the templates would need a reason and a test."""
    uses = [
        (template.name, line.strip())
        for template in TEMPLATES.rglob("*.html")
        for line in template.read_text().splitlines()
        if "safe" in line and "{{" in line
    ]
    assert uses == [("search.html", '<p class="snippet">{{ hit.snippet_html | safe }}</p>')]


def viewer_link(dossier_id: str, page: int, query: str) -> str:
    return f'href="/dossiers/{dossier_id}?{urlencode({"page": page, "q": query})}#viewer"'.replace("&", "&amp;")


def test_results_are_grouped_by_dossier_and_open_the_viewer_on_the_hit_page(
    client: FlaskClient, runtime: Runtime
) -> None:
    first = plant_dossier(runtime, "LCI-D1", "31/LCI", ["bìa", "không có gì", "biên bản vi phạm", "biên bản"])
    second = plant_dossier(runtime, "LCI-D1", "32/LCI", ["bìa", "biên bản tạm giữ"])
    login(client, "canbo")
    html = client.get("/search?q=bien ban").get_data(as_text=True)  # without diacritics
    groups = dict(re.findall(r'<article class="hit" aria-labelledby="hit-(\w+)">(.*?)</article>', html, re.S))
    assert set(groups) == {first, second}
    assert viewer_link(first, 3, "bien ban") in groups[first] and viewer_link(first, 4, "bien ban") in groups[first]
    assert "Trang 3" in groups[first] and "Trang 4" in groups[first] and "2 trang khớp" in groups[first]
    assert second not in groups[first] and viewer_link(second, 2, "bien ban") in groups[second]

    link = html_module.unescape(re.search(r'href="([^"]+page=3[^"]+)"', groups[first]).group(1))  # type: ignore[union-attr]
    opened = client.get(link).get_data(as_text=True)
    assert "data-viewer-number>3</span>" in opened
    assert "<mark>biên</mark> <mark>bản</mark> vi phạm" in opened


def test_the_results_fragment_is_the_same_results_without_the_page(client: FlaskClient, runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "33/LCI", ["bìa", "gạo <b>giả</b>"])
    login(client, "canbo")
    page = client.get("/search?q=gạo").get_data(as_text=True)
    fragment = client.get("/search?q=gạo&fragment=1")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and "<form" not in body and '<nav class="main-nav"' not in body
    assert body.strip().startswith("<div data-results>") and body.strip() in page
    assert viewer_link(dossier_id, 2, "gạo") in body and "&lt;b&gt;giả&lt;/b&gt;" in body
    bad = client.get("/search?q=(gạo&fragment=1")
    assert bad.status_code == 400 and "Câu truy vấn không hợp lệ." in bad.get_data(as_text=True)
    assert "<html" not in bad.get_data(as_text=True)


def test_results_point_to_prior_cases_of_the_same_business(client: FlaskClient, runtime: Runtime) -> None:
    earlier = plant_dossier(runtime, "LCI-D1", "34/LCI", ["bìa"])
    other_province = plant_dossier(runtime, "QNI-D1", "35/QNI", ["bìa"])
    current = plant_dossier(runtime, "LCI-D1", "36/LCI", ["bìa", "rượu giả"])
    set_case(runtime, earlier, tax_code="0100109106", opened_on=date(2021, 1, 1))
    set_case(runtime, other_province, tax_code="0100109106", opened_on=date(2020, 1, 1))
    set_case(runtime, current, tax_code="0100109106-001", subject_name="Cửa hàng Hòa Bình", opened_on=date(2024, 1, 1))
    login(client, "canbo")
    html = client.get("/search?q=rượu").get_data(as_text=True)
    assert "Cửa hàng Hòa Bình" in html and "0100109106-001" in html
    assert f'href="/dossiers/{current}#prior-cases">Cùng cơ sở này có 1 vụ việc trước đó' in html
    login(client, "quantri")  # the national admin also sees the case of QNI
    assert "Cùng cơ sở này có 2 vụ việc trước đó" in client.get("/search?q=rượu").get_data(as_text=True)


def test_every_search_field_has_a_label(client: FlaskClient) -> None:
    login(client, "canbo")
    html = client.get("/search").get_data(as_text=True)
    form = html[
        html.index('<form class="search-form"') : html.index("</form>", html.index('<form class="search-form"'))
    ]
    fields = re.findall(r'<(?:input|select)\b[^>]*\bid="([^"]+)"', form)
    assert len(fields) == len(re.findall(r"<(?:input|select)\b", form)) == 9
    for field_id in fields:
        assert f'<label for="{field_id}">' in form, field_id
    assert "LCI-D1" in form and "QNI-D1" not in form  # the unit filter offers the units in scope only
    chosen = client.get("/search?q=gạo&unit=LCI-D1&status=draft&year=2024").get_data(as_text=True)
    assert '<option value="LCI-D1" selected>' in chosen and '<option value="draft" selected>' in chosen
    assert 'name="year" value="2024" inputmode="numeric" pattern="[0-9]{4}">' in chosen
