"""Error responses keep the headers that tell a client what to do next."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import ServiceUnavailable

from tests.web.helpers import login


def test_a_wrong_method_answers_405_with_allow(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.delete("/api/v1/search?q=x")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_a_busy_503_keeps_retry_after_in_json_and_html(app: Flask, client: FlaskClient) -> None:
    def busy() -> str:
        raise ServiceUnavailable("Busy drawing pages.", retry_after=7)

    app.add_url_rule("/api/v1/busy-probe", "busy_api", busy)
    app.add_url_rule("/busy-probe", "busy_page", busy)
    login(client, "canbo")
    for path in ("/api/v1/busy-probe", "/busy-probe"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"
    assert client.get("/api/v1/busy-probe").get_json()["detail"] == "Busy drawing pages."
