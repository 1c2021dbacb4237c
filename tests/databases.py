"""The records database a test runs on: SQLite by default, PostgreSQL when HOSO_TEST_DATABASE_URL names a server.

Every fixture that needs hoso's database asks this module for it, so the whole suite runs unchanged on either
engine (``make test`` runs it on both). A test gets a private copy of a template: on SQLite a copy of one file,
on PostgreSQL ``CREATE DATABASE … TEMPLATE`` (a block copy: 0.7-1.8 s measured here under a load average of 10,
where migrating and hashing the demo passwords again took 8 s), dropped ``WITH (FORCE)`` after the test so the
workers a test started cannot keep it alive. PostgreSQL names carry the pytest process id; the databases of a run that
died are dropped when the next run starts.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, pool, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive.db import make_engine, make_sessions, upgrade

SERVER_SETTING = "HOSO_TEST_DATABASE_URL"
PREFIX = "hoso_test_"
_NAME_PATTERN = re.compile(rf"^{PREFIX}(\d+)_")
_serial = itertools.count(1)
# Read once at import: fixtures clear every HOSO_* variable from the environment of the test they set up.
_SERVER_URL = os.environ.get(SERVER_SETTING, "")


def server_url() -> str:
    """The PostgreSQL server the suite runs on (any database of it, to connect to), or "" for SQLite."""
    return _SERVER_URL


def _database_url(database: str) -> str:
    return make_url(server_url()).set(database=database).render_as_string(hide_password=False)


def _admin() -> Engine:
    """A connection outside transactions: CREATE and DROP DATABASE cannot run inside one."""
    return create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)


def _new_name(label: str) -> str:
    return f"{PREFIX}{os.getpid()}_{label}{next(_serial)}"


def _create(name: str, template: str = "template0") -> str:
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return _database_url(name)


def _drop(name: str) -> None:
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_leftovers() -> list[str]:
    """Drop the test databases of pytest processes that are gone (killed before their teardown ran)."""
    admin = _admin()
    with admin.connect() as connection:
        names = connection.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE 'hoso_test_%'"))
        stale = [name for name in names if (found := _NAME_PATTERN.match(name)) and not _alive(int(found.group(1)))]
    admin.dispose()
    for name in stale:
        _drop(name)
    return stale


@dataclass(frozen=True)
class Template:
    """A migrated database that tests get copies of: a SQLite file, or a PostgreSQL database nobody connects to."""

    url: str

    @property
    def sqlite_path(self) -> Path | None:
        database = make_url(self.url).database
        return Path(database) if self.url.startswith("sqlite") and database else None

    def fill(self, change: Callable[[Session], None]) -> None:
        """Run ``change`` on the template (then commit), before any copy of it is made."""
        engine = make_engine(self.url)
        with make_sessions(engine)() as session:
            change(session)
            session.commit()
        engine.dispose()  # SQLite: checkpoints the WAL into the one file; PostgreSQL: no connection left

    def derive(self, directory: Path) -> Template:
        """A new template starting as a copy of this one, to add rows to."""
        if self.sqlite_path is not None:
            path = directory / "hoso.db"
            shutil.copyfile(self.sqlite_path, path)
            return Template(f"sqlite:///{path}")
        return Template(_create(_new_name("tmpl"), template=str(make_url(self.url).database)))

    def drop(self) -> None:
        if self.sqlite_path is None:
            _drop(str(make_url(self.url).database))

    @contextmanager
    def copy(self, home: Path, patch: pytest.MonkeyPatch) -> Iterator[str]:
        """A private copy for one hoso instance whose HOSO_HOME is ``home``; yields its URL.

        SQLite: the file hoso uses by default, ``home/hoso.db``. PostgreSQL: a new database, named in
        HOSO_DATABASE_URL (set through ``patch``, so subprocesses inherit it), dropped on leaving.
        """
        if self.sqlite_path is not None:
            home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.sqlite_path, home / "hoso.db")
            yield f"sqlite:///{home / 'hoso.db'}"
            return
        name = _new_name("db")
        url = _create(name, template=str(make_url(self.url).database))
        patch.setenv("HOSO_DATABASE_URL", url)
        try:
            yield url
        finally:
            _drop(name)


def make_template(directory: Path, fill: Callable[[Session], None]) -> Template:
    """A migrated template on the engine under test, with ``fill`` run on it."""
    if server_url():
        drop_leftovers()
        template = Template(_create(_new_name("tmpl")))
    else:
        template = Template(f"sqlite:///{directory / 'hoso.db'}")
    upgrade(template.url)
    template.fill(fill)
    return template


@contextmanager
def empty_database(directory: Path) -> Iterator[str]:
    """A database with no schema on the engine under test (for `hoso init`, migrations); yields its URL."""
    if not server_url():
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / 'hoso.db'}"
        return
    name = _new_name("empty")
    url = _create(name)
    try:
        yield url
    finally:
        _drop(name)


def main() -> int:
    """`python -m tests.databases`: `make test` runs it before the PostgreSQL pass, to stop at once with one clear
    message (not an error per test) when the server in HOSO_TEST_DATABASE_URL cannot be reached."""
    if not server_url():
        print(f"{SERVER_SETTING} is not set: no PostgreSQL server to test on", file=sys.stderr)
        return 1
    try:
        admin = _admin()
        with admin.connect() as connection:
            version = connection.scalar(text("SHOW server_version"))
        admin.dispose()
    except OperationalError as unreachable:
        print(f"PostgreSQL at {make_url(server_url())!r} cannot be reached: {unreachable.orig}", file=sys.stderr)
        return 1
    print(f"PostgreSQL {version} at {make_url(server_url())!r}: running the database tests on it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
