"""Case records in the domain: cleaning each kind of field, the rules across fields, scope and role, the
audit entry of every write, the violation summary, and the re-index after an edit of an indexed field."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import cases
from archive.handover import Actor
from archive.models import AuditEntry, Case, Unit, User
from archive.runtime import Runtime
from search.request import SearchRequest
from tests.web.helpers import plant_dossier


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return Actor(user, "10.0.0.7")


def _audit_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


GOOD = {
    "case_number": "  148 /QĐ-XPHC ",
    "unit": "LCI-D1",
    "subject_name": "Công ty TNHH Hoàng Liên",
    "tax_code": "0100233488",
    "opened_on": "05/03/2024",
    "decided_on": "2024-03-20",
    "violations": [
        {
            "description": "Kinh doanh hàng nhập lậu",
            "legal_basis": "Khoản 2 Điều 17 NĐ 98/2020",
            "fine_amount": "10.000.000",
        },
        {"description": "Không niêm yết giá", "legal_basis": "Khoản 1 Điều 31 NĐ 98/2020", "fine_amount": 5_000_000},
    ],
}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0100233488", "0100233488"),
        ("0100 233 488", "0100233488"),
        ("0100233488001", "0100233488-001"),
        ("0100233488-001", "0100233488-001"),
        ("001203004567", "001203004567"),  # a 12-digit personal identification number
        ("", ""),
        (None, ""),
    ],
)
def test_tax_codes_are_checked_and_stored_formatted(raw: object, stored: str) -> None:
    assert cases.clean_tax_code(raw) == stored


@pytest.mark.parametrize("raw", ["0100233489", "01002334", "01002334880", "MST0100233488", "0100233488-01"])
def test_bad_tax_codes_are_refused(raw: str) -> None:
    with pytest.raises(cases.CaseInvalid) as refused:
        cases.clean_fields({"tax_code": raw})
    assert refused.value.errors["tax_code"].message_vi.startswith("Mã số thuế")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("15.000.000", 15_000_000),
        ("15,000,000", 15_000_000),
        ("15000000", 15_000_000),
        ("15.000.000 đ", 15_000_000),
        (" 2.500.000 VNĐ", 2_500_000),
        (0, 0),
        (1_000.0, 1_000),
        ("", None),
        (None, None),
    ],
)
def test_amounts_are_whole_vnd(raw: object, stored: int | None) -> None:
    assert cases.clean_money(raw) == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-5.000.000", "âm"),
        (-1, "âm"),
        ("15.5", "không hợp lệ"),
        ("15.00.000", "không hợp lệ"),
        ("mười", "không hợp lệ"),
        (2.5, "không hợp lệ"),
    ],
)
def test_bad_amounts_are_refused(raw: object, message: str) -> None:
    with pytest.raises(cases.CaseInvalid) as refused:
        cases.clean_fields({"fine_amount": raw})
    assert message in refused.value.errors["fine_amount"].message_vi


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("05/03/2024", date(2024, 3, 5)),
        ("5/3/2024", date(2024, 3, 5)),
        ("2024-03-05 00:00:00", date(2024, 3, 5)),
        ("", None),
    ],
)
def test_dates_iso_or_day_first(raw: str, stored: date | None) -> None:
    assert cases.clean_date(raw) == stored


@pytest.mark.parametrize("raw", ["31/02/2024", "2024-13-01", "hôm qua", "03/05/3024"])
def test_bad_dates_are_refused(raw: str) -> None:
    with pytest.raises(cases.CaseInvalid) as refused:
        cases.clean_fields({"opened_on": raw})
    assert "opened_on" in refused.value.errors


def test_all_bad_fields_are_reported_at_once() -> None:
    with pytest.raises(cases.CaseInvalid) as refused:
        cases.clean_fields(
            {"tax_code": "123", "decided_on": "x", "exceeds_authority": "maybe", "violations": [{"description": "A"}]}
        )
    assert set(refused.value.errors) == {"tax_code", "decided_on", "exceeds_authority", "violations[0].legal_basis"}
    fields = refused.value.to_dict()["fields"]
    assert fields["violations[0].legal_basis"]["message_vi"].startswith("Chưa ghi căn cứ pháp lý")


def test_create_cleans_fields_sums_fines_and_writes_summary_and_audit(runtime: Runtime) -> None:
    before = _audit_count(runtime)
    with runtime.sessions() as session:
        saved = cases.create_case(session, _actor(session, "canbo"), GOOD)
        case = session.get_one(Case, saved.case.id)
        assert case.case_number == "148 /QĐ-XPHC"
        assert case.unit.code == "LCI-D1" and case.source == "manual"
        assert case.opened_on == date(2024, 3, 5) and case.decided_on == date(2024, 3, 20)
        assert case.fine_amount == 15_000_000  # not given: the sum of the violations' fines
        assert [v.fine_amount for v in case.violations] == [10_000_000, 5_000_000]
        assert case.violation == "Kinh doanh hàng nhập lậu; Không niêm yết giá"
        assert case.legal_basis == "Khoản 2 Điều 17 NĐ 98/2020; Khoản 1 Điều 31 NĐ 98/2020"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert _audit_count(runtime) == before + 1
    assert entry is not None and entry.action == "case.create" and entry.actor == "canbo"
    assert entry.unit_path == "VN/LCI/LCI-D1" and entry.remote_addr == "10.0.0.7"
    assert entry.detail is not None and entry.detail["changed"]["tax_code"] == ["", "0100233488"]


def test_a_fine_that_is_not_the_sum_of_the_violations_is_refused(runtime: Runtime) -> None:
    with runtime.sessions() as session, pytest.raises(cases.CaseInvalid) as refused:
        cases.create_case(session, _actor(session, "canbo"), GOOD | {"fine_amount": "12.000.000"})
    assert "tổng tiền phạt" in refused.value.errors["fine_amount"].message_vi
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_dates_must_follow_each_other(runtime: Runtime) -> None:
    with runtime.sessions() as session, pytest.raises(cases.CaseInvalid) as refused:
        cases.create_case(
            session, _actor(session, "canbo"), GOOD | {"closed_on": "01/03/2024", "decided_on": "1/1/2024"}
        )
    assert set(refused.value.errors) == {"closed_on", "decided_on"}


def test_scope_role_and_duplicates(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        with pytest.raises(cases.CaseInvalid) as outside:
            cases.create_case(session, _actor(session, "canbo"), GOOD | {"unit": "QNI-D1"})
        assert "không thuộc phạm vi" in outside.value.errors["unit"].message_vi
        with pytest.raises(cases.CaseEditNotAllowed):
            cases.create_case(session, _actor(session, "kiemsoat"), GOOD)
        first = cases.create_case(session, _actor(session, "canbo"), GOOD)
        with pytest.raises(cases.CaseExists) as duplicate:  # the same number, however it is spaced
            cases.create_case(session, _actor(session, "doitruong"), GOOD | {"case_number": "148 /QĐ-XPHC"})
        assert duplicate.value.case_id == first.case.id
        with pytest.raises(cases.CaseNotFound):  # another province's officer: the case does not exist for them
            cases.update_case(runtime, session, _actor(session, "quantri"), 99999, {"address": "x"})


def test_update_changes_only_given_fields_and_an_identical_update_writes_nothing(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        actor = _actor(session, "doitruong")
        case_id = cases.create_case(session, actor, GOOD).case.id
        before = _audit_count(runtime)
        saved = cases.update_case(runtime, session, actor, case_id, {"address": "Số 5 Hoàng Liên", "tax_code": ""})
        assert set(saved.changed) == {"address", "tax_code"}
        case = session.get_one(Case, case_id)
        assert case.subject_name == GOOD["subject_name"] and case.tax_code == "" and len(case.violations) == 2
        again = cases.update_case(runtime, session, actor, case_id, {"address": " Số 5  Hoàng Liên "})
    assert again.changed == {}
    assert _audit_count(runtime) == before + 1


def test_new_violations_replace_the_list_and_the_summary_follows(runtime: Runtime) -> None:
    new_list = [{"description": "Buôn bán pháo", "legal_basis": "Điều 11 NĐ 98/2020", "fine_amount": "20.000.000"}]
    with runtime.sessions() as session:
        actor = _actor(session, "canbo")
        case_id = cases.create_case(session, actor, GOOD).case.id
        saved = cases.update_case(runtime, session, actor, case_id, {"violations": new_list})
        case = session.get_one(Case, case_id)
        assert case.violation == "Buôn bán pháo" and case.legal_basis == "Điều 11 NĐ 98/2020"
        assert case.fine_amount == 20_000_000  # every new violation has a fine: the total follows
        assert {"violations", "violation", "fine_amount"} <= set(saved.changed)
        # The one-line form stands for a list of one.
        cases.update_case(runtime, session, actor, case_id, {"violation": "Hàng giả", "legal_basis": "Điều 9"})
        case = session.get_one(Case, case_id)
        assert [(v.description, v.legal_basis, v.fine_amount) for v in case.violations] == [
            ("Hàng giả", "Điều 9", None)
        ]


def test_renaming_the_subject_reindexes_the_case_dossiers(runtime: Runtime) -> None:
    dossier_id = plant_dossier(runtime, "LCI-D1", "77/BB-VPHC", ["Bìa hồ sơ", "Biên bản kiểm tra hàng hóa"])
    wanted = SearchRequest(query="Xuân Trường", scope="VN")
    assert runtime.index.search_dossiers(wanted).total_dossiers == 0
    with runtime.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_number == "77/BB-VPHC"))
        assert case_id is not None
        saved = cases.update_case(
            runtime, session, _actor(session, "canbo"), case_id, {"subject_name": "Công ty Xuân Trường"}
        )
    assert not saved.index_stale
    found = runtime.index.search_dossiers(wanted)
    assert [group.dossier_id for group in found.dossiers] == [dossier_id]


def test_a_busy_index_leaves_the_change_saved_and_says_the_index_is_stale(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_dossier(runtime, "LCI-D1", "78/BB-VPHC", ["Bìa hồ sơ", "Biên bản kiểm tra"])

    def busy(_documents: object) -> None:
        raise OSError("index writer lock held by another process")

    monkeypatch.setattr(runtime.index, "add_pages", busy)
    with runtime.sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_number == "78/BB-VPHC"))
        assert case_id is not None
        saved = cases.update_case(runtime, session, _actor(session, "canbo"), case_id, {"tax_code": "0100233488"})
    assert saved.index_stale
    with runtime.sessions() as session:
        assert session.get_one(Case, case_id).tax_code == "0100233488"


def test_a_summary_without_an_itemised_list_survives_other_edits(runtime: Runtime) -> None:
    """Cases made before the itemised list (or by another writer) keep their one-line summary."""
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "LCI-D1"))
        legacy = Case(unit=unit, case_number="5/CU", violation="Buôn lậu thuốc lá", legal_basis="Điều 8")
        session.add(legacy)
        session.commit()
        saved = cases.update_case(runtime, session, _actor(session, "canbo"), legacy.id, {"address": "Lào Cai"})
        assert set(saved.changed) == {"address"}
        assert session.get_one(Case, legacy.id).violation == "Buôn lậu thuốc lá"
