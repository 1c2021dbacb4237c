"""The audit chain: its documented hash format, and every kind of tampering caught by `hoso audit verify`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from archive import audit
from archive.cli import main
from archive.models import AuditEntry, User
from archive.runtime import Runtime
from tests.archive.handover_helpers import handover_database_fixture, runtime_fixture  # noqa: F401 - fixtures


def _append(runtime: Runtime, count: int, unit_path: str = "VN/LCI/LCI-D1") -> list[AuditEntry]:
    with runtime.sessions() as session:
        actor = session.scalar(select(User).where(User.username == "luutru"))
        entries = [
            audit.append(
                session, actor, "test.step", "dossier", f"d{n}", unit_path, {"n": n, "note": "Trả lại"}, "10.0.0.1"
            )
            for n in range(count)
        ]
        session.commit()
        return entries


def _verify(runtime: Runtime, expect_head: str | None = None) -> audit.ChainReport:
    with runtime.sessions() as session:
        return audit.verify_chain(session, expect_head)


def _sql(runtime: Runtime, statement: str, **params: object) -> None:
    with runtime.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_entries_chain_from_64_zeros_with_the_documented_canonical_json(runtime: Runtime) -> None:
    first, second, third = _append(runtime, 3)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.entry_hash and third.prev_hash == second.entry_hash
    canonical = json.dumps(
        {
            "prev_hash": first.prev_hash,
            "at": first.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": {"id": first.actor_id, "name": "luutru"},
            "action": "test.step",
            "target": {"type": "dossier", "id": "d0"},
            "unit_path": "VN/LCI/LCI-D1",
            "detail": {"n": 0, "note": "Trả lại"},
            "remote_addr": "10.0.0.1",
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert first.entry_hash == hashlib.sha256(canonical.encode()).hexdigest()
    report = _verify(runtime)
    assert report.intact and report.entries == 3 and report.head == third.entry_hash


def test_an_edited_detail_is_caught_at_that_entry(runtime: Runtime) -> None:
    entries = _append(runtime, 4)
    _sql(runtime, "UPDATE audit_entries SET detail = :detail WHERE id = :id", detail='{"n": 99}', id=entries[1].id)
    report = _verify(runtime)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.entry_id, report.problem.position) == ("edited", entries[1].id, 2)


def test_an_edit_with_its_hash_recomputed_is_caught_at_the_next_entry(runtime: Runtime) -> None:
    entries = _append(runtime, 3)
    with runtime.sessions() as session:
        forged = session.get(AuditEntry, entries[0].id)
        forged.actor = "someone_else"
        forged.entry_hash = audit.compute_hash(forged)
        session.commit()
    report = _verify(runtime)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.entry_id) == ("broken_link", entries[1].id)


def test_a_deleted_entry_is_caught(runtime: Runtime) -> None:
    entries = _append(runtime, 4)
    _sql(runtime, "DELETE FROM audit_entries WHERE id = :id", id=entries[1].id)
    report = _verify(runtime)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.entry_id) == ("broken_link", entries[2].id)


def test_two_entries_swapped_are_caught(runtime: Runtime) -> None:
    entries = _append(runtime, 4)
    table = AuditEntry.__table__  # read and written through the table: the JSON column round-trips on every engine
    with runtime.engine.begin() as connection:
        rows = {
            row.id: {name: value for name, value in row._mapping.items() if name != "id"}
            for row in connection.execute(table.select().where(table.c.id.in_([entries[1].id, entries[2].id])))
        }
        # entry_hash is unique: park one row's hash while the two trade places.
        connection.execute(text("UPDATE audit_entries SET entry_hash = 'parked' WHERE id = :id"), {"id": entries[1].id})
        for target, source in ((entries[2].id, entries[1].id), (entries[1].id, entries[2].id)):
            connection.execute(table.update().where(table.c.id == target).values(rows[source]))
    report = _verify(runtime)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.entry_id) == ("broken_link", entries[1].id)


def test_entries_cut_from_the_end_are_caught_against_a_recorded_head(runtime: Runtime) -> None:
    entries = _append(runtime, 3)
    recorded_head = _verify(runtime).head
    _sql(runtime, "DELETE FROM audit_entries WHERE id = :id", id=entries[2].id)
    assert _verify(runtime).intact, "a shorter chain is self-consistent: only a recorded head reveals the cut"
    report = _verify(runtime, expect_head=recorded_head)
    assert report.problem is not None and report.problem.kind == "head_missing"
    assert _verify(runtime, expect_head=entries[1].entry_hash).intact


def test_concurrent_writers_never_fork_the_chain(runtime: Runtime) -> None:
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for n in range(15):
                with runtime.sessions() as session:
                    audit.append(session, None, "test.concurrent", "thread", name, "VN", {"n": n})
                    session.commit()
        except BaseException as failure:  # noqa: BLE001 - reported by the assertion below
            failures.append(failure)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = _verify(runtime)
    assert report.intact and report.entries == 45
    with runtime.sessions() as session:
        prev_hashes = session.scalars(select(AuditEntry.prev_hash)).all()
    assert len(set(prev_hashes)) == 45, "no two entries chain onto the same predecessor"


def test_cli_verify_exits_1_on_tampering_and_export_carries_the_hashes(runtime: Runtime) -> None:
    entries = _append(runtime, 2) + _append(runtime, 1, unit_path="VN/QNI/QNI-D1")
    cli = CliRunner()
    result = cli.invoke(main, ["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) | {"problem": None} == {
        "intact": True,
        "entries": 3,
        "head": entries[-1].entry_hash,
        "problem": None,
    }

    exported = cli.invoke(main, ["audit", "export", "--csv", "--unit", "LCI"])
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [row["target_id"] for row in rows] == ["d0", "d1"]
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"] and json.loads(rows[0]["detail"])["note"] == "Trả lại"
    as_json = json.loads(cli.invoke(main, ["audit", "export", "--json"]).output)
    assert as_json["head"] == entries[-1].entry_hash and len(as_json["entries"]) == 3

    _sql(runtime, "UPDATE audit_entries SET remote_addr = '1.2.3.4' WHERE id = :id", id=entries[0].id)
    broken = cli.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1 and "edited" in broken.output


def test_the_chain_lock_serialises_concurrent_writers(runtime: Runtime) -> None:
    """Three threads appending at once still make one unbroken chain: BEGIN IMMEDIATE on SQLite, a table lock on
    PostgreSQL (the suite's PostgreSQL pass, tests/databases.py)."""
    with runtime.sessions() as session:
        session.execute(text("DELETE FROM audit_entries"))
        session.commit()

    def writer(name: str) -> None:
        for n in range(10):
            with runtime.sessions() as session:
                audit.append(session, None, "test.concurrent", "thread", name, "VN", {"n": n})
                session.commit()

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.sessions() as session:
        report = audit.verify_chain(session)
    assert report.intact and report.entries == 30


def _swap(runtime: Runtime, first: int, second: int) -> None:
    """Two entries trade places (ids kept): the log reordered."""
    table = AuditEntry.__table__
    with runtime.engine.begin() as connection:
        rows = {
            row.id: {name: value for name, value in row._mapping.items() if name != "id"}
            for row in connection.execute(table.select().where(table.c.id.in_([first, second])))
        }
        connection.execute(text("UPDATE audit_entries SET entry_hash = 'parked' WHERE id = :id"), {"id": first})
        for target, source in ((second, first), (first, second)):
            connection.execute(table.update().where(table.c.id == target).values(rows[source]))


@pytest.mark.parametrize("tampering", ["edited", "reordered", "deleted"])
def test_cli_verify_exits_1_and_names_the_entry_for_each_kind_of_tampering(runtime: Runtime, tampering: str) -> None:
    entries = _append(runtime, 4)
    if tampering == "edited":
        _sql(runtime, "UPDATE audit_entries SET action = 'x.changed' WHERE id = :id", id=entries[2].id)
        expected = ("edited", entries[2].id)
    elif tampering == "reordered":
        _swap(runtime, entries[1].id, entries[2].id)
        expected = ("broken_link", entries[1].id)
    else:
        _sql(runtime, "DELETE FROM audit_entries WHERE id = :id", id=entries[1].id)
        expected = ("broken_link", entries[2].id)
    result = CliRunner().invoke(main, ["audit", "verify", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["intact"] is False
    assert (report["problem"]["kind"], report["problem"]["entry_id"]) == expected
    text_output = CliRunner().invoke(main, ["audit", "verify"])
    assert text_output.exit_code == 1 and f"entry {expected[1]} " in text_output.stdout
