"""What the base layout asks of the app: links to pages that exist and the reader may use, and where they are.

Pages are added by different parts of the app over time; the navigation names each by its endpoint and
shows the link only once the endpoint is registered, so the layout never breaks on a page not built yet.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, url_for

from archive.permissions import allows


def url_if(endpoint: str) -> str | None:
    """The URL of a page without parameters, or None when no such endpoint is registered."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


def is_current(endpoint: str) -> bool:
    """The reader is on this page or one below it: the same endpoint, or the same blueprint for a section."""
    here = request.endpoint or ""
    if here == endpoint:
        return True
    section = endpoint.split(".", 1)[0]
    return section not in ("pages", "auth") and here.split(".", 1)[0] == section


def may(action: str) -> bool:
    """The signed-in user's role allows ``action`` (``archive.permissions``); the view checks it again."""
    return g.user is not None and allows(g.user.role, action)


def register(app: Flask) -> None:
    app.add_template_global(url_if)
    app.add_template_global(is_current)
    app.add_template_global(may)
