"""The interface language: Vietnamese first, English by a switch kept in the session.

Templates and views write their Vietnamese text as the message id (``{{ _("Đăng nhập") }}``); the English
catalog in ``translations/en`` gives the switch its English. A text missing from the catalog stays
Vietnamese, so a new page is never blank in either language.

Only the ``.po`` source is kept in the repository. The app compiles it at start into a cache under
``$HOSO_HOME/cache/translations`` (tens of milliseconds for a few hundred texts), so no install step
can forget it and an edited ``.po`` is picked up by the next start. ``make translations`` re-extracts the
texts and updates the catalog (see docs/web.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel
from werkzeug.wrappers import Response

from archive.web.auth import _safe_next
from archive.web.context import RUNTIME_KEY

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_KEY = "lang"
TRANSLATIONS_DIR = Path(__file__).with_name("translations")
CATALOG_GLOB = "*/LC_MESSAGES/messages.po"
# The switch names the other language in that language, so a reader who does not know the current one finds it.
SWITCH_LABELS = {"vi": "Tiếng Việt", "en": "English"}

bp = Blueprint("language", __name__)


def current_language() -> str:
    chosen = session.get(LANGUAGE_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@bp.post("/language")
def switch() -> Response:
    """Keep the chosen language in the session and go back to the page the form was on."""
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session[LANGUAGE_KEY] = chosen
    return redirect(_safe_next(request.form.get("next")), code=303)


def compile_catalogs(source: Path, target: Path) -> Path:
    """Compile each ``.po`` under ``source`` into a ``.mo`` under ``target`` unless already done; return target.

    A compiled file carries its source's modification time, so any edit of the ``.po`` (newer or, after a
    checkout, older) is recompiled. Each file is written beside its place and renamed into it, so two
    processes starting together never read a half-written catalog.
    """
    for po_path in source.glob(CATALOG_GLOB):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        po_mtime = po_path.stat().st_mtime_ns
        if mo_path.exists() and mo_path.stat().st_mtime_ns == po_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        partial = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.partial")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.utime(partial, ns=(po_mtime, po_mtime))
        os.replace(partial, mo_path)
    return target


def _language_globals() -> dict[str, object]:
    language = current_language()
    other = "en" if language == "vi" else "vi"
    return {"current_language": language, "other_language": other, "other_language_label": SWITCH_LABELS[other]}


def register(app: Flask) -> None:
    cache = app.extensions[RUNTIME_KEY].settings.home / "cache" / "translations"
    Babel(
        app,
        locale_selector=current_language,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(compile_catalogs(TRANSLATIONS_DIR, cache)),
    )
    app.context_processor(_language_globals)
    app.register_blueprint(bp)
