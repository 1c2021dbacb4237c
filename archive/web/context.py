"""What a request works with: the app's runtime and job queue, one database session, the signed-in user.

Blueprints reach these through functions rather than globals, so an app built by a test with its own
runtime never touches the process-wide one.
"""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from archive.models import User
from archive.runtime import Runtime
from ingest.queue import JobQueue

RUNTIME_KEY = "hoso.runtime"
QUEUE_KEY = "hoso.queue"


def runtime() -> Runtime:
    return current_app.extensions[RUNTIME_KEY]


def queue() -> JobQueue:
    return current_app.extensions[QUEUE_KEY]


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends (see ``close_db``)."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def current_user() -> User:
    """The signed-in user; every view but login runs after the login guard has set it."""
    return g.user
