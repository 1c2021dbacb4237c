"""`hoso case import`: case records from a CSV or JSON export of INS (the force's case management system).

Each row goes through the same ``archive.cases`` functions as the form and the API, in its own
transaction, so one bad row is refused with its reason and the others go on. A row is matched to an
existing case by unit and case number: an identical row is "unchanged" and writes nothing, which makes
re-running a file safe. Blank cells never erase what a case already holds. The column mapping is the one
table ``COLUMNS`` below; docs/cases.md prints it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.cases import (
    FIELD_LABELS_VI,
    CaseInvalid,
    FieldError,
    create_case,
    normalise_case_number,
    resolve_unit,
    update_case,
)
from archive.handover import Actor
from archive.models import Case, Unit, User
from archive.refusals import Refusal
from archive.runtime import Runtime
from search.analyzer import fold


@dataclass(frozen=True)
class Column:
    field: str
    header_vi: str  # the header INS writes
    # Also accepted. Headers are compared without case, diacritics, spaces or punctuation, so "So QD xu phat"
    # and "SỐ QĐ XỬ PHẠT" match "Số QĐ xử phạt" without being listed.
    aliases: tuple[str, ...]


COLUMNS: tuple[Column, ...] = (
    Column("case_number", "Số vụ việc", ("Mã vụ việc", "case_number")),
    Column("unit", "Đơn vị", ("Đơn vị xử lý", "Đơn vị thụ lý", "unit", "unit_code")),
    Column("decision_number", "Số QĐ xử phạt", ("Số quyết định xử phạt", "Số quyết định", "decision_number")),
    Column("decided_on", "Ngày ra quyết định", ("Ngày QĐ", "Ngày quyết định", "decided_on", "decision_date")),
    Column("subject_name", "Tên tổ chức/cá nhân vi phạm", ("Tên đối tượng", "Đối tượng vi phạm", "subject_name")),
    Column("tax_code", "Mã số thuế", ("MST", "tax_code")),
    Column("address", "Địa chỉ", ("Địa chỉ trụ sở", "address")),
    Column("violation", "Hành vi vi phạm", ("violation", "violations_text")),
    Column("legal_basis", "Căn cứ pháp lý", ("Căn cứ xử phạt", "legal_basis")),
    Column("fine_amount", "Số tiền phạt", ("Tiền phạt", "Tổng tiền phạt", "fine_amount", "fine")),
    Column("confiscated_value", "Giá trị hàng tịch thu", ("Trị giá hàng tịch thu", "confiscated_value")),
    Column("goods_sold_value", "Giá trị hàng tịch thu đã bán", ("Giá trị hàng đã bán", "goods_sold_value")),
    Column("opened_on", "Ngày lập biên bản", ("Ngày lập BB", "Ngày lập biên bản vi phạm", "opened_on")),
    Column("closed_on", "Ngày kết thúc", ("Ngày kết thúc vụ việc", "Ngày đóng hồ sơ", "closed_on")),
    Column("exceeds_authority", "Vượt thẩm quyền", ("Vượt thẩm quyền đội trưởng", "exceeds_authority")),
    # JSON only: a list of {description, legal_basis, fine_amount}, instead of the two text columns.
    Column("violations", "violations", ()),
)
OUTCOMES = ("created", "updated", "unchanged", "refused")


def header_key(header: str) -> str:
    """ "Số QĐ xử phạt", "so qd xu phat" and "SO_QD_XU_PHAT" are one header."""
    return re.sub(r"[^a-z0-9]", "", fold(header))


_BY_HEADER = {header_key(name): column.field for column in COLUMNS for name in (column.header_vi, *column.aliases)}


class ImportFileError(Refusal):
    """The file as a whole cannot be read; no row was looked at."""

    code = "import_file_unreadable"
    message_vi = "Không đọc được tệp nhập vụ việc."
    remedy_vi = "Xuất lại từ INS dạng CSV (UTF-8) hoặc JSON; xem docs/cases.md."


@dataclass
class RowProblem:
    field: str
    column: str  # the header as the file spells it, or the Vietnamese label when the file has no such column
    detail: str
    message_vi: str


@dataclass
class RowResult:
    row: int  # CSV: the spreadsheet row (the header is row 1); JSON: the object's position, from 1
    outcome: str
    case_number: str = ""
    unit: str = ""
    case_id: int | None = None
    changed: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult]
    ignored_columns: list[str]
    dry_run: bool

    def counts(self) -> dict[str, int]:
        return {outcome: sum(1 for row in self.rows if row.outcome == outcome) for outcome in OUTCOMES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "ignored_columns": self.ignored_columns,
            "rows": [asdict(row) for row in self.rows],
        }


@dataclass
class ImportFile:
    records: list[tuple[int, dict[str, Any]]]  # (row number, header -> value)
    headers: dict[str, str]  # field -> header as written in the file
    ignored_columns: list[str]


def read_file(path: Path) -> ImportFile:
    """Records of a CSV (UTF-8, BOM or not, comma or semicolon) or JSON (a list of objects) export."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text; export it from INS or Excel as CSV UTF-8 or JSON.") from None
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error.strerror}.") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith("["):
        records, names = _json_records(text)
    else:
        records, names = _csv_records(text)
    headers: dict[str, str] = {}
    ignored = []
    for name in names:
        known = _BY_HEADER.get(header_key(name))
        if known is None:
            ignored.append(name)
        else:
            headers.setdefault(known, name)
    if "case_number" not in headers:
        raise ImportFileError(f"No case number column: the file needs a column {COLUMNS[0].header_vi!r}.")
    return ImportFile(records, headers, ignored)


def _json_records(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"Invalid JSON at line {error.lineno}: {error.msg}.") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportFileError("A JSON import is a list of objects, one per case.")
    names = list(dict.fromkeys(key for item in data for key in item))
    return [(position, item) for position, item in enumerate(data, start=1)], names


def _csv_records(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Semicolons when the header line has more of them than commas: Excel's CSV where the comma is decimal."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    names = [name.strip() for name in next(reader, [])]
    records = []
    for row_number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            records.append((row_number, dict(zip(names, cells, strict=False))))
    return records, names


def row_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The case fields a record gives, blank cells left out (a blank never erases a stored value).

    Headers are matched per record, so the objects of one JSON file may spell their keys differently.
    A "Hành vi vi phạm" cell may list several violations, one per line; "Căn cứ pháp lý" then has one line
    per violation, or one line that applies to all of them."""
    fields = {}
    for header, value in record.items():
        name = _BY_HEADER.get(header_key(str(header)))
        if name is None or name in fields or value is None or (isinstance(value, str) and not value.strip()):
            continue
        fields[name] = value
    if "violations" not in fields and isinstance(fields.get("violation"), str):
        descriptions = _lines(fields.pop("violation"))
        bases = _lines(str(fields.pop("legal_basis", "")))
        if len(bases) not in (0, 1, len(descriptions)):
            raise CaseInvalid(
                {
                    "legal_basis": FieldError(
                        f"{len(descriptions)} violations but {len(bases)} legal bases; give one per violation.",
                        f"Có {len(descriptions)} hành vi nhưng {len(bases)} căn cứ pháp lý; ghi mỗi hành vi một dòng.",
                    )
                }
            )
        if len(bases) <= 1:
            bases = bases * len(descriptions) or [""] * len(descriptions)
        fields["violations"] = [
            {"description": text, "legal_basis": basis} for text, basis in zip(descriptions, bases, strict=True)
        ]
    return fields


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def import_cases(
    runtime: Runtime,
    actor: Actor,
    source: ImportFile,
    *,
    default_unit: str = "",
    dry_run: bool = False,
    on_row: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Import every record of ``source`` as ``actor``; ``default_unit`` is the unit of rows that name none."""
    results = []
    units = unit_names(runtime)
    for row_number, record in source.records:
        result = _import_row(runtime, actor, source.headers, units, row_number, record, default_unit, dry_run)
        results.append(result)
        if on_row is not None:
            on_row(result)
    return ImportReport(results, source.ignored_columns, dry_run)


def _import_row(
    runtime: Runtime,
    actor: Actor,
    headers: Mapping[str, str],
    units: Mapping[str, str],
    row_number: int,
    record: Mapping[str, Any],
    default_unit: str,
    dry_run: bool,
) -> RowResult:
    result = RowResult(row_number, "refused")
    with runtime.sessions() as session:
        actor = Actor(session.get_one(User, actor.user.id), actor.remote_addr)
        try:
            fields = row_fields(record)
            result.case_number = normalise_case_number(fields.get("case_number"))
            named = " ".join(str(fields.get("unit") or default_unit).split())
            result.unit = units.get(named.casefold()) or units.get(fold(named)) or named
            fields["unit"] = result.unit
            resolve_unit(session, actor.user, result.unit)  # scope first: nothing is looked up outside it
            existing = session.scalar(
                select(Case.id).join(Case.unit).where(Unit.code == result.unit, Case.case_number == result.case_number)
            )
            if existing is None:
                saved = create_case(session, actor, fields, source="import", dry_run=dry_run)
                result.outcome = "created"
            else:
                saved = update_case(runtime, session, actor, existing, fields, source="import", dry_run=dry_run)
                result.outcome = "updated" if saved.changed else "unchanged"
            result.case_id = saved.case.id
            result.changed = sorted(saved.changed)
        except CaseInvalid as invalid:
            result.problems = [_problem(name, error, headers) for name, error in invalid.errors.items()]
        except Refusal as refused:
            result.problems = [RowProblem("", "", refused.detail, refused.message_vi)]
    return result


def unit_names(runtime: Runtime) -> dict[str, str]:
    """How a row may name a unit -> its code: the code in any case, or the full name as INS writes it
    (compared folded). Read once per import: the unit tree does not change while a file is read."""
    with runtime.sessions() as session:
        units = session.execute(select(Unit.code, Unit.name)).all()
    return {fold(name): code for code, name in units} | {code.casefold(): code for code, _name in units}


def _problem(name: str, error: FieldError, headers: Mapping[str, str]) -> RowProblem:
    base = name.split("[", 1)[0]
    if base == "violations":  # an itemised violation from text columns: name the column it came from
        base = "legal_basis" if name.endswith("legal_basis") else "violation"
    column = headers.get(base) or headers.get(name) or FIELD_LABELS_VI.get(base, name)
    return RowProblem(name, column, error.detail, error.message_vi)


def iter_summary_lines(report: ImportReport) -> Iterator[str]:
    """The human-readable report: one line per row, then the counts."""
    for row in report.rows:
        label = f"row {row.row}: {row.outcome}"
        target = f" {row.case_number or '?'} ({row.unit or '?'})"
        if row.outcome == "refused":
            reasons = "; ".join(
                f"{problem.column + ': ' if problem.column else ''}{problem.detail}" for problem in row.problems
            )
            yield f"{label}{target}: {reasons}"
        elif row.outcome == "updated":
            yield f"{label}{target}: {', '.join(row.changed)}"
        else:
            yield f"{label}{target}"
    counts = report.counts()
    prefix = "dry run, nothing saved: " if report.dry_run else ""
    yield prefix + ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
    if report.ignored_columns:
        yield "ignored columns: " + ", ".join(report.ignored_columns)
