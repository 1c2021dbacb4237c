"""Rate limits (Flask-Limiter): failed sign-ins per client address, uploads per signed-in person.

- **Sign-in** (``HOSO_LOGIN_RATE_LIMIT``, default 10/minute): only attempts that fail count (the login form
  shown again, a missing form token): an office behind one NAT address where thirty people sign in at eight
  o'clock is not an attack, a script guessing passwords is. Once over the limit every attempt from that
  address is refused, the right password too, until the window has moved on. The per-account lock
  (``archive/accounts.py``) still guards one name guessed from many addresses.
- **Uploads** (``HOSO_UPLOAD_RATE_LIMIT``, default 120/hour): one shared count per person over every
  route that takes a scan (page form, case page, API, a handover's new version), whether it is accepted
  or refused; a token counts as its owner.

Counts live in memory (one process; ``hoso serve`` runs one) or, when ``HOSO_REDIS_URL`` is set, in that
Redis, so every app machine behind a balancer counts together. When Redis cannot be reached the limits are
not applied (logged): a queue server outage must not lock everyone out of the archive.

Over a limit: 429 with ``Retry-After`` in seconds; ``errors.py`` shapes it (``rate_limited``: English
``detail`` in the API, a Vietnamese page for people).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from archive.web import errors
from archive.web.auth import remote_addr
from archive.web.context import RUNTIME_KEY

LIMITER_KEY = "hoso.limiter"
KEY_PREFIX = "hoso-limits"
LOGIN_ENDPOINTS = ("auth.login",)
UPLOAD_ENDPOINTS = (
    "pages.upload",
    "cases.upload_for_case",
    "api.create_dossier",
    "cases_api.api_upload",
    "handover.new_version",
)
DEFAULT_RETRY_AFTER_S = 60


class RateLimited(TooManyRequests):
    name = "Rate Limited"  # the API error code: rate_limited


def client_address() -> str:
    return remote_addr() or "unknown"


def signed_in_person() -> str:
    """The person behind the request (the guard in auth.py has run, so anonymous uploads never get here)."""
    user = getattr(g, "user", None)
    return f"user:{user.id}" if user is not None else f"address:{client_address()}"


def _failed_sign_in(response: Response) -> bool:
    return response.status_code != 302  # a successful sign-in redirects; anything else is a failed attempt


def _rate_limited(error: RateLimitExceeded) -> Response:
    """The breach as a ``rate_limited`` 429 whose Retry-After says when the window lets the client in again."""
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current is not None else DEFAULT_RETRY_AFTER_S
    detail = f"Too many requests: the limit is {error.limit.limit}. Try again in {wait} seconds."
    return errors.handle_http_error(RateLimited(detail, retry_after=wait))


def _wrap_view(app: Flask, endpoint: str, decorator: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    app.view_functions[endpoint] = decorator(app.view_functions[endpoint])


def register(app: Flask) -> None:
    """Set the limits on the app's routes; call after every blueprint is registered (it wraps their views)."""
    settings = app.extensions[RUNTIME_KEY].settings
    limiter = Limiter(
        key_func=client_address,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        key_prefix=KEY_PREFIX,
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    sign_in = limiter.limit(
        settings.login_rate_limit, key_func=client_address, methods=["POST"], deduct_when=_failed_sign_in
    )
    upload = limiter.shared_limit(
        settings.upload_rate_limit, scope="upload", key_func=signed_in_person, methods=["POST"]
    )
    # Limits decorated on views are checked by the wrapper the decorator returns: the registered views are
    # wrapped here, so the route modules need not know about the limiter.
    for endpoint in LOGIN_ENDPOINTS:
        _wrap_view(app, endpoint, sign_in)
    for endpoint in UPLOAD_ENDPOINTS:
        _wrap_view(app, endpoint, upload)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
