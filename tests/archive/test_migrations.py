"""The Alembic migrations build exactly the schema the models describe, on the engine under test (SQLite, or
PostgreSQL in the suite's PostgreSQL pass: tests/databases.py), and every one of them can be undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from archive.db import alembic_config, make_engine, upgrade
from archive.models import Base

TABLES = {"units", "users", "cases", "dossiers", "pages", "audit_entries", "handover_batches", "api_tokens"}


def _differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return differences


def test_migrations_match_models_and_rerun_safely(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)  # a second start must be a no-op
    assert _differences(empty_database_url) == []
    engine = make_engine(empty_database_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_every_migration_downgrades_then_upgrades_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = make_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_database_url)
    assert _differences(empty_database_url) == []
