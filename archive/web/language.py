"""The interface language: Vietnamese first, English by a switch kept in the session.

Templates and views write their Vietnamese text as the message id (``{{ _("Đăng nhập") }}``); the English
catalog in ``translations/en`` gives the switch its English. A text missing from the catalog stays
Vietnamese, so a new page is never blank in either language.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, session
from flask_babel import Babel

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_KEY = "lang"
TRANSLATIONS_DIR = Path(__file__).with_name("translations")


def current_language() -> str:
    chosen = session.get(LANGUAGE_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def register(app: Flask) -> None:
    Babel(
        app,
        locale_selector=current_language,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
