"""Backup: `hoso export` writes a BagIt package that `hoso import` restores into an empty instance, every row and
object equal, the audit chain intact, search answering the same; a damaged package is refused before any write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import archive.runtime
from archive import fixity
from archive import handover as workflow
from archive.backup_export import tables
from archive.cli import main
from archive.config import SETTINGS, Settings
from archive.db import upgrade
from archive.models import AuditEntry, Dossier, User
from archive.runtime import Runtime
from ingest.archive_pdf import archive_pdf_key
from tests.archive.handover_helpers import handover_database_fixture, runtime_fixture  # noqa: F401 - fixtures
from tests.archive.stored_dossiers import PDF_CASE, ingest_samples, object_path
from tests.conftest import ground_truth
from tests.databases import empty_database
from tests.s3_server import S3Server


def _act(runtime: Runtime, username: str, step: str, *args: object) -> None:
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        getattr(workflow, step)(session, workflow.Actor(user, "192.0.2.7"), *args)
        session.commit()


@pytest.fixture
def source(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runtime:
    """An instance with two processed dossiers, one handed over to the province's archive (a batch, audit entries)."""
    stored = ingest_samples(runtime, monkeypatch, tmp_path)
    pdf = stored["pdf"].dossier_id
    _act(runtime, "canbo_qni", "submit", pdf, "Bản trích ba trang của hồ sơ để kiểm tra sao lưu")
    _act(runtime, "doitruong_qni", "approve", [pdf])
    _act(runtime, "luutru_qni", "accept", [pdf])
    assert fixity.check_objects(runtime).intact  # a fixity run and a recorded pages PDF checksum to carry over
    return runtime


@contextmanager
def _empty_instance(home: Path, monkeypatch: pytest.MonkeyPatch, **settings: str) -> Iterator[Runtime]:
    """A second, empty instance (migrated, no rows), with ``settings`` as HOSO_* variables; the CLI's current
    runtime from here on."""
    home.mkdir()
    with empty_database(home) as url:
        for name in SETTINGS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOSO_HOME", str(home))
        monkeypatch.setenv("HOSO_DATABASE_URL", url)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        instance_settings = Settings.from_env()
        instance_settings.ensure_dirs()
        upgrade(url)
        instance = Runtime(instance_settings)
        monkeypatch.setattr(archive.runtime, "_current", instance)
        yield instance
        instance.engine.dispose()


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Runtime) -> Iterator[Runtime]:
    with _empty_instance(tmp_path / "restored", monkeypatch) as instance:
        yield instance


