"""The fields of a dossier cover (bìa hồ sơ) from its text.

The cover is a form (TCVN 9251:2012): centred agency lines, then labelled values ("Mã hồ sơ:", "Từ
ngày:", "Gồm: N tờ", ...). OCR of a scanned cover loses diacritics on bold upper-case lines, drops
colons, and adds specks ("_", "|") at line ends, so:

- labels are matched on folded text with a small edit distance, not exactly;
- the agency and unit lines are rebuilt from the official vocabulary of QLTT agency names and the
  province gazetteer (ocr/agency_names.py), which restores the diacritics OCR dropped;
- dates, counts and numbers tolerate the usual digit confusions of handwriting ("O" for 0, "l" for 1).

A label left unfilled (a dotted leader) gives None, which is what lets the verifier flag blank cover
fields. ``label_values`` exposes the raw value after each label so a caller holding the image can
re-read a value that did not parse (ocr/details.py does).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from ocr.agency_names import PhraseBook, restore_agency_line
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
# Fields printed after a label, with the folded label.
LABELLED_FIELDS = {
    "dossier_code": "ma ho so",
    "start_date": "tu ngay",
    "end_date": "den ngay",
    "sheet_count_declared": "gom",
    "retention": "thoi han bao quan",
    "dossier_number": "ho so so",
}
# How alike a folded label must be to the form's label: one slip in a short label, two in a long one.
_LABEL_SIMILARITY = 0.8
# OCR specks around a line: table rules, underscores, stray quotes and dashes.
_EDGE_JUNK = " _|-—–~`'\".,;:!¡[]{}\\/"
_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
# Letters OCR makes of digits, in handwriting especially.
_DIGIT_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "l": "1",
        "I": "1",
        "|": "1",
        "i": "1",
        "!": "1",
        "Z": "2",
        "z": "2",
        "S": "5",
        "s": "5",
        "B": "8",
        "b": "6",
        "G": "6",
    }
)
# No letter or digit at all: a dotted leader or a speck.
_NO_VALUE = re.compile(r"^[\W_]*$")
_RETENTION_YEARS = re.compile(r"^(\d{1,3})\s*n\w*m$")
# What is left of a line once OCR specks at its ends are gone: from the first letter, digit or "(" to
# the last letter, digit, ")" or "." .
_CORE = re.compile(r"(?:[^\W_]|\().*(?:[^\W_]|[).])|[^\W_]")
# The standard wording of a QLTT dossier title and the legal forms of the businesses it names: respelled
# when OCR slips in an accent ("Công ty cố phần", "vỉ phạm"). Phrases of two words or more only, so a
# person's or a company's own name is never touched.
_TITLE_PHRASES = PhraseBook(
    (
        "Hồ sơ xử lý vi phạm hành chính đối với",
        "xử lý vi phạm hành chính",
        "vi phạm hành chính",
        "Công ty cổ phần",
        "Công ty trách nhiệm hữu hạn",
        "Công ty TNHH",
        "Hộ kinh doanh",
        "Doanh nghiệp tư nhân",
        "Chi nhánh",
        "Cửa hàng",
        "Hợp tác xã",
    ),
    min_words=2,
)


def clean_line(line: str) -> str:
    """A line without the OCR specks at its ends ("$ HỒ SƠ", "HỒ SƠ -“", "_ Từ ngày: 21/02/2025 -")."""
    core = _CORE.search(line.strip())
    return core.group(0) if core else ""


def _similar(left: str, right: str) -> bool:
    return left == right or SequenceMatcher(None, left, right).ratio() >= _LABEL_SIMILARITY


def split_label(line: str) -> tuple[str, str] | None:
    """(field, raw value) when `line` starts with a cover label, else None.

    With a colon the text before it is the label; without one (OCR lost it) the line's first words are
    tried against each label's length.
    """
    cleaned = clean_line(line)
    head, colon, rest = cleaned.partition(":")
    if colon:
        folded = fold(head).strip(_EDGE_JUNK)
        for field, label in LABELLED_FIELDS.items():
            if _similar(folded, label):
                return field, rest
    words = cleaned.split()
    for field, label in LABELLED_FIELDS.items():
        size = len(label.split())
        if len(words) >= size and _similar(fold(" ".join(words[:size])).strip(_EDGE_JUNK), label):
            # "Hồ sơ số" starts like "HỒ SƠ" and the title "Hồ sơ xử lý…": only a colon-less label
            # followed by a value of its own shape counts.
            rest = " ".join(words[size:])
            if field == "dossier_number" and not re.fullmatch(r"[\w.]{1,8}", rest):
                continue
            if field == "sheet_count_declared" and not re.search(r"t\S*$", fold(rest)):
                continue
            return field, rest
    return None


def _blank_or(value: str) -> str | None:
    value = value.strip().strip(" .…_·-")
    return None if _NO_VALUE.match(value) else value


def as_digits(text: str) -> str:
    """`text` with the letters OCR makes of digits turned back into digits."""
    return text.translate(_DIGIT_LOOKALIKES)


def parse_date(text: str) -> str | None:
    """DD/MM/YYYY (any of / . - between, OCR look-alikes allowed) as YYYY-MM-DD, or None."""
    match = _DATE.search(as_digits(text.replace(" ", "")))
    return iso_date(*match.groups()) if match else None


def parse_count(text: str) -> int | None:
    """The N of "N tờ" (the word "tờ" itself is optional), or None."""
    folded = fold(text)
    body = re.sub(r"\s*t\S{0,2}\s*$", "", folded) if re.search(r"\d", as_digits(folded)) else folded
    digits = as_digits(body.replace(" ", "").strip(".,"))
    return int(digits) if re.fullmatch(r"\d{1,4}", digits) else None


def parse_dossier_number(text: str) -> str | None:
    """The dossier number as printed ("98", "12/2024"), look-alike letters read as digits when it is numeric."""
    value = text.strip().strip(".,")
    digits = as_digits(value.replace(" ", ""))
    if re.fullmatch(r"\d{1,6}", digits):
        return str(int(digits))
    return value or None


def parse_retention(text: str) -> str:
    """ "10 năm" / "Vĩnh viễn" in their standard spelling when recognisable, else the text as read."""
    folded = fold(text).strip(".")
    years = _RETENTION_YEARS.match(as_digits(folded))
    if years:
        return f"{int(years.group(1))} năm"
    if _similar(folded, "vinh vien"):
        return "Vĩnh viễn"
    return text.strip().strip(".")


def parse_field(field: str, raw: str) -> str | int | None:
    """A labelled field's typed value from its raw text; None when blank or unreadable."""
    value = _blank_or(raw)
    if value is None:
        return None
    if field in ("start_date", "end_date"):
        return parse_date(value)
    if field == "sheet_count_declared":
        return parse_count(value)
    if field == "dossier_number":
        return parse_dossier_number(value)
    if field == "retention":
        return parse_retention(value)
    return value.replace(" ", "") if field == "dossier_code" else value


