"""Case records (vụ việc): create and update a case from plain fields, validated the same way for the form,
the API and `hoso case import`.

Every writer hands a dict of raw values (strings from a form or a CSV cell, or JSON values) to
``create_case`` / ``update_case``; the values are cleaned here (case number spacing, tax code with
python-stdnum, dates in ISO or dd/mm/yyyy, VND amounts such as "15.000.000"), every problem is collected
per field with an English detail and a Vietnamese message, and nothing is written unless all fields hold.
A write locks the audit chain, re-reads the case, changes it and appends its audit entry in one
transaction, like the handover steps. See docs/cases.md for the rules.

The itemised violations are the truth; ``Case.violation`` and ``Case.legal_basis`` (the one-line summary
the search facets and the index read) are derived from them on every write: the descriptions joined with
"; ", and the distinct legal bases joined with "; " in order of first appearance.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.vn import mst

from archive import audit
from archive.handover import Actor
from archive.models import Case, CaseViolation, Unit, User, covers, utcnow
from archive.permissions import roles_for
from archive.refusals import Refusal
from archive.reindex import reindex_dossier
from archive.runtime import Runtime

log = logging.getLogger(__name__)

# Roles that enter and correct case records, within their unit's subtree; everyone else in scope reads.
EDITOR_ROLES = roles_for("case.edit")
SOURCES = ("manual", "import")
TEXT_LIMITS = {"case_number": 64, "subject_name": 300, "address": 400, "decision_number": 64}
DATE_FIELDS = ("opened_on", "closed_on", "decided_on")
MONEY_FIELDS = ("fine_amount", "confiscated_value", "goods_sold_value")
# Fields the search index copies into every page of the case's dossiers: changing one makes them stale.
INDEXED_FIELDS = frozenset({"case_number", "unit", "subject_name", "tax_code", "violation", "opened_on"})
# What a person reads next to a field, and what the CLI names a field by.
FIELD_LABELS_VI = {
    "case_number": "Số vụ việc",
    "unit": "Đơn vị",
    "subject_name": "Tên tổ chức/cá nhân vi phạm",
    "tax_code": "Mã số thuế",
    "address": "Địa chỉ",
    "violations": "Hành vi vi phạm",
    "violation": "Hành vi vi phạm",
    "legal_basis": "Căn cứ pháp lý",
    "fine_amount": "Số tiền phạt",
    "opened_on": "Ngày lập biên bản",
    "closed_on": "Ngày kết thúc",
    "decision_number": "Số QĐ xử phạt",
    "decided_on": "Ngày ra quyết định",
    "confiscated_value": "Giá trị hàng tịch thu",
    "goods_sold_value": "Giá trị hàng tịch thu đã bán",
    "exceeds_authority": "Vượt thẩm quyền đội trưởng",
}
KNOWN_FIELDS = frozenset(FIELD_LABELS_VI)
MAX_MONEY = 10**15  # VND; well above any fine, below BigInteger's limit: a larger figure is a typing slip
_MONEY = re.compile(r"^(\d{1,3}(?:([.,])\d{3})(?:\2\d{3})*|\d+)$")
_CURRENCY = re.compile(r"(?i)\s*(vnđ|vnd|đồng|đ)\s*$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_TAX_SEPARATORS = re.compile(r"[\s.\-]")
_TRUE = {"1", "true", "yes", "x", "có", "co", "c", "y"}
_FALSE = {"0", "false", "no", "không", "khong", "k", "n"}


@dataclass(frozen=True)
class FieldError:
    detail: str  # English, for the API, the CLI and the logs
    message_vi: str  # what the form shows next to the field


class CaseInvalid(Refusal):
    """One or more fields do not hold; ``errors`` says which, keyed by field ("violations[1].legal_basis")."""

    code = "case_invalid"
    http_status = 422
    detail = "Some case fields are invalid."
    message_vi = "Thông tin vụ việc chưa hợp lệ."
    remedy_vi = "Sửa các trường được đánh dấu rồi lưu lại."

    def __init__(self, errors: Mapping[str, FieldError]):
        self.errors = dict(errors)
        super().__init__("Invalid case fields: " + "; ".join(f"{k}: {e.detail}" for k, e in self.errors.items()))

    def to_dict(self) -> dict[str, Any]:
        fields = {name: {"detail": e.detail, "message_vi": e.message_vi} for name, e in self.errors.items()}
        return {**super().to_dict(), "fields": fields}


class CaseNotFound(Refusal):
    """Also what a user outside the case's unit subtree gets: other units' cases do not exist for them."""

    code = "not_found"
    http_status = 404
    detail = "No such case in your units."
    message_vi = "Không tìm thấy vụ việc trong phạm vi đơn vị của bạn."


class CaseEditNotAllowed(Refusal):
    code = "not_allowed"
    http_status = 403
    detail = "Only officers, team leaders and admins may create or edit case records."
    message_vi = "Bạn không có quyền tạo hoặc sửa vụ việc."
    remedy_vi = "Cán bộ hoặc đội trưởng của đơn vị nhập và sửa thông tin vụ việc."


class CaseExists(Refusal):
    code = "case_exists"
    http_status = 409
    detail = "The unit already has a case with this number."
    message_vi = "Đơn vị đã có vụ việc mang số này."
    remedy_vi = "Mở vụ việc đã có để sửa, hoặc kiểm tra lại số vụ việc."

    def __init__(self, case_id: int, case_number: str, unit_code: str):
        self.case_id = case_id
        super().__init__(f"Unit {unit_code} already has case {case_number!r} (id {case_id}).")


@dataclass
class CaseSaved:
    """The outcome of one write: ``changed`` maps each field to [old, new] (JSON values); empty: unchanged."""

    case: Case
    created: bool
    changed: dict[str, list[Any]] = field(default_factory=dict)
    index_stale: bool = False  # the re-index after the change failed: `hoso reindex` repairs it


# Cleaning: raw values in, stored values out; each raises ValueError(detail, message_vi) on a bad value.


class _Bad(ValueError):
    def __init__(self, detail: str, message_vi: str):
        super().__init__(detail)
        self.error = FieldError(detail, message_vi)


def normalise_case_number(raw: object) -> str:
    """NFC, spaces collapsed and trimmed: "148  /QĐ-XPHC " and "148 /QĐ-XPHC" are one case, however typed.

    Every path that names a case by number uses it (the form, the API, the import, ``ingest.submit``), so
    the same number never makes two cases of one unit."""
    return " ".join(unicodedata.normalize("NFC", str(raw or "")).split())


def clean_tax_code(raw: object) -> str:
    """A valid MST (10 digits, or 13 with the branch suffix) stored formatted ("0100233488-001"); a 12-digit
    personal identification number, which individuals use as their tax code since 1 July 2025, stored as
    is; empty for a person without one."""
    text = "".join(str(raw or "").split())
    if re.fullmatch(r"0(0[1-9]|[1-8]\d|9[0-6])\d{9}", text):  # personal ID: a province code 001-096 first
        return text
    compact = _TAX_SEPARATORS.sub("", text)
    if not compact:
        return ""
    if len(compact) not in (10, 13) or not compact.isdigit():
        raise _Bad(
            "A tax code has 10 digits, or 13 with a branch suffix (0100233488-001).",
            "Mã số thuế gồm 10 chữ số, hoặc 13 chữ số với mã chi nhánh (0100233488-001).",
        )
    if not mst.is_valid(compact):
        raise _Bad("The tax code's check digit is wrong.", "Mã số thuế không đúng (sai chữ số kiểm tra).")
    return mst.format(compact)


def clean_date(raw: object) -> date | None:
    """A date as ISO (2024-03-05, a time after it ignored) or Vietnamese dd/mm/yyyy; not in the future."""
    if raw is None or isinstance(raw, date):
        found = raw if not isinstance(raw, datetime) else raw.date()
    else:
        text = str(raw).strip()
        if not text:
            return None
        day_first = _DMY.match(text)
        try:
            if day_first:
                found = date(int(day_first[3]), int(day_first[2]), int(day_first[1]))
            else:
                found = date.fromisoformat(text[:10])
        except ValueError:
            raise _Bad(
                f"{text!r} is not a date; write 2024-03-05 or 05/03/2024.",
                "Ngày không hợp lệ; nhập theo dạng 05/03/2024.",
            ) from None
    if found is not None and found > date.today() + timedelta(days=1):
        raise _Bad(f"{found.isoformat()} is in the future.", "Ngày không được sau ngày hôm nay.")
    return found


def clean_money(raw: object) -> int | None:
    """Whole VND, not negative: 15000000, "15.000.000", "15,000,000 đ"; empty is None (not recorded)."""
    if raw is None or isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    else:
        text = _CURRENCY.sub("", str(raw).strip()).replace(" ", "")
        if not text:
            return None
        negative = text.startswith("-")
        if negative or not _MONEY.match(text):
            if negative and _MONEY.match(text[1:]):
                raise _Bad("An amount cannot be negative.", "Số tiền không được âm.")
            raise _Bad(
                f"{raw!r} is not a whole amount of VND (write 15000000 or 15.000.000).",
                "Số tiền không hợp lệ; nhập số đồng, ví dụ 15.000.000.",
            )
        value = int(re.sub(r"[.,]", "", text))
    if value is not None and value < 0:
        raise _Bad("An amount cannot be negative.", "Số tiền không được âm.")
    if value is not None and value > MAX_MONEY:
        raise _Bad("The amount is implausibly large.", "Số tiền quá lớn, kiểm tra lại.")
    return value


def clean_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw if raw is not None else "").strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE or not text:
        return False
    raise _Bad(f"{raw!r} is not yes or no.", "Chỉ nhập Có hoặc Không.")


def _clean_text(name: str, raw: object) -> str:
    text = " ".join(str(raw or "").split())
    if len(text) > TEXT_LIMITS[name]:
        raise _Bad(
            f"At most {TEXT_LIMITS[name]} characters.", f"Tối đa {TEXT_LIMITS[name]} ký tự (đang có {len(text)})."
        )
    return text


def _clean_violations(raw: object, errors: dict[str, FieldError]) -> list[dict[str, Any]]:
    """Each item needs a description and its legal basis; the fine is optional. Empty rows are dropped."""
    if not isinstance(raw, list):
        errors["violations"] = FieldError("`violations` must be a list of objects.", "Danh sách hành vi không hợp lệ.")
        return []
    cleaned = []
    for position, item in enumerate(raw):
        key = f"violations[{position}]"
        if not isinstance(item, Mapping):
            errors[key] = FieldError("Each violation must be an object.", "Hành vi vi phạm không hợp lệ.")
            continue
        description = " ".join(str(item.get("description") or "").split())
        legal_basis = " ".join(str(item.get("legal_basis") or "").split())
        fine = item.get("fine_amount")
        if not description and not legal_basis and fine in (None, ""):
            continue
        if not description:
            errors[f"{key}.description"] = FieldError("A violation needs a description.", "Chưa mô tả hành vi vi phạm.")
        if not legal_basis:
            errors[f"{key}.legal_basis"] = FieldError(
                "A violation needs its legal basis.",
                "Chưa ghi căn cứ pháp lý (ví dụ: Điểm a khoản 2 Điều 17 NĐ 98/2020/NĐ-CP).",
            )
        try:
            fine = clean_money(fine)
        except _Bad as bad:
            errors[f"{key}.fine_amount"] = bad.error
            fine = None
        cleaned.append({"description": description, "legal_basis": legal_basis, "fine_amount": fine})
    return cleaned


def clean_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of every known field present in ``raw``; CaseInvalid listing every field that fails.

    ``violation``/``legal_basis`` given without ``violations`` stand for a list of one violation. The unit
    stays a code here; ``resolve_unit`` checks it against the actor's scope."""
    errors: dict[str, FieldError] = {}
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            if name in TEXT_LIMITS:
                clean[name] = _clean_text(name, value)
            elif name == "tax_code":
                clean[name] = clean_tax_code(value)
            elif name in DATE_FIELDS:
                clean[name] = clean_date(value)
            elif name in MONEY_FIELDS:
                clean[name] = clean_money(value)
            elif name == "exceeds_authority":
                clean[name] = clean_bool(value)
            elif name == "unit":
                clean[name] = str(value or "").strip()
        except _Bad as bad:
            errors[name] = bad.error
    if "violations" in raw:
        clean["violations"] = _clean_violations(raw["violations"], errors)
    elif "violation" in raw or "legal_basis" in raw:
        one = {"description": raw.get("violation"), "legal_basis": raw.get("legal_basis")}
        clean["violations"] = _clean_violations([one], errors)
        for part in ("description", "legal_basis"):  # name the error by the field that was sent
            moved = errors.pop(f"violations[0].{part}", None)
            if moved is not None:
                errors["violation" if part == "description" else "legal_basis"] = moved
    if "case_number" in clean:
        clean["case_number"] = normalise_case_number(clean["case_number"])
    if errors:
        raise CaseInvalid(errors)
    return clean


