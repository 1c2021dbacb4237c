"""The search API's links to the hit's page, its "did you mean", and the suggestions, all within scope."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from archive.models import Dossier
from archive.reindex import reindex
from archive.runtime import Runtime
from tests.web.helpers import login, plant_dossier


def set_case(runtime: Runtime, dossier_id: str, **fields: object) -> None:
    with runtime.sessions() as session:
        dossier = session.get_one(Dossier, dossier_id)
        for name, value in fields.items():
            setattr(dossier.case if hasattr(dossier.case, name) else dossier, name, value)
        session.commit()


def test_a_hit_links_to_its_page_in_the_viewer_and_in_the_pdf(client: FlaskClient, runtime: Runtime) -> None:
    with_copy = plant_dossier(runtime, "LCI-D1", "07/LCI", ["bìa", "gạo giả"])
    without_copy = plant_dossier(runtime, "LCI-D1", "08/LCI", ["gạo giả", "bìa"])
    set_case(runtime, with_copy, archive_pdf_sha256="a" * 64)
    login(client, "canbo")
    body = client.get("/api/v1/search?q=gạo giả").get_json()
    hits = {group["dossier_id"]: group["pages"][0] for group in body["dossiers"]}
    viewer = urlsplit(hits[with_copy]["viewer_url"])
    assert viewer.path == f"/dossiers/{with_copy}"
    assert parse_qs(viewer.query) == {"page": ["2"], "q": ["gạo giả"]}
    assert hits[with_copy]["pdf_url"] == f"/dossiers/{with_copy}/archive.pdf#page=2"
    assert hits[without_copy]["pdf_url"] is None
    assert parse_qs(urlsplit(hits[without_copy]["viewer_url"]).query)["page"] == ["1"]
    assert client.get(hits[with_copy]["viewer_url"]).status_code == 200
    assert body["did_you_mean"] is None  # it found pages


def test_a_query_that_finds_nothing_gets_a_close_query_from_the_callers_units(
    client: FlaskClient, runtime: Runtime
) -> None:
    plant_dossier(runtime, "LCI-D1", "07/LCI", ["thuốc lá điếu nhập lậu"])
    plant_dossier(runtime, "QNI-D1", "09/QNI", ["rượu ngoại không hóa đơn"])
    login(client, "canbo")
    body = client.get("/api/v1/search?q=thuoc laa").get_json()
    assert (body["total_pages"], body["did_you_mean"]) == (0, "thuoc lá")
    assert client.get("/api/v1/search?q=ruou ngoaj").get_json()["did_you_mean"] is None  # only QNI has it
    login(client, "quantri")
    assert client.get("/api/v1/search?q=ruou ngoaj").get_json()["did_you_mean"] == "ruou ngoại"


def test_suggestions_list_names_tax_codes_and_cases_of_the_callers_units_only(
    client: FlaskClient, runtime: Runtime
) -> None:
    own = plant_dossier(runtime, "LCI-D1", "07/LCI", ["biên bản"])
    other = plant_dossier(runtime, "QNI-D1", "09/QNI", ["biên bản"])
    set_case(runtime, own, subject_name="Công ty TNHH Minh Phát", tax_code="5300123456")
    set_case(runtime, other, subject_name="Công ty Minh Phương", tax_code="5700999999-001")
    reindex(runtime)
    login(client, "canbo")

    def suggested(typed: str) -> list[tuple[str, str, int]]:
        response = client.get(f"/api/v1/search/suggest?q={typed}")
        assert response.status_code == 200
        return [(entry["kind"], entry["value"], entry["dossiers"]) for entry in response.get_json()["suggestions"]]

    assert suggested("minh") == [("subject_name", "Công ty TNHH Minh Phát", 1)]
    assert suggested("MINH PHA") == [("subject_name", "Công ty TNHH Minh Phát", 1)]
    assert suggested("53001") == [("tax_code", "5300123456", 1)]
    assert suggested("07/l") == [("case_number", "07/LCI", 1)]
    assert suggested("57") == [] and suggested("09") == [] and suggested("phuong") == []
    assert suggested("m") == []
    login(client, "quantri")
    assert [value for _, value, _ in suggested("minh")] == ["Công ty Minh Phương", "Công ty TNHH Minh Phát"]