def _export(source: Runtime, package: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(archive.runtime, "_current", source)
        result = CliRunner().invoke(main, ["export", str(package), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _rows(runtime: Runtime) -> dict[str, list[dict[str, Any]]]:
    with runtime.sessions() as session:
        return {
            table.name: [dict(row) for row in session.execute(select(table).order_by(*table.primary_key)).mappings()]
            for table in tables()
        }


def _objects(runtime: Runtime) -> dict[str, bytes]:
    root = runtime.settings.storage_dir
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _hits(runtime: Runtime, query: str) -> list[tuple[str, int]]:
    return sorted((hit.dossier_id, hit.page) for hit in runtime.index.search(query, scope=None, limit=100).hits)


def test_export_then_import_restores_every_row_object_audit_entry_and_search_hit(
    source: Runtime, target: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "backup"
    exported = _export(source, package, monkeypatch)
    assert exported["problems"] == [] and exported["objects"] == 5
    bag = bagit.Bag(str(package))
    bag.validate()  # a valid bag for any BagIt tool, not only for hoso
    assert {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"} <= {
        path.name for path in package.iterdir()
    }
    assert bag.info["Hoso-Schema-Revision"] == exported["schema_revision"] and exported["fingerprint"]
    users = [json.loads(line) for line in (package / "data/records/users.jsonl").read_text().splitlines()]
    assert all(user["password_hash"].startswith("$argon2") for user in users), "accounts are restored as they were"

    result = CliRunner().invoke(main, ["import", str(package), "--json"])
    assert result.exit_code == 0, result.output
    imported = json.loads(result.stdout)
    assert imported["audit_intact"] and imported["objects"] == 5

    before, after = _rows(source), _rows(target)
    assert after.pop("audit_entries")[:-1] == before.pop("audit_entries")
    assert after == before
    assert sum(len(rows) for rows in before.values()) > 20 and before["handover_batches"] and before["pages"]
    assert _objects(target) == _objects(source)

    verified = CliRunner().invoke(main, ["audit", "verify", "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["intact"], verified.output
    with target.sessions() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.action == "backup.import"

    words = [word for word in ground_truth("dev-003")["pages"][1]["text"].split() if len(word) > 4][:3]
    for query in words:
        assert _hits(target, query) == _hits(source, query), query
    assert any(_hits(source, query) for query in words), "the queries find something at all"
    assert CliRunner().invoke(main, ["fixity"]).exit_code == 0, "the restored objects are as their records say"


def test_a_package_with_one_byte_changed_is_refused_before_anything_is_written(
    source: Runtime, target: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "backup"
    _export(source, package, monkeypatch)
    original = next(path for path in (package / "data/objects/originals").rglob("*") if path.is_file())
    content = bytearray(original.read_bytes())
    content[100] ^= 0xFF
    original.write_bytes(bytes(content))

    result = CliRunner().invoke(main, ["import", str(package)])
    assert result.exit_code == 2
    assert "do not match their checksums" in result.stderr and original.name in result.stderr
    assert all(not rows for rows in _rows(target).values()), "no row was written"
    assert _objects(target) == {}, "no object was written"


def test_import_refuses_an_instance_that_is_not_empty(
    source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "backup"
    _export(source, package, monkeypatch)
    before = _rows(source)
    monkeypatch.setattr(archive.runtime, "_current", source)
    result = CliRunner().invoke(main, ["import", str(package), "--json"])
    assert result.exit_code == 2 and "not empty" in json.loads(result.stdout)["detail"]
    assert _rows(source) == before


def test_export_refuses_a_directory_that_is_not_empty(source: Runtime, tmp_path: Path) -> None:
    package = tmp_path / "full"
    package.mkdir()
    (package / "notes.txt").write_text("keep")
    result = CliRunner().invoke(main, ["export", str(package)])
    assert result.exit_code == 2 and "not an empty directory" in result.stderr
    assert [path.name for path in package.iterdir()] == ["notes.txt"]


def test_a_package_restores_into_an_s3_store_where_fixity_finds_a_removed_object(
    source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, s3_bucket: str
) -> None:
    """The store protocol only: objects go to S3 on import, and the fixity check reads them back from there."""
    package = tmp_path / "backup"
    _export(source, package, monkeypatch)
    on_s3 = {
        "HOSO_STORAGE_URL": f"s3://{s3_bucket}/restored",
        "HOSO_S3_ENDPOINT": s3_server.endpoint,
        "HOSO_S3_ACCESS_KEY": s3_server.access_key,
        "HOSO_S3_SECRET_KEY": s3_server.secret_key,
        "HOSO_S3_REGION": s3_server.region,
    }
    with _empty_instance(tmp_path / "on-s3", monkeypatch, **on_s3) as target:
        imported = CliRunner().invoke(main, ["import", str(package), "--json"])
        assert imported.exit_code == 0, imported.output
        assert not any(path.is_file() for path in target.settings.storage_dir.rglob("*")), "nothing stored locally"
        checked = CliRunner().invoke(main, ["fixity", "--json"])
        assert checked.exit_code == 0, checked.output
        assert json.loads(checked.stdout)["objects_checked"] == 5

        removed = next(key for key in _objects(source) if key.startswith("derived/") and not key.endswith("/pages.pdf"))
        s3_server.client().remove_object(s3_bucket, f"restored/{removed}")
        after = CliRunner().invoke(main, ["fixity", "--json"])
        assert after.exit_code == 1
        (problem,) = json.loads(after.stdout)["problems"]
        assert (problem["key"], problem["status"], problem["kind"]) == (removed, "missing", "archive_pdf")


def test_an_export_lists_an_object_missing_from_the_store_and_exits_1(source: Runtime, tmp_path: Path) -> None:
    with source.sessions() as session:
        of_the_pdf = select(Dossier.archive_pdf_sha256).where(Dossier.case.has(case_number=PDF_CASE))
        key = archive_pdf_key(session.scalars(of_the_pdf).one() or "")
    object_path(source, key).unlink()
    package = tmp_path / "backup"
    result = CliRunner().invoke(main, ["export", str(package), "--json"])
    assert result.exit_code == 1, result.output
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["key"], problem["status"]) == (key, "missing")
    bag = bagit.Bag(str(package))
    bag.validate()
    assert bag.info["Hoso-Object-Problems"] == "1" and not (package / "data/objects" / key).exists()
