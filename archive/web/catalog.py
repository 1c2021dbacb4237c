"""Is the English catalog complete? The message ids the code uses now, and those the catalog has no English for.

Extraction reads the sources the way ``make translations`` does (``babel.cfg``, the same keywords), so a
text added to a template since the last ``make translations`` is caught here as well as one left empty.
``python -m archive.web.catalog`` lists them; ``tests/web/test_language.py`` fails on any.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from archive.web.language import TRANSLATIONS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
MAPPING = REPO_ROOT / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}


def used_message_ids() -> set[str]:
    """Every message id (singular form) in the Python views and the templates, as ``pybabel extract`` finds them."""
    with MAPPING.open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping, filename=str(MAPPING))
    found = extract_from_dir(str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _file, _line, message, _comments, _context in found}


def missing_translations(language: str = "en") -> list[str]:
    """Used message ids without a usable translation: absent from the catalog, empty, or marked fuzzy."""
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)
    missing = []
    for message_id in used_message_ids():
        entry = catalog.get(message_id)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (entry and entry.string,)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(message_id)
    return sorted(missing)


if __name__ == "__main__":
    untranslated = missing_translations()
    for message_id in untranslated:
        print(f"no English: {message_id!r}")
    print(f"{len(untranslated)} message ids without English", file=sys.stderr)
