"""The JSON shape of search answers: dossier groups whose page hits link to the page, and suggestions.

Shared by `GET /api/v1/search`, `GET /api/v1/search/suggest` and the search page, so a hit opens the same
place wherever it is shown: the dossier viewer at that page with the query marked
(`/dossiers/<id>?page=N&q=…`), and the page in the searchable PDF (`…/archive.pdf#page=N`, the PDF
viewers' open-at-page fragment) when the dossier has its archive copy.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Dossier, User
from search.documents import DossierHit
from search.index import SearchIndex

SUGGESTIONS_PER_KIND = 8


def dossier_groups(session: Session, groups: list[DossierHit], query: str) -> list[dict[str, Any]]:
    """Each group as a dict; each of its pages also carries `viewer_url` and `pdf_url` (None without a copy)."""
    with_copy = set(
        session.scalars(
            select(Dossier.id).where(
                Dossier.id.in_([group.dossier_id for group in groups]), Dossier.archive_pdf_sha256.is_not(None)
            )
        )
    )
    shaped = []
    for group in groups:
        body = asdict(group)
        for page in body["pages"]:
            page |= page_links(group.dossier_id, page["page"], query, has_copy=group.dossier_id in with_copy)
        shaped.append(body)
    return shaped


def page_links(dossier_id: str, page: int, query: str, *, has_copy: bool) -> dict[str, str | None]:
    """Where a hit on `page` opens: the viewer at the page with `query` marked, and the PDF at the page."""
    pdf = url_for("pages.dossier_archive_pdf", dossier_id=dossier_id) + f"#page={page}" if has_copy else None
    return {"viewer_url": url_for("pages.dossier", dossier_id=dossier_id, page=page, q=query), "pdf_url": pdf}


def suggestions(index: SearchIndex, user: User, typed: str) -> dict[str, Any]:
    """Business names, tax codes and case numbers of the user's units that start with `typed`."""
    found = index.suggest(typed, user.unit.path, limit=SUGGESTIONS_PER_KIND)
    return {"q": typed, "suggestions": [asdict(suggestion) for suggestion in found]}
