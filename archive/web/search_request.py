"""Reading a search from the query string, the same for the search page and ``GET /api/v1/search``.

Parameters: ``q``; filters ``unit`` (a unit code: that unit and the units under it), ``case``,
``doc_type`` and ``status`` (repeatable), ``violation``, ``year``, ``from`` and ``to`` (YYYY-MM-DD,
inclusive). The scope is always the signed-in user's unit: a ``unit`` outside it is intersected with it
and so finds nothing, like any other filter, and never reveals whether it holds anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from archive.models import Unit, User
from search.request import SearchFilters, SearchRequest

FILTER_PARAMETERS = ("unit", "case", "doc_type", "status", "violation", "year", "from", "to")


def search_request(
    session: Session, user: User, args: MultiDict[str, str], *, limit: int, offset: int
) -> SearchRequest:
    """The request the arguments describe, within ``user``'s scope; BadRequest names a malformed argument."""
    try:
        return SearchRequest(
            query=args.get("q", "").strip(),
            scope=user.unit.path,
            filters=_filters(session, args),
            limit=limit,
            offset=offset,
        )
    except ValueError as bad:
        raise BadRequest(str(bad)) from None


def active_filters(args: MultiDict[str, str]) -> dict[str, Any]:
    """The filter arguments that are set, for links that keep them (a facet click adds one)."""
    return {name: args.getlist(name) for name in FILTER_PARAMETERS if any(args.getlist(name))}


def _filters(session: Session, args: MultiDict[str, str]) -> SearchFilters:
    date_from, date_to = _day(args, "from"), _day(args, "to")
    year = args.get("year", "").strip()
    if year:
        if not year.isdigit() or not 1900 <= int(year) <= 2999:
            raise BadRequest(f"`year` must be a year such as 2024, got {year!r}.")
        date_from = max(date_from or date.min, date(int(year), 1, 1))
        date_to = min(date_to or date.max, date(int(year), 12, 31))
    return SearchFilters(
        unit_path=_unit_path(session, args.get("unit", "").strip()),
        case_number=args.get("case", "").strip() or None,
        doc_types=tuple(value for value in args.getlist("doc_type") if value),
        statuses=tuple(value for value in args.getlist("status") if value),
        violation=args.get("violation", "").strip() or None,
        date_from=date_from,
        date_to=date_to,
    )


def _unit_path(session: Session, code: str) -> str | None:
    if not code:
        return None
    path = session.scalar(select(Unit.path).where(Unit.code == code))
    if path is None:
        raise BadRequest(f"No unit has the code {code!r}.")
    return path


def _day(args: MultiDict[str, str], name: str) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"`{name}` must be a date written YYYY-MM-DD, got {value!r}.") from None
