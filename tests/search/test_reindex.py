"""`hoso reindex`: the index rebuilt from the database, interrupted and resumed without loss or repeats."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import handover
from archive import reindex as reindexing
from archive.cli import main
from archive.models import Case, Dossier, Page, Unit, User
from archive.runtime import Runtime
from ingest.pipeline import verification_report
from search.documents import PageDocument
from search.request import SearchFilters, SearchRequest


def plant(
    runtime: Runtime, dossier_id: str, texts: list[str], status: str = "processed", **case_fields: object
) -> None:
    """A dossier in the database only (not indexed), its pages already read."""
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "LCI-D1"))
        assert unit is not None
        case = Case(unit=unit, case_number=f"{dossier_id}/LCI", **case_fields)
        dossier = Dossier(
            id=dossier_id,
            case=case,
            original_sha256=dossier_id.ljust(64, "0"),
            size_bytes=1,
            page_count=len(texts),
            status=status,
        )
        dossier.pages = [
            Page(page_number=number, status="done", text=text, doc_type="bien_ban_kiem_tra")
            for number, text in enumerate(texts, start=1)
        ]
        session.add(dossier)
        session.commit()


def dossiers_found(runtime: Runtime, query: str, **filters: object) -> list[str]:
    request = SearchRequest(query, scope=None, filters=SearchFilters(**filters), limit=100)  # type: ignore[arg-type]
    return sorted(group.dossier_id for group in runtime.index.search_dossiers(request).dossiers)


def test_reindex_rebuilds_from_processed_dossiers_with_their_case_fields(runtime: Runtime) -> None:
    plant(runtime, "a1", ["bìa", "rượu lậu"], violation="Hàng nhập lậu", opened_on=date(2022, 5, 1))
    plant(runtime, "a2", ["rượu lậu", "", "rượu"])
    plant(runtime, "a3", ["rượu lậu"], status="processing")
    stale = PageDocument("gone", 1, "X", "LCI-D1", "VN/LCI/LCI-D1", "rượu lậu")
    runtime.index.add_pages([stale])
    summary = reindexing.reindex(runtime)
    assert (summary.dossiers, summary.pages, summary.resumed_after) == (2, 4, None)
    assert dossiers_found(runtime, "rượu") == ["a1", "a2"]
    assert dossiers_found(runtime, "rượu", violation="Hàng nhập lậu", date_to=date(2022, 12, 31)) == ["a1"]
    assert dossiers_found(runtime, "rượu", statuses=("draft",)) == ["a1", "a2"]
    assert not (runtime.settings.index_dir / reindexing.STATE_FILE).exists()


def test_an_interrupted_reindex_resumes_after_the_last_committed_batch(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(1, 6):
        plant(runtime, f"d{number}", [f"trang {number} hàng giả"])
    monkeypatch.setattr(reindexing, "BATCH_PAGES", 1)  # one dossier per commit
    committed: list[int] = []

    def stop_after_two(dossiers: int, pages: int) -> None:
        committed.append(dossiers)
        if len(committed) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reindexing.reindex(runtime, on_progress=stop_after_two)
    assert dossiers_found(runtime, "hàng giả") == ["d1", "d2"]
    assert reindexing.dossiers_to_index(runtime) == (3, 5)
    summary = reindexing.reindex(runtime)
    assert (summary.dossiers, summary.resumed_after) == (3, "d2")
    assert dossiers_found(runtime, "hàng giả") == ["d1", "d2", "d3", "d4", "d5"]
    assert runtime.index.search("hàng giả", None).total == 5
    assert reindexing.dossiers_to_index(runtime) == (5, 5)  # finished: a new run starts over


def test_restart_ignores_an_interrupted_run(runtime: Runtime) -> None:
    plant(runtime, "d1", ["hàng giả"])
    (runtime.settings.index_dir / reindexing.STATE_FILE).write_text(json.dumps({"last_dossier_id": "d1"}))
    assert reindexing.reindex(runtime).dossiers == 0
    (runtime.settings.index_dir / reindexing.STATE_FILE).write_text(json.dumps({"last_dossier_id": "d1"}))
    assert reindexing.reindex(runtime, restart=True).dossiers == 1


def test_reindex_dossier_follows_a_handover_state_change(runtime: Runtime) -> None:
    plant(runtime, "d1", ["hàng giả", "hàng giả"])
    reindexing.reindex(runtime)
    with runtime.sessions() as session:
        dossier = session.get(Dossier, "d1")
        assert dossier is not None
        dossier.handover_state = "accepted"
        session.commit()
    assert dossiers_found(runtime, "hàng", statuses=("accepted",)) == []
    assert reindexing.reindex_dossier(runtime, "d1") == 2
    assert dossiers_found(runtime, "hàng", statuses=("accepted",)) == ["d1"]


def test_cli_reindex_json(runtime: Runtime) -> None:
    plant(runtime, "d1", ["hàng giả", "biên bản"])
    result = CliRunner().invoke(main, ["reindex", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"dossiers": 1, "pages": 2, "resumed_after": None}
    assert runtime.index.search("hàng giả", None).total == 1


def actor(session: Session, username: str) -> handover.Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return handover.Actor(user)


def test_every_handover_step_reindexes_the_dossier_when_it_commits(runtime: Runtime) -> None:
    plant(runtime, "h1", ["rượu lậu"])
    plant(runtime, "h2", ["rượu lậu"])
    plant(runtime, "h3", ["rượu lậu", "rượu"])
    with runtime.sessions() as session:  # h3 is the corrected scan of h2's case
        new, old = session.get(Dossier, "h3"), session.get(Dossier, "h2")
        assert new is not None and old is not None
        new.case_id = old.case_id
        session.commit()
    reindexing.reindex(runtime)
    explanation = "Thiếu bút lục, đã ghi chú."
    with runtime.sessions() as session:
        for dossier_id in ("h1", "h2"):
            handover.submit(session, actor(session, "doitruong"), dossier_id, explanation)
        assert dossiers_found(runtime, "rượu", statuses=("submitted",)) == ["h1", "h2"]
        handover.accept(session, actor(session, "luutru"), ["h1"], retention="20 năm")
        assert dossiers_found(runtime, "rượu", statuses=("accepted",)) == ["h1"]  # right after accept
        handover.reject(session, actor(session, "luutru"), "h2", "Thiếu biên bản")
        assert dossiers_found(runtime, "rượu", statuses=("rejected",)) == ["h2"]
        handover.record_new_version(session, actor(session, "doitruong"), "h2", "h3")
    assert dossiers_found(runtime, "rượu", statuses=("superseded",)) == ["h2"]
    assert dossiers_found(runtime, "rượu", statuses=("draft",)) == ["h3"]
    assert dossiers_found(runtime, "rượu", statuses=("submitted",)) == []


def test_a_refused_handover_step_leaves_the_index_as_it_was(runtime: Runtime) -> None:
    plant(runtime, "h1", ["rượu lậu"])
    reindexing.reindex(runtime)
    with runtime.sessions() as session, pytest.raises(handover.HandoverRefused):
        handover.accept(session, actor(session, "luutru"), ["h1"], retention="20 năm")  # never submitted
    with runtime.sessions() as session:
        handover.submit(session, actor(session, "doitruong"), "h1", "Thiếu bút lục, đã ghi chú.")
    assert dossiers_found(runtime, "rượu", statuses=("submitted",)) == ["h1"]


def test_later_pages_of_a_document_carry_its_type_in_the_index(runtime: Runtime) -> None:
    """Only a document's first page has a header; the index gives its later pages the same type."""
    with runtime.sessions() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "LCI-D1"))
        dossier = Dossier(
            id="t1", case=Case(unit=unit, case_number="t1/LCI"), original_sha256="1" * 64, size_bytes=1, page_count=4
        )
        roles = [("cover", "bia_ho_so"), ("document", "bien_ban_kiem_tra"), ("document", None), ("document", None)]
        dossier.pages = [
            Page(page_number=number, status="done", text=f"trang {number} hàng giả", role=role, doc_type=doc_type)
            for number, (role, doc_type) in enumerate(roles, start=1)
        ]
        dossier.pages[3].doc_type = "quyet_dinh_xu_phat"
        session.add(dossier)
        session.flush()
        dossier.status = "processed"
        dossier.verify_report = verification_report(dossier)
        session.commit()
    reindexing.reindex(runtime)

    def pages_of(doc_type: str) -> list[int]:
        request = SearchRequest("hàng", scope=None, filters=SearchFilters(doc_types=(doc_type,)), pages_per_dossier=9)
        return sorted(hit.page for group in runtime.index.search_dossiers(request).dossiers for hit in group.pages)

    assert pages_of("bien_ban_kiem_tra") == [2, 3]
    assert pages_of("quyet_dinh_xu_phat") == [4]
    assert pages_of("bia_ho_so") == [1]
