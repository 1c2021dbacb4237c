"""Time to build the national yearly report (`archive.reports.build_report`) over N synthetic dossiers.

Writes the demo unit tree, N cases (one dossier each) spread over the four teams and over one year, each
dossier with a stored verification report of 30 pages (the report's page list is most of its size, as in
real ones), in a fresh SQLite home under a temp directory. Then times, best of `--repeat`:

- hoso: `build_report(session, "year", 2024, VN)`, with the 12-month trend, as `GET /reports` does;
- reference: one plain `SELECT id, page_count` over the same dossiers joined to their cases and units,
  the floor of reading them at all.

    .venv/bin/python bench/report_build.py --dossiers 20000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

PAGES = [
    {"page": n, "sheet_number": str(n), "sheet_confidence": 0.9, "rotation": 0, "role": "document",
     "doc_type": "bien_ban_kiem_tra", "side": "front"}
    for n in range(1, 31)
]  # fmt: skip
FINDINGS = [
    [{"code": "rotated", "severity": "info", "pages": [2], "detail": {}, "message": "m", "message_vi": "m"}],
    [{"code": "low_confidence", "severity": "warning", "pages": [3], "detail": {}, "message": "m", "message_vi": "m"}],
    [{"code": "gap", "severity": "error", "pages": [4], "detail": {}, "message": "m", "message_vi": "m"}],
]


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["HOSO_HOME"] = tempfile.mkdtemp(prefix="hoso-report-bench-")

    from archive.accounts import DEMO_UNITS, add_unit
    from archive.config import Settings
    from archive.db import upgrade
    from archive.models import Case, Dossier, Unit
    from archive.report_periods import Period
    from archive.reports import build_report
    from archive.runtime import Runtime

    settings = Settings.from_env()
    settings.ensure_dirs()
    upgrade(settings.database_url)
    runtime = Runtime(settings)
    rng = random.Random(1)
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        for code, name, parent in DEMO_UNITS:
            add_unit(session, code, name, parent)
        session.commit()
        teams = list(session.scalars(select(Unit.id).where(Unit.level == "team")))
        session.execute(
            insert(Case),
            [
                {"unit_id": rng.choice(teams), "case_number": f"B{n}", "fine_amount": rng.randrange(10**7),
                 "decided_on": date(2024, 1, 1) + timedelta(days=rng.randrange(366)), "created_at": now,
                 "updated_at": now}
                for n in range(args.dossiers)
            ],
        )  # fmt: skip
        session.execute(
            insert(Dossier),
            [
                {"id": uuid.uuid4().hex[:16], "case_id": case_id, "original_sha256": uuid.uuid4().hex * 2,
                 "size_bytes": 1, "status": "processed", "page_count": 30, "handover_state": "draft", "version": 1,
                 "created_at": datetime(2023, 12, 31, 17, tzinfo=UTC) + timedelta(minutes=rng.randrange(527040)),
                 "updated_at": now,
                 "verify_report": {"status": "processed", "page_count": 30, "pages": PAGES, "documents": [],
                                   "cover": {"present": True, "fields": {}}, "findings": rng.choice(FINDINGS),
                                   "passed": True}}
                for case_id in session.scalars(select(Case.id))
            ],
        )  # fmt: skip
        session.commit()
        national = session.scalar(select(Unit).where(Unit.code == "VN"))
        assert national is not None
        year = Period("year", 2024, 1)
        report = build_report(session, "year", year, national, 17)
        assert report.total["dossiers"] == args.dossiers, report.total
        hoso = best_of(args.repeat, lambda: build_report(session, "year", year, national, 17))
        floor = best_of(
            args.repeat,
            lambda: session.execute(select(Dossier.id, Dossier.page_count).join(Dossier.case).join(Case.unit)).all(),
        )
    runtime.engine.dispose()
    print(f"dossiers: {args.dossiers}")
    print(f"hoso build_report (year, national, with trend): {hoso:.3f} s")
    print(f"reference plain SELECT of the same dossiers:     {floor:.3f} s")
    print(f"ratio hoso / reference: {hoso / floor:.1f}x")


if __name__ == "__main__":
    main()
