"""Reporting periods (month, quarter, half year, year) and the day each report is due.

A period is a run of calendar months in Viet Nam time: an upload at 23:30 UTC on 31 March falls in April,
because it was already 06:30 on 1 April in Viet Nam where the team scanned it. Circular 55/2020/TT-BCT
makes periodic reports due on the 17th; some departments use the 18th, so the due day comes from the unit
tree (the nearest unit with ``report_due_day`` set) and else from ``HOSO_REPORT_DUE_DAY``. One rule for
every kind: a report is due on that day of the period's last month (docs/reports.md says why).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from archive.models import Unit
from archive.refusals import Refusal
from archive.verify import VIETNAM_TIME

KINDS = ("month", "quarter", "half", "year")
MONTHS_IN = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_PATTERNS = {
    "month": re.compile(r"(\d{4})-(\d{1,2})"),
    "quarter": re.compile(r"(\d{4})-Q([1-4])", re.IGNORECASE),
    "half": re.compile(r"(\d{4})-H([12])", re.IGNORECASE),
    "year": re.compile(r"(\d{4})"),
}
# kind -> (label, Vietnamese label), as format strings of year, number and (halves) "đầu"/"cuối".
_LABELS = {
    "month": ("{year}-{number:02d}", "Tháng {number:02d}/{year}"),
    "quarter": ("{year}-Q{number}", "Quý {number}/{year}"),
    "half": ("{year}-H{number}", "6 tháng {half} năm {year}"),
    "year": ("{year}", "Năm {year}"),
}
_EXAMPLES = {"month": "2024-03", "quarter": "2024-Q1", "half": "2024-H1", "year": "2024"}


class PeriodError(Refusal):
    code = "bad_period"
    http_status = 400
    detail = "The period is not one of 2024-03, 2024-Q1, 2024-H1 or 2024."
    message_vi = "Kỳ báo cáo không hợp lệ."
    remedy_vi = "Nhập kỳ theo mẫu 2024-03 (tháng), 2024-Q1 (quý), 2024-H1 (6 tháng) hoặc 2024 (năm)."


@dataclass(frozen=True, order=True)
class Period:
    """``number`` is the month (1-12), quarter (1-4) or half (1-2) within ``year``; 1 for a whole year."""

    kind: str
    year: int
    number: int

    @property
    def first_month(self) -> int:
        return (self.number - 1) * MONTHS_IN[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.first_month + MONTHS_IN[self.kind] - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.last_month, calendar.monthrange(self.year, self.last_month)[1])

    @property
    def label(self) -> str:
        """The form the CLI and the URLs take: 2024-03, 2024-Q1, 2024-H1, 2024."""
        return _LABELS[self.kind][0].format(year=self.year, number=self.number)

    @property
    def label_vi(self) -> str:
        """ "Tháng 03/2024", "Quý 1/2024", "6 tháng đầu năm 2024", "Năm 2024"."""
        half = "đầu" if self.number == 1 else "cuối"
        return _LABELS[self.kind][1].format(year=self.year, number=self.number, half=half)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the period's Viet Nam calendar days, for comparing stored upload times."""
        return utc_start_of(self.first_day), utc_start_of(date.fromordinal(self.last_day.toordinal() + 1))

    def months(self) -> list[Period]:
        return [Period("month", self.year, month) for month in range(self.first_month, self.last_month + 1)]

    def due_date(self, due_day: int) -> date:
        """Day ``due_day`` of the period's last month (the month's last day when it is shorter)."""
        last = calendar.monthrange(self.year, self.last_month)[1]
        return date(self.year, self.last_month, min(due_day, last))

    def next(self) -> Period:
        count = 12 // MONTHS_IN[self.kind]
        return (
            Period(self.kind, self.year + 1, 1)
            if self.number == count
            else Period(self.kind, self.year, self.number + 1)
        )


def utc_start_of(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Viet Nam."""
    return datetime.combine(day, time.min, VIETNAM_TIME).astimezone(UTC)


def vietnam_date(moment: datetime) -> date:
    """The calendar day in Viet Nam of a stored time (SQLite returns naive datetimes, always UTC in hoso)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TIME).date()


def period_containing(kind: str, day: date) -> Period:
    return Period(kind, day.year, (day.month - 1) // MONTHS_IN[kind] + 1)


def parse_period(text: str, kind: str | None = None) -> Period:
    """Read "2024-03", "2024-Q1", "2024-H1" or "2024"; with ``kind`` the text must be a period of that kind."""
    cleaned = (text or "").strip()
    kinds = [kind] if kind else list(KINDS)
    if kind is not None and kind not in KINDS:
        raise PeriodError(f"Unknown report kind {kind!r}; use one of {', '.join(KINDS)}.")
    for candidate in kinds:
        match = _PATTERNS[candidate].fullmatch(cleaned)
        if match is None:
            continue
        year = int(match[1])
        number = int(match[2]) if candidate != "year" else 1
        if not 1 <= number <= 12 or year < 1900 or year > 2999:
            raise PeriodError(f"{cleaned!r} is not a real {candidate}: months run 01-12, years 1900-2999.")
        return Period(candidate, year, number)
    if kind is not None:
        raise PeriodError(f"A {kind} report needs a period like {_EXAMPLES[kind]}, not {cleaned!r}.")
    raise PeriodError(f"{cleaned!r} is not a period; use 2024-03, 2024-Q1, 2024-H1 or 2024.")


def validated_due_day(value: int, source: str) -> int:
    if not 1 <= value <= 31:
        raise ValueError(f"{source} must be a day of the month (1-31), not {value}")
    return value


def due_day_for(unit: Unit, default_day: int) -> int:
    """The nearest ``report_due_day`` on the way up the tree from ``unit``, else ``default_day``."""
    current: Unit | None = unit
    while current is not None:
        if current.report_due_day is not None:
            return validated_due_day(current.report_due_day, f"report_due_day of unit {current.code}")
        current = current.parent
    return validated_due_day(default_day, "HOSO_REPORT_DUE_DAY")


def next_due(kind: str, today: date, due_day: int) -> Period:
    """The first period of ``kind`` whose due date is today or later."""
    period = period_containing(kind, today)
    while period.due_date(due_day) < today:
        period = period.next()
    return period


def trend_months(period: Period, count: int = 12) -> list[Period]:
    """The ``count`` months ending with the period's last month, oldest first (the trend chart's x axis)."""
    index = period.year * 12 + period.last_month - 1
    return [Period("month", i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]
