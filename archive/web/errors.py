"""The one place where errors become responses: JSON for ``/api/`` paths, an HTML page otherwise.

Views raise (werkzeug HTTP errors, refusals of intake or handover, query errors) and never format errors themselves,
so the API's error shape cannot drift between endpoints. Unexpected exceptions are logged with their
stack trace and shown to the client without it.

The page speaks the reader's language; the API's ``message_vi`` and ``remedy_vi`` stay Vietnamese whatever the
session's language, since scripts read them. So the Vietnamese texts here are plain strings marked with ``N_``
for ``make translations``, and only the HTML page looks them up in the catalog. A refusal's own text (intake's,
say) that the catalog lacks shows in Vietnamese on the page as well.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from archive.refusals import Refusal
from ingest.errors import FileTooLarge
from search.index import QuerySyntaxError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def N_(text: str) -> str:
    """Mark a Vietnamese text for extraction without translating it (``N_`` is the name extraction knows)."""
    return text


# What a person reads on the error page, by status; the English description is for the API only.
TITLES_VI: dict[int, str] = {
    400: N_("Yêu cầu không hợp lệ"),
    401: N_("Chưa đăng nhập"),
    403: N_("Không có quyền truy cập"),
    404: N_("Không tìm thấy"),
    405: N_("Phương thức không được hỗ trợ"),
    409: N_("Xung đột dữ liệu"),
    413: N_("Tệp quá lớn"),
    415: N_("Định dạng tệp không được hỗ trợ"),
    429: N_("Quá nhiều yêu cầu"),
    500: N_("Lỗi hệ thống"),
}
MESSAGES_VI: dict[int, str] = {
    403: N_("Bạn không có quyền xem nội dung này."),
    404: N_("Trang hoặc hồ sơ này không tồn tại, hoặc không thuộc phạm vi đơn vị của bạn."),
    429: N_("Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một lát rồi thử lại."),
    500: N_("Hệ thống gặp lỗi khi xử lý yêu cầu. Lỗi đã được ghi lại; vui lòng thử lại sau."),
}
CSRF_MESSAGE_VI = N_("Biểu mẫu đã hết hạn hoặc không hợp lệ.")
CSRF_REMEDY_VI = N_("Tải lại trang rồi gửi lại biểu mẫu.")
QUERY_MESSAGE_VI = N_("Câu truy vấn không hợp lệ.")
QUERY_REMEDY_VI = N_("Kiểm tra dấu ngoặc kép và toán tử.")


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _shown(text_vi: str) -> str:
    """A Vietnamese text in the page's language; the empty text stays empty (gettext("") is the catalog's header)."""
    return gettext(text_vi) if text_vi else ""


def _respond(status: int, code: str, detail: str, message_vi: str, remedy_vi: str = "") -> Response:
    if is_api_request():
        body = {"error": code, "detail": detail}
        if message_vi:
            body |= {"message_vi": message_vi, "remedy_vi": remedy_vi}
        response = jsonify(body)
        response.status_code = status
        return response
    title = TITLES_VI.get(status, TITLES_VI[500] if status >= 500 else TITLES_VI[400])
    html = render_template(
        "error.html", status=status, title=_shown(title), message=_shown(message_vi), remedy=_shown(remedy_vi)
    )
    return Response(html, status=status, mimetype="text/html")


def _error_code(error: HTTPException) -> str:
    """A stable snake_case code from the HTTP reason phrase: "Not Found" -> "not_found"."""
    return (error.name or "error").lower().replace(" ", "_").replace("-", "_")


def handle_refusal(error: Refusal) -> Response:
    return _respond(error.http_status, error.code, error.detail, error.message_vi, error.remedy_vi)


def handle_query_error(error: QuerySyntaxError) -> Response:
    return _respond(400, "query_syntax", str(error), QUERY_MESSAGE_VI, QUERY_REMEDY_VI)


def handle_http_error(error: HTTPException) -> Response:
    if isinstance(error, RequestEntityTooLarge):
        return handle_refusal(FileTooLarge())
    if isinstance(error, CSRFError):
        return _respond(400, "csrf_failed", error.description or "", CSRF_MESSAGE_VI, CSRF_REMEDY_VI)
    status = error.code or 500
    message_vi = MESSAGES_VI.get(status, "")
    response = _respond(status, _error_code(error), error.description or "", message_vi)
    # The exception's own headers say what to do next (Retry-After of a busy 503, Allow of a 405).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return _respond(500, "internal_error", "Internal server error.", MESSAGES_VI[500])


def register(app: Flask) -> None:
    app.register_error_handler(Refusal, handle_refusal)
    app.register_error_handler(QuerySyntaxError, handle_query_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
