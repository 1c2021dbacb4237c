"""Retention: reading the cover's "Thời hạn bảo quản", when a dossier comes up for review, and who sees it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from archive.cli import main
from archive.retention import Retention, parse_retention, review_list
from archive.runtime import Runtime
from tests.archive.report_helpers import add_case, add_dossier

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 năm", Retention(10)),
        ("05 năm", Retention(5)),
        ("70 năm", Retention(70)),
        ("20 NĂM", Retention(20)),
        ("  15   năm ", Retention(15)),
        ("10 nam", Retention(10)),
        ("Vĩnh viễn", Retention(None)),
        ("vĩnh viễn", Retention(None)),
        ("VINH VIEN", Retention(None)),
    ],
)
def test_known_retention_texts(text: str, expected: Retention) -> None:
    assert parse_retention(text) == expected


@pytest.mark.parametrize("text", [None, "", "Lâu dài", "10", "năm", "0 năm", "mười năm", "10 tháng"])
def test_unknown_retention_texts(text: str | None) -> None:
    assert parse_retention(text) is None


def test_permanent_is_never_due() -> None:
    assert Retention(None).permanent and not Retention(10).permanent


@pytest.fixture
def archived(runtime: Runtime) -> Session:
    with runtime.sessions() as session:
        accepted = {"state": "accepted", "decided_at": datetime(2016, 3, 1, tzinfo=UTC)}
        uploaded = datetime(2016, 1, 1, tzinfo=UTC)
        # Closed in 2014, 10 years: runs 2015-2024, reviewed from 1 January 2025.
        add_dossier(
            session,
            add_case(session, "LCI-D1", "closed-2014", closed_on=date(2014, 6, 30)),
            uploaded,
            retention="10 năm",
            **accepted,
        )
        # Closed in 2016, 10 years: reviewed from 2027, not yet.
        add_dossier(
            session,
            add_case(session, "LCI-D1", "closed-2016", closed_on=date(2016, 1, 2)),
            uploaded,
            retention="10 năm",
            **accepted,
        )
        # No closing date: the cover's end date (2010) counts; 5 years, due since 2016.
        add_dossier(
            session,
            add_case(session, "LCI-D2", "cover-2010"),
            uploaded,
            retention="05 năm",
            cover={"end_date": "2010-12-31"},
            **accepted,
        )
        # Neither: the acceptance year (2016) counts; 5 years, reviewed from 2022.
        add_dossier(session, add_case(session, "LCI-D2", "accepted-2016"), uploaded, retention="05 năm", **accepted)
        add_dossier(
            session,
            add_case(session, "LCI-D2", "forever", closed_on=date(1990, 1, 1)),
            uploaded,
            retention="Vĩnh viễn",
            **accepted,
        )
        add_dossier(session, add_case(session, "LCI-D2", "unreadable"), uploaded, retention="Lâu dài", **accepted)
        # Not in the archive: its retention is not decided yet.
        add_dossier(
            session, add_case(session, "LCI-D1", "draft", closed_on=date(2000, 1, 1)), uploaded, retention="05 năm"
        )
        add_dossier(
            session,
            add_case(session, "QNI-D1", "other-province", closed_on=date(2000, 1, 1)),
            uploaded,
            retention="05 năm",
            **accepted,
        )
        session.commit()
        yield session


def test_review_list_holds_dossiers_past_retention_and_unknown_ones(archived: Session) -> None:
    items = {item.case_number: item for item in review_list(archived, "VN/LCI", TODAY)}
    assert sorted(items) == ["accepted-2016", "closed-2014", "cover-2010", "unreadable"]
    assert (items["closed-2014"].review_from, items["closed-2014"].counted_from) == (date(2025, 1, 1), "case_closed")
    assert (items["cover-2010"].review_from, items["cover-2010"].counted_from) == (date(2016, 1, 1), "cover_end_date")
    assert (items["accepted-2016"].review_from, items["accepted-2016"].counted_from) == (date(2022, 1, 1), "accepted")
    assert (items["unreadable"].status, items["unreadable"].review_from) == ("unknown", None)
    assert [item.case_number for item in review_list(archived, "VN/LCI", TODAY)][-1] == "unreadable"


def test_review_starts_on_the_first_day_after_the_period(archived: Session) -> None:
    day_before = {item.case_number for item in review_list(archived, "VN/LCI/LCI-D1", date(2024, 12, 31))}
    assert "closed-2014" not in day_before
    on_the_day = {item.case_number for item in review_list(archived, "VN/LCI/LCI-D1", date(2025, 1, 1))}
    assert on_the_day == {"closed-2014"}


def test_cli_lists_in_json_and_deletes_nothing(archived: Session) -> None:
    result = CliRunner().invoke(main, ["retention", "due", "--unit", "QNI", "--json", "--today", "2026-11-23"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [item["case_number"] for item in data] == ["other-province"]
    assert data[0]["review_from"] == "2006-01-01"
    text = CliRunner().invoke(main, ["retention", "due", "--unit", "LCI"])
    assert "closed-2014" in text.stdout and "other-province" not in text.stdout
    assert "Nothing is deleted automatically" in text.stderr
    assert len(review_list(archived, "VN", TODAY)) == 5  # listing changed nothing
