"""What the page readers found beyond the fixed PageFacts fields: the page's `details` (its facts JSON).

By role: a document's first page gives its number and date; a cover its fields; a table of contents
its rows; a closing certificate its declarations. The cover is the one reader that goes back to the
image: its values are often handwritten and short ("8", "26/03/2022"), which full-page OCR misreads or
misses, so a value that did not parse is read again from a tight crop with a digit-only alphabet, and
labels the full-page pass missed are looked for again with sparse-text segmentation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from PIL import Image

from ocr.classify import read_document_reference
from ocr.closing import read_closing
from ocr.contents import read_contents
from ocr.cover import LABELLED_FIELDS, as_digits, label_values, parse_field, read_cover_fields, split_label
from ocr.facts import Word
from ocr.tesseract import LineKey, read_words
from ocr.text import fold

# Values that are digits: what a digit-only re-read can recover.
_NUMERIC_FIELDS = {
    "sheet_count_declared": "0123456789",
    "dossier_number": "0123456789",
    "start_date": "0123456789/.",
    "end_date": "0123456789/.",
}
# Page segmentations tried, in order, when the first reading of a cover lacks labels.
_SECOND_PASSES = ("--psm 4", "--psm 11")
_CLEAN_VALUE = re.compile(r"[0-9A-Za-z./-]{1,12}")
# Pixel heights a re-read crop is scaled to (crop height, so the glyphs are about two thirds of it),
# and the white border around it.
_READ_HEIGHTS = (36, 44, 52, 60, 68)
_BORDER = 16


def read_details(role: str, text: str, image: Image.Image | None, words: list[tuple[Word, LineKey]]) -> dict[str, Any]:
    """The `details` of one upright page; `image` and `words` let the cover reader re-read values."""
    if role == "document":
        number, issued = read_document_reference(text)
        return {"document": {"number": number, "date": issued}}
    if role == "cover":
        return {"cover": read_cover(text, image, words)}
    if role == "toc":
        return {"contents": read_contents(text)}
    if role == "closing":
        return {"closing": read_closing(text)}
    return {}


def read_cover(
    text: str, image: Image.Image | None = None, words: list[tuple[Word, LineKey]] | None = None
) -> dict[str, str | int | None]:
    """The cover fields from the page text, with what the text lacks read again from the image.

    Dotted leaders and the big "HỒ SƠ" make Tesseract's automatic page segmentation drop whole blocks of
    a cover, so when labels are missing the page is read again as one column (``--psm 4``), then as
    sparse text (``--psm 11``, which finds a value written alone in a corner). A numeric value that did
    not parse is read again from a tight crop of its line.
    """
    fields = read_cover_fields(text)
    if image is None:
        return fields
    lines = _lines(words or [])
    raw = label_values(text)
    for config in _SECOND_PASSES:
        missing = [field for field in LABELLED_FIELDS if field not in raw]
        if not missing:
            break
        pass_lines = _lines(read_words(image, config=config))
        pass_text = "\n".join(line_text for line_text, _words in pass_lines)
        pass_fields, pass_raw = read_cover_fields(pass_text), label_values(pass_text)
        for field in missing:
            if field in pass_raw:
                raw[field] = pass_raw[field]
                fields[field] = pass_fields[field]
        if fields["title"] is None:
            fields["title"] = pass_fields["title"]
        lines += pass_lines
    for field, alphabet in _NUMERIC_FIELDS.items():
        if field in raw and _doubtful(fields[field]):
            value = _reread_value(image, lines, field, alphabet)
            reread = parse_field(field, value) if value is not None else None
            if reread is not None:
                fields[field] = reread
    return fields


def _doubtful(value: str | int | None) -> bool:
    """A value worth reading again: none parsed, or text with marks no number or code contains ("Ì*7")."""
    return value is None or (isinstance(value, str) and not _CLEAN_VALUE.fullmatch(value))


def _lines(words: list[tuple[Word, LineKey]]) -> list[tuple[str, list[Word]]]:
    grouped: dict[LineKey, list[Word]] = {}
    for word, key in words:
        grouped.setdefault(key, []).append(word)
    return [(unicodedata.normalize("NFC", " ".join(word.text for word in line)), line) for line in grouped.values()]


def _reread_value(image: Image.Image, lines: list[tuple[str, list[Word]]], field: str, alphabet: str) -> str | None:
    """Read the value right of `field`'s label again from a tight crop, digits only."""
    for line_text, line_words in lines:
        labelled = split_label(line_text)
        if labelled is None or labelled[0] != field:
            continue
        label_end = next((w.box[2] for w in line_words if ":" in w.text), line_words[0].box[2])
        values = [w for w in line_words if w.box[0] >= label_end and fold(w.text).strip(".") not in ("to", "t")]
        top = min(w.box[1] for w in line_words)
        bottom = max(w.box[3] for w in line_words)
        pad = (bottom - top) // 3 + 2
        # The value's own words, or a stretch after the label when OCR saw nothing there.
        left = min((w.box[0] for w in values), default=label_end + 2)
        right = max((w.box[2] for w in values), default=label_end + 8 * (bottom - top))
        crop = image.crop((max(0, left - pad), max(0, top - pad), min(image.width, right + pad), bottom + pad))
        return _read_digits(crop, alphabet, single=field == "sheet_count_declared")
    return None


def _read_digits(crop: Image.Image, alphabet: str, single: bool) -> str | None:
    """Digits in a small crop, by vote over several enlargements.

    Tesseract's reading of one handwritten digit flips with the glyph's pixel height, so the crop is
    read at several heights and the most frequent answer wins. The LSTM engine reads handwriting better
    unconstrained (look-alike letters are mapped back to digits); a whitelisted pass is the fallback.
    """
    votes: Counter[str] = Counter()
    for height in _READ_HEIGHTS:
        scale = height / max(1, crop.height)
        resized = crop.convert("L").resize((max(1, round(crop.width * scale)), height))
        padded = Image.new("L", (resized.width + 2 * _BORDER, resized.height + 2 * _BORDER), 255)
        padded.paste(resized, (_BORDER, _BORDER))
        for config in ("--psm 7", f"--psm 7 -c tessedit_char_whitelist={alphabet}"):
            runs = [
                re.sub(r"[^0-9/.]", "", as_digits(w.text)) for w, _key in read_words(padded, config=config, lang="eng")
            ]
            runs = [run for run in runs if run]
            if runs:
                # "N tờ": a stray mark after the number reads as more digits, so a count is the first run.
                votes[runs[0] if single else "".join(runs)] += 1
                break
    return votes.most_common(1)[0][0] if votes else None
