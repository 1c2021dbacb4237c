"""What hoso expects of its database engine, whichever it is (SQLite, or PostgreSQL in the suite's second pass)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from archive.models import Case, Unit
from archive.runtime import Runtime


def test_times_come_back_in_utc_whatever_the_server_time_zone(runtime: Runtime) -> None:
    """A server set to Vietnam time (or PGTZ) must not move a date: 20:00 UTC on 31 December is still 2024.

    SQLite keeps naive UTC; PostgreSQL would hand back (and read date bounds) in the session's zone, so hoso
    sets every session to UTC (archive/db.py)."""
    engine = runtime.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text(f"ALTER DATABASE \"{engine.url.database}\" SET TimeZone = 'Asia/Ho_Chi_Minh'"))
            connection.commit()
        engine.dispose()  # new sessions start with the database's zone, as on a server configured so
    late_evening = datetime(2024, 12, 31, 20, 0, tzinfo=UTC)
    with runtime.sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.code == "LCI-D1")).one()
        session.add(Case(unit=unit, case_number="TZ/2024", created_at=late_evening, updated_at=late_evening))
        session.commit()
    with runtime.sessions() as session:
        stored = session.scalar(select(Case.created_at).where(Case.case_number == "TZ/2024"))
        in_2024 = session.scalar(
            select(func.count()).where(Case.case_number == "TZ/2024", Case.created_at < date(2025, 1, 1))
        )
    assert stored is not None
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == late_evening
    assert stored.utcoffset() in (None, timedelta(0)) and stored.date() == date(2024, 12, 31)
    assert in_2024 == 1