def _check_consistency(values: Mapping[str, Any]) -> None:
    """Rules across fields, on the case as it would be saved."""
    errors: dict[str, FieldError] = {}
    if not values.get("case_number"):
        errors["case_number"] = FieldError("A case number is required.", "Chưa nhập số vụ việc.")
    opened, closed, decided = values.get("opened_on"), values.get("closed_on"), values.get("decided_on")
    if opened and closed and closed < opened:
        errors["closed_on"] = FieldError(
            "The case cannot close before it was opened.", "Ngày kết thúc không được trước ngày lập biên bản."
        )
    if opened and decided and decided < opened:
        errors["decided_on"] = FieldError(
            "The decision cannot predate the record of the violation.",
            "Ngày ra quyết định không được trước ngày lập biên bản.",
        )
    fines = [item["fine_amount"] for item in values.get("violations") or []]
    if fines and None not in fines and values.get("fine_amount") is not None and sum(fines) != values["fine_amount"]:
        errors["fine_amount"] = FieldError(
            f"The fine {values['fine_amount']} is not the sum of the violations' fines ({sum(fines)}).",
            f"Số tiền phạt không bằng tổng tiền phạt của các hành vi ({sum(fines):,} đồng).".replace(",", "."),
        )
    if errors:
        raise CaseInvalid(errors)