def label_values(text: str) -> dict[str, str]:
    """The raw text after each label found, by field (first occurrence); labels not found are absent."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        labelled = split_label(line)
        if labelled is not None and labelled[0] not in values:
            values[labelled[0]] = labelled[1]
    return values


def _agency_and_unit(header: list[str]) -> tuple[str | None, str | None]:
    """The agency is the "CỤC …" line under the parent ("TỔNG CỤC …"); the unit is the line after it."""
    folded = [fold(line) for line in header]
    agency_index = next(
        (
            index
            for index, line in enumerate(folded)
            if re.search(r"\bc[uiy]c\b", line) and not re.search(r"\bt[oô]ng\b", line) and not line.startswith("bo ")
        ),
        None,
    )
    if agency_index is None:
        return None, None
    unit = header[agency_index + 1] if agency_index + 1 < len(header) else None
    return restore_agency_line(header[agency_index]), restore_agency_line(unit) if unit else None


def _is_big_title(line: str) -> bool:
    """The big "HỒ SƠ" above the title (OCR: "HO SƠ:", "HỒ SƠ |")."""
    return fold(clean_line(line)) in ("ho so", "ho sd", "ho s0", "hd so")


def _title(lines: list[str]) -> str | None:
    """The lines between the big "HỒ SƠ" and the next label, joined with spaces."""
    start = next((index for index, line in enumerate(lines) if _is_big_title(line)), None)
    if start is None:
        return None
    title_lines = []
    for line in lines[start + 1 :]:
        if split_label(line):
            break
        title_lines.append(line)
    title = " ".join(_TITLE_PHRASES.restore(" ".join(title_lines).split()))
    return None if _NO_VALUE.match(title) else title


def read_cover_fields(text: str) -> dict[str, str | int | None]:
    """The COVER_FIELDS of a cover page: dates as YYYY-MM-DD, the sheet count as int, None if blank."""
    fields: dict[str, str | int | None] = dict.fromkeys(COVER_FIELDS)
    lines = [clean_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    first_label = next((index for index, line in enumerate(lines) if split_label(line)), len(lines))
    fields["agency"], fields["unit"] = _agency_and_unit(lines[:first_label])
    for field, raw in label_values("\n".join(lines)).items():
        fields[field] = parse_field(field, raw)
    fields["title"] = _title(lines)
    return fields
