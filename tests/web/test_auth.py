"""Signing in and out, the login guard (redirect for pages, 401 JSON for the API) and CSRF on forms."""

from flask.testing import FlaskClient

from tests.web.helpers import csrf_token, login


def test_login_with_the_right_password_opens_the_dashboard(client: FlaskClient) -> None:
    login(client, "canbo")
    page = client.get("/")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_vietnamese(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "canbo", "password": "sai", "csrf_token": token})
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_pages_send_anonymous_visitors_to_the_login_form(client: FlaskClient) -> None:
    response = client.get("/search?q=abc")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/search")
    assert "Đăng nhập" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_api_answers_anonymous_callers_401_json(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/dossiers/abc"), client.post("/api/v1/dossiers")):
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"


def test_login_returns_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    data = {"username": "canbo", "password": "hoso-demo", "csrf_token": csrf_token(client), "next": "/search?q=x"}
    assert client.post("/login", data=data).headers["Location"] == "/search?q=x"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    data = data | {"next": "//evil.example/", "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).headers["Location"] == "/"


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login(client, "canbo")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_form_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "canbo", "password": "hoso-demo"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    login(client, "canbo")
    assert client.post("/logout").status_code == 400


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "canbo", "password": "hoso-demo", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
