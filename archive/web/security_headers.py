"""The security headers of every response: what the browser may load, frame, send and keep.

One ``after_request`` hook, so a new route cannot forget them. The pages load scripts and styles from
``/static`` only (no inline ``<script>``, no ``style=`` attribute, no event-handler attribute; data for a
script travels in ``data-*`` attributes or a ``<script type="application/json">`` block, which is never
run), so the Content-Security-Policy needs no ``'unsafe-inline'`` at all: text from a hostile scan that
slipped past escaping still could not run. Scripts that move things on screen set ``element.style`` through
the CSSOM, which ``style-src 'self'`` allows.

PDFs are the exception: Chromium shows an inline PDF with its built-in viewer, a plugin that ``object-src``
(or a ``default-src`` it falls back to) would block, and a PDF runs no script of ours. They get the framing
rule only. ``docs/security.md`` lists every header and the test that checks it.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from archive.web.context import RUNTIME_KEY
from archive.web.errors import is_api_request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PDF_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"
# Nothing in hoso uses these; a script injected anyway gets none of them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()"
ALWAYS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # search words and dossier ids in our URLs never leave the site
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# A year; only sent when the deployment says it runs behind HTTPS (HOSO_SECURE_COOKIES), since a browser that
# saw it refuses plain HTTP to the host for that long (a workstation's http://127.0.0.1 would stop working).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    pdf = response.mimetype == "application/pdf"
    response.headers.setdefault(
        "Content-Security-Policy", PDF_CONTENT_SECURITY_POLICY if pdf else CONTENT_SECURITY_POLICY
    )
    if current_app.extensions[RUNTIME_KEY].settings.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if _keep_out_of_caches(response):
        response.cache_control.no_store = True
    return response


def _keep_out_of_caches(response: Response) -> bool:
    """Pages and API answers hold case files and personal data: no browser or proxy keeps a copy, so the next
    person at a shared computer cannot page back through them. Static files are cacheable, and a view that
    chose its own private caching (page images, ``page_images.py``) keeps it."""
    if request.endpoint == "static" or response.cache_control.private:
        return False
    return is_api_request() or getattr(g, "user", None) is not None or response.mimetype == "text/html"


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
