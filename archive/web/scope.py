"""Who may see what: a user sees the dossiers of their own unit and of every unit below it.

Scope is a prefix test on the unit path ("VN/LCI" covers "VN/LCI" and "VN/LCI/LCI-D1", not "VN/LCI2"),
the same test the search index applies with ``scope=user.unit.path``; its Python form is
``archive.models.covers``, shared with the workflow modules, and ``unit_filter`` is its SQL form.
Anything outside it is answered as if it did not exist (404), so ids of other units' dossiers reveal nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.exceptions import NotFound

from archive.models import Case, Dossier, Unit, User


def unit_filter(user: User) -> ColumnElement[bool]:
    """The SQL form of ``covers``; LIKE wildcards in a path are escaped so "_" in a code matches only "_"."""
    own = user.unit.path
    return or_(Unit.path == own, Unit.path.startswith(own + "/", autoescape=True))


def units_in_scope(session: Session, user: User) -> list[Unit]:
    return list(session.scalars(select(Unit).where(unit_filter(user)).order_by(Unit.path)))


def dossier_in_scope(session: Session, user: User, dossier_id: str, *options: ORMOption) -> Dossier:
    """The dossier if the user may see it; 404 both when it does not exist and when it is another unit's."""
    dossier = session.scalar(
        select(Dossier)
        .join(Dossier.case)
        .join(Case.unit)
        .where(Dossier.id == dossier_id, unit_filter(user))
        .options(*options)
    )
    if dossier is None:
        raise NotFound(f"No dossier {dossier_id!r} in your units.")
    return dossier
