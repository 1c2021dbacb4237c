"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from archive.db import make_engine, upgrade
from archive.models import Base


def test_migrations_match_models_and_rerun_safely(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hoso.db'}"
    upgrade(url)
    upgrade(url)  # a second start must be a no-op
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    assert differences == []
    assert journal_mode == "wal"
    assert {"units", "users", "cases", "dossiers", "pages"} <= set(inspect(engine).get_table_names())
    engine.dispose()