def summary_of(violations: list[dict[str, Any]]) -> tuple[str, str]:
    """(violation, legal_basis) one-liners for the search facet, derived from the itemised list."""
    descriptions = "; ".join(item["description"] for item in violations)
    bases = "; ".join(dict.fromkeys(item["legal_basis"] for item in violations if item["legal_basis"]))
    return descriptions, bases


# Reading and writing cases.


def may_edit(user: User, unit_path: str) -> bool:
    return user.role in EDITOR_ROLES and covers(user, unit_path)


def case_in_scope(session: Session, user: User, case_id: int) -> Case:
    case = session.get(Case, case_id, populate_existing=True)
    if case is None or not covers(user, case.unit.path):
        raise CaseNotFound(f"No case {case_id} in your units.")
    return case


def stored_values(case: Case) -> dict[str, Any]:
    """The case's fields in the shape ``clean_fields`` produces, for comparing and for the audit entry."""
    values: dict[str, Any] = {name: getattr(case, name) for name in (*TEXT_LIMITS, "tax_code", *DATE_FIELDS)}
    values |= {name: getattr(case, name) for name in (*MONEY_FIELDS, "exceeds_authority")}
    values["unit"] = case.unit.code
    values["violations"] = [
        {"description": v.description, "legal_basis": v.legal_basis, "fine_amount": v.fine_amount}
        for v in case.violations
    ]
    return values


