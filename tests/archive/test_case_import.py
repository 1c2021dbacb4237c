"""`hoso case import`: INS exports in CSV (BOM or not, comma or semicolon) and JSON; created, updated,
unchanged and refused rows with their reasons; re-running a file changes nothing; one bad row stops nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from archive.case_import import COLUMNS, header_key
from archive.cli import main
from archive.models import AuditEntry, Case
from archive.runtime import Runtime

DATA = Path(__file__).resolve().parents[1] / "data" / "cases"


def _import(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["case", "import", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {row["case_number"]: row["outcome"] for row in report["rows"]}


def _case(runtime: Runtime, number: str) -> Case:
    session = runtime.sessions()
    case = session.scalar(select(Case).where(Case.case_number == number))
    assert case is not None, number
    return case


def test_a_good_csv_creates_cases_and_running_it_again_changes_nothing(runtime: Runtime) -> None:
    code, report = _import(str(DATA / "ins-good.csv"), "--user", "quantri")
    assert code == 0
    assert report["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "refused": 0}
    assert report["ignored_columns"] == ["Ghi chú INS"]
    first = _case(runtime, "12/BB-VPHC")
    assert first.source == "import" and first.unit.code == "LCI-D1"
    assert first.fine_amount == 15_000_000 and first.confiscated_value == 42_500_000
    assert first.decision_number == "12/QĐ-XPHC" and first.decided_on.isoformat() == "2024-03-20"
    two = _case(runtime, "13/BB-VPHC")  # two violations, one per line, each with its legal basis
    assert [(v.description, v.legal_basis) for v in two.violations] == [
        ("Không niêm yết giá hàng hóa", "Khoản 1 Điều 31 NĐ 98/2020/NĐ-CP"),
        ("Kinh doanh hàng hóa không rõ nguồn gốc", "Điểm b khoản 1 Điều 17 NĐ 98/2020/NĐ-CP"),
    ]
    branch = _case(runtime, "7/BB-VPHC")  # the unit named by its full name; a branch's tax code
    assert branch.unit.code == "LCI-D2" and branch.tax_code == "0100233488-001"

    with runtime.sessions() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    code, again = _import(str(DATA / "ins-good.csv"), "--user", "quantri")
    assert code == 0
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "refused": 0}
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_bom_semicolons_and_ascii_headers(runtime: Runtime) -> None:
    assert (DATA / "ins-semicolon-bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, report = _import(str(DATA / "ins-semicolon-bom.csv"), "--user", "quantri")
    assert code == 0 and _outcomes(report) == {"21/BB-VPHC": "created", "22/BB-VPHC": "created"}
    case = _case(runtime, "21/BB-VPHC")
    assert case.subject_name == "Cửa hàng tạp hóa Minh Anh" and case.tax_code == "5700987655"
    assert case.fine_amount == 12_000_000 and case.opened_on.isoformat() == "2024-06-11"
    assert _case(runtime, "22/BB-VPHC").unit.code == "LCI-D2"  # "lci-d2": codes in any case


def test_json_with_itemised_violations_and_with_vietnamese_keys(runtime: Runtime) -> None:
    code, report = _import(str(DATA / "ins-cases.json"), "--user", "quantri")
    assert code == 0 and _outcomes(report) == {"31/BB-VPHC": "created", "32/BB-VPHC": "created"}
    itemised = _case(runtime, "31/BB-VPHC")
    assert [v.fine_amount for v in itemised.violations] == [10_000_000, 5_000_000]
    assert itemised.fine_amount == 15_000_000
    person = _case(runtime, "32/BB-VPHC")
    assert person.tax_code == "" and person.exceeds_authority is True and person.fine_amount == 250_000_000
    assert _import(str(DATA / "ins-cases.json"), "--user", "quantri")[1]["counts"]["unchanged"] == 2


def test_bad_rows_are_refused_with_their_reason_and_the_good_row_goes_in(runtime: Runtime) -> None:
    code, report = _import(str(DATA / "ins-bad-rows.csv"), "--user", "doitruong")
    assert code == 1
    refused = {row["row"]: row["problems"] for row in report["rows"] if row["outcome"] == "refused"}
    columns = {
        row: [(problem["column"], problem["field"]) for problem in problems] for row, problems in refused.items()
    }
    assert columns == {
        2: [("Mã số thuế", "tax_code")],
        3: [("Đơn vị", "unit")],  # HNI-D9 does not exist
        4: [("Đơn vị", "unit")],  # QNI-D1 is another province's team
        5: [("Ngày lập biên bản", "opened_on")],  # 31/02
        6: [("Số vụ việc", "case_number")],
        7: [("Số tiền phạt", "fine_amount")],  # negative
    }
    assert "check digit" in refused[2][0]["detail"]
    assert "No unit" in refused[3][0]["detail"] and "outside your units" in refused[4][0]["detail"]
    assert refused[7][0]["message_vi"] == "Số tiền không được âm."
    assert _outcomes(report)["47/BB-VPHC"] == "created"
    with runtime.sessions() as session:
        assert session.scalars(select(Case.case_number)).all() == ["47/BB-VPHC"]


def test_a_changed_row_updates_only_what_changed_and_blank_cells_erase_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    _import(str(DATA / "ins-good.csv"), "--user", "quantri")
    changed = tmp_path / "ins-good-v2.csv"
    text = (DATA / "ins-good.csv").read_text(encoding="utf-8")
    text = text.replace('"15.000.000","42.500.000"', '"20.000.000",""')  # new fine, confiscated value left blank
    changed.write_text(text, encoding="utf-8")
    code, report = _import(str(changed), "--user", "quantri")
    assert code == 0
    assert _outcomes(report) == {"12/BB-VPHC": "updated", "13/BB-VPHC": "unchanged", "7/BB-VPHC": "unchanged"}
    assert report["rows"][0]["changed"] == ["fine_amount"]
    case = _case(runtime, "12/BB-VPHC")
    assert case.fine_amount == 20_000_000 and case.confiscated_value == 42_500_000


def test_dry_run_saves_nothing_and_the_unit_option_fills_rows_without_one(runtime: Runtime, tmp_path: Path) -> None:
    no_unit = tmp_path / "no-unit.csv"
    no_unit.write_text("Số vụ việc,Hành vi vi phạm,Căn cứ pháp lý\n90/BB,Bán hàng giả,Điều 9\n", encoding="utf-8")
    code, report = _import(str(no_unit), "--user", "canbo", "--unit", "LCI-D1", "--dry-run")
    assert code == 0 and report["dry_run"] and _outcomes(report) == {"90/BB": "created"}
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    code, report = _import(str(no_unit), "--user", "canbo", "--unit", "LCI-D1")
    assert _outcomes(report) == {"90/BB": "created"} and _case(runtime, "90/BB").unit.code == "LCI-D1"


def test_an_inspector_may_not_import(runtime: Runtime) -> None:
    code, report = _import(str(DATA / "ins-semicolon-bom.csv"), "--user", "kiemsoat")
    assert code == 1 and report["counts"]["refused"] == 2
    assert "may not create" in report["rows"][0]["problems"][0]["detail"]


def test_unreadable_files_stop_before_any_row(runtime: Runtime, tmp_path: Path) -> None:
    latin = tmp_path / "cp1258.csv"
    latin.write_bytes(b"S\xf4\xec v\xf9 vi\xeac\n1/BB\n")  # "Số vụ việc" in Windows-1258, not UTF-8
    no_number = tmp_path / "no-number.csv"
    no_number.write_text("Tên tổ chức/cá nhân vi phạm\nCông ty A\n", encoding="utf-8")
    for path, message in ((latin, "not UTF-8"), (no_number, "No case number column")):
        result = CliRunner().invoke(main, ["case", "import", str(path), "--user", "quantri"])
        assert result.exit_code == 2 and message in result.stderr


def test_every_vietnamese_header_and_alias_maps_to_one_field() -> None:
    fields_by_key: dict[str, set[str]] = {}
    for column in COLUMNS:
        for name in (column.header_vi, *column.aliases):
            fields_by_key.setdefault(header_key(name), set()).add(column.field)
    assert {key: fields for key, fields in fields_by_key.items() if len(fields) > 1} == {}
    assert header_key("SO QD XU PHAT") == header_key("Số QĐ xử phạt")


def test_the_docs_list_every_column() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cases.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert column.header_vi in docs, f"docs/cases.md does not list the column {column.header_vi!r}"
