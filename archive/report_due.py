"""The reports coming due and what is still missing for them: the dashboard's reminder and `hoso report due`.

For each kind (month, quarter, half year, year) the next period whose due date is today or later, and, for
the dossiers of that period so far: teams that have scanned nothing, dossiers not yet handed over, and
dossiers not yet verified. These are the gaps a team can still close before the report goes out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from archive.models import Unit
from archive.report_periods import KINDS, Period, due_day_for, next_due
from archive.report_queries import scan_figures
from archive.reports import subtree_units


@dataclass(frozen=True)
class DueReport:
    kind: str
    period: Period
    due_date: date
    days_left: int
    dossiers: int
    teams_without_scans: list[tuple[str, str]]  # code, name
    not_handed_over: int
    unverified: int

    @property
    def complete(self) -> bool:
        return not (self.teams_without_scans or self.not_handed_over or self.unverified)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "period": self.period.label,
            "period_vi": self.period.label_vi,
            "due_date": self.due_date.isoformat(),
            "days_left": self.days_left,
            "dossiers": self.dossiers,
            "missing": {
                "teams_without_scans": [{"code": code, "name": name} for code, name in self.teams_without_scans],
                "not_handed_over": self.not_handed_over,
                "unverified": self.unverified,
            },
            "complete": self.complete,
        }


def upcoming(session: Session, unit: Unit, today: date, default_due_day: int) -> list[DueReport]:
    """The next due report of each kind for ``unit``'s subtree, soonest first."""
    due_day = due_day_for(unit, default_due_day)
    units = subtree_units(session, unit)
    parents = {member.parent_id for member in units}
    teams = [member for member in units if member.id not in parents]  # units with none below them
    due = []
    for kind in KINDS:
        period = next_due(kind, today, due_day)
        own = scan_figures(session, unit.path, period)
        total: Counter[str] = Counter()
        for counts in own.values():
            total.update(counts)
        due.append(
            DueReport(
                kind=kind,
                period=period,
                due_date=period.due_date(due_day),
                days_left=(period.due_date(due_day) - today).days,
                dossiers=total["dossiers"],
                teams_without_scans=[(team.code, team.name) for team in teams if not own.get(team.id)],
                not_handed_over=total["not_handed_over"],
                unverified=total["verify_pending"],
            )
        )
    return sorted(due, key=lambda item: (item.due_date, len(item.period.months())))