def case_record(case: Case) -> dict[str, Any]:
    """A case as JSON for the API and `hoso case import --json`."""
    values = stored_values(case)
    return {
        "case_id": case.id,
        **{name: value.isoformat() if isinstance(value, date) else value for name, value in values.items()},
        "unit_name": case.unit.name,
        "violation": case.violation,
        "legal_basis": case.legal_basis,
        "source": case.source,
        "created_at": case.created_at.isoformat() if case.created_at else None,
        "updated_at": case.updated_at.isoformat() if case.updated_at else None,
        "dossier_ids": [dossier.id for dossier in case.dossiers],
    }


def resolve_unit(session: Session, user: User, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else None
    if unit is None:
        detail = f"No unit has the code {code!r}." if code else "A unit is required."
        raise CaseInvalid({"unit": FieldError(detail, "Đơn vị không tồn tại." if code else "Chưa chọn đơn vị.")})
    if not covers(user, unit.path):
        raise CaseInvalid(
            {
                "unit": FieldError(
                    f"Unit {code} is outside your units.", "Đơn vị này không thuộc phạm vi đơn vị của bạn."
                )
            }
        )
    return unit


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _apply(session: Session, user: User, case: Case, values: dict[str, Any], before: dict[str, Any]) -> dict:
    """Write ``values`` (complete, cleaned) onto ``case``; returns {field: [old, new]} of what differs."""
    _check_consistency(values)
    if values.get("fine_amount") is None and values["violations"]:
        fines = [item["fine_amount"] for item in values["violations"] if item["fine_amount"] is not None]
        values["fine_amount"] = sum(fines) if fines else None
    if case.unit_id is None or values["unit"] != before["unit"] or values["case_number"] != before["case_number"]:
        unit = resolve_unit(session, user, values["unit"])
        clash = session.scalar(
            select(Case.id).where(Case.unit_id == unit.id, Case.case_number == values["case_number"])
        )
        if clash is not None and clash != case.id:
            raise CaseExists(clash, values["case_number"], unit.code)
        case.unit = unit
    changed = {
        name: [_json_value(before.get(name)), _json_value(value)]
        for name, value in values.items()
        if before.get(name) != value
    }
    if not changed:
        return changed
    for name, value in values.items():
        if name not in ("unit", "violations"):
            setattr(case, name, value)
    if "violations" in changed:
        # Only a new list rewrites the summary: a case whose summary came without an itemised list keeps it.
        old_summary = case.violation or ""
        case.violations = [CaseViolation(position=n, **item) for n, item in enumerate(values["violations"])]
        case.violation, case.legal_basis = summary_of(values["violations"])
        if case.violation != old_summary:  # a stored field too: recorded for the auditor
            changed["violation"] = [old_summary, case.violation]
    case.updated_at = utcnow()
    return changed


def _all_fined(violations: list[dict[str, Any]] | None) -> bool:
    return bool(violations) and all(item["fine_amount"] is not None for item in violations or [])


def _defaults() -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in (*TEXT_LIMITS, "tax_code")}
    values |= {name: None for name in (*DATE_FIELDS, *MONEY_FIELDS)}
    return values | {"exceeds_authority": False, "violations": [], "unit": ""}


