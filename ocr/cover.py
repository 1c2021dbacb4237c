"""The fields of a dossier cover (bìa hồ sơ) from its text.

The cover is a form: centred agency lines, then labelled values ("Mã hồ sơ:", "Từ ngày:", "Gồm: N
tờ", ...). Labels are found on folded lines so OCR slips in diacritics do not lose a field; values
keep their exact text. A label left unfilled (a dotted leader) gives None, which is what lets the
verifier flag blank cover fields.
"""

from __future__ import annotations

import re

from ocr.text import fold, iso_date

COVER_FIELDS = (
    "agency",
    "unit",
    "dossier_code",
    "dossier_number",
    "title",
    "start_date",
    "end_date",
    "sheet_count_declared",
    "retention",
)

# Folded label at the start of a line -> field; the value is what follows the label's colon.
_LABELS = (
    ("ma ho so", "dossier_code"),
    ("tu ngay", "start_date"),
    ("den ngay", "end_date"),
    ("gom", "sheet_count_declared"),
    ("thoi han bao quan", "retention"),
    ("ho so so", "dossier_number"),
)
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_COUNT = re.compile(r"(\d+)\s*t")
# What a dotted leader or a speck reads as: no letter or digit at all.
_NO_VALUE = re.compile(r"^[\W_]*$")


def _value_after_label(line: str) -> str | None:
    value = line.split(":", 1)[1] if ":" in line else ""
    value = value.strip(" .…_")
    return None if _NO_VALUE.match(value) else value


def _label_of(line: str) -> str | None:
    folded = fold(line)
    for label, field in _LABELS:
        if folded.startswith(label + ":") or folded.startswith(label + " :"):
            return field
    return None


def _agency_and_unit(header: list[str]) -> tuple[str | None, str | None]:
    """The agency is the "CỤC …" line under the parent ("TỔNG CỤC …"); the unit is the line after it."""
    agency_index = next(
        (index for index, line in enumerate(header) if "cuc" in fold(line) and not fold(line).startswith("tong")),
        None,
    )
    if agency_index is None:
        return None, None
    unit = header[agency_index + 1] if agency_index + 1 < len(header) else None
    return header[agency_index], unit


def _typed(field: str, value: str) -> str | int | None:
    if field in ("start_date", "end_date"):
        match = _DATE.search(value)
        return iso_date(*match.groups()) if match else None
    if field == "sheet_count_declared":
        match = _COUNT.match(value)
        return int(match.group(1)) if match else None
    return value


def _title(lines: list[str]) -> str | None:
    """The lines between the big "HỒ SƠ" and the next label, joined with spaces."""
    start = next((index for index, line in enumerate(lines) if fold(line) == "ho so"), None)
    if start is None:
        return None
    title_lines = []
    for line in lines[start + 1 :]:
        if _label_of(line):
            break
        title_lines.append(line)
    title = " ".join(title_lines)
    return None if _NO_VALUE.match(title) else title


def read_cover_fields(text: str) -> dict[str, str | int | None]:
    """The COVER_FIELDS of a cover page: dates as YYYY-MM-DD, the sheet count as int, None if blank."""
    fields: dict[str, str | int | None] = dict.fromkeys(COVER_FIELDS)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first_label = next((index for index, line in enumerate(lines) if _label_of(line)), len(lines))
    fields["agency"], fields["unit"] = _agency_and_unit(lines[:first_label])

    for line in lines[first_label:]:
        field = _label_of(line)
        if field is not None:
            value = _value_after_label(line)
            fields[field] = _typed(field, value) if value else None
    fields["title"] = _title(lines)
    return fields
