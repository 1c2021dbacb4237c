"""Database engine and sessions: SQLite in WAL mode by default, any SQLAlchemy URL by setting.

Migrations are Alembic's, run programmatically so `hoso init` needs no alembic.ini in the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """WAL lets readers run beside the one writer; busy_timeout makes concurrent workers wait instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds ASCII only, so `ilike` (lower(x) LIKE lower(y)) missed "ĐỘI" for "đội";
    # PostgreSQL's ILIKE folds every letter. Python's str.lower makes both engines answer alike.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _utc_session(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL hands back times in the session's time zone (the server's setting, or PGTZ): UTC here, as
    SQLite's naive values are, so a date taken from a stored time and a naive bound mean the same on both."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction that is later rolled back would be undone


def make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **options)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _utc_session)
    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest migration; safe to run on every start."""
    command.upgrade(alembic_config(url), "head")
