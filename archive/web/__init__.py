"""The Flask app: Vietnamese server-rendered pages for people and a JSON API under /api/v1 for machines.

``create_app`` wires the runtime (database, store, index) and the job queue into one app; everything
a request needs is reached through ``archive.web.context``.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from archive.runtime import Runtime, current_runtime
from archive.web import (
    account,
    admin,
    api,
    audit_log,
    auth,
    cases,
    errors,
    filters,
    handover,
    language,
    layout,
    page_images,
    pages,
    rate_limits,
    reports,
    security_headers,
)
from archive.web.context import QUEUE_KEY, RUNTIME_KEY, close_db
from archive.web.upload import SpoolingRequest
from ingest.queue import JobQueue

# Room for the multipart envelope and the text fields around a file of the largest allowed size, so such
# a file reaches intake's own size check and its precise message.
FORM_OVERHEAD_BYTES = 1024 * 1024


def create_app(runtime: Runtime | None = None, queue: JobQueue | None = None) -> Flask:
    """The app over ``runtime``. Raises ``archive.config.MissingSecretKey`` when HOSO_SECRET_KEY is unset on an
    instance that is not a demo: every way of starting hoso (``hoso serve``, the WSGI entry) refuses alike."""
    runtime = runtime or current_runtime()
    queue = queue or JobQueue(runtime.settings)
    app = Flask(__name__)
    app.request_class = SpoolingRequest
    app.config.update(
        SECRET_KEY=runtime.settings.resolved_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=runtime.settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        # CSRF tokens live as long as the session: a long scan-and-upload session must not lose its form.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions[RUNTIME_KEY] = runtime
    app.extensions[QUEUE_KEY] = queue
    app.teardown_appcontext(close_db)

    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    language.register(app)
    layout.register(app)
    errors.register(app)
    filters.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(page_images.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(handover.api_bp)
    handover.register(app)
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(audit_log.api_bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)
    reports.register(app)
    cases.register(app)
    rate_limits.register(app)  # last: it wraps the registered upload and sign-in views
    security_headers.register(app)
    return app