def _require_editor(user: User) -> None:
    if user.role not in EDITOR_ROLES:
        raise CaseEditNotAllowed(f"A user with role {user.role!r} may not create or edit case records.")


def create_case(
    session: Session, actor: Actor, raw: Mapping[str, Any], *, source: str = "manual", dry_run: bool = False
) -> CaseSaved:
    """A new case in a unit within the actor's scope; CaseExists if the unit already has its number."""
    try:
        _require_editor(actor.user)
        clean = clean_fields(raw)
        audit.lock_chain(session)
        case = Case(source=source)
        values = _defaults() | clean
        if not values["unit"] and actor.user.unit.level == "team":
            values["unit"] = actor.user.unit.code  # a team member's case is their team's
        changed = _apply(session, actor.user, case, values, _defaults())
        session.add(case)
        session.flush()
        _record(session, actor, "case.create", case, changed, source)
        _finish(session, dry_run)
    except Exception:
        session.rollback()
        raise
    return CaseSaved(case, True, changed)


def update_case(
    runtime: Runtime,
    session: Session,
    actor: Actor,
    case_id: int,
    raw: Mapping[str, Any],
    *,
    source: str | None = None,
    dry_run: bool = False,
) -> CaseSaved:
    """Change the fields present in ``raw``; an update that changes nothing writes nothing (no audit entry).

    When a field the index copies changed, the case's dossiers are re-indexed after the commit; if that
    fails (the index is busy), the change stands and ``index_stale`` says `hoso reindex` should run."""
    try:
        audit.lock_chain(session)
        case = case_in_scope(session, actor.user, case_id)  # scope, then role, then fields: 404 before 403
        _require_editor(actor.user)
        clean = clean_fields(raw)
        before = stored_values(case)
        values = before | clean
        if "fine_amount" not in clean and _all_fined(clean.get("violations")):
            values["fine_amount"] = None  # derived again from the new list
        changed = _apply(session, actor.user, case, values, before)
        if changed:
            if source is not None:
                case.source = source
            _record(session, actor, "case.update", case, changed, source or "manual")
        _finish(session, dry_run)
    except Exception:
        session.rollback()
        raise
    saved = CaseSaved(case, False, changed)
    if changed.keys() & INDEXED_FIELDS and not dry_run:
        saved.index_stale = not _reindex_case(runtime, [dossier.id for dossier in case.dossiers])
    return saved


def _finish(session: Session, dry_run: bool) -> None:
    if dry_run:
        session.rollback()
    else:
        session.commit()


def _record(session: Session, actor: Actor, action: str, case: Case, changed: dict, source: str) -> None:
    detail = {"case_number": case.case_number, "source": source, "changed": changed}
    audit.append(session, actor.user, action, "case", str(case.id), case.unit.path, detail, actor.remote_addr)


def _reindex_case(runtime: Runtime, dossier_ids: list[str]) -> bool:
    try:
        for dossier_id in dossier_ids:
            reindex_dossier(runtime, dossier_id)
    except Exception:  # noqa: BLE001 - the record is saved; a stale index is repaired by `hoso reindex`
        log.exception("re-indexing dossiers %s after a case edit failed; run `hoso reindex`", dossier_ids)
        return False
    return True
