"""Which roles may do what: one table, read by the views, the API and the handover workflow.

Roles say what a person may *do*; the unit tree (``archive/web/scope.py``) says *on what*. Both are
checked: a role without the action answers 403, an object outside the person's unit subtree answers 404.
The reasons behind each row are in docs/access.md.
"""

from __future__ import annotations

from archive.models import ROLES

ALL_ROLES = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    # See dossiers in scope: dashboard, dossier pages, downloads, search, handover states and queue.
    # Auditors read too: checking what the log says was done needs the record it is about.
    "dossier.read": ALL_ROLES,
    # Scan and upload for the team, including the corrected version of a rejected dossier.
    "dossier.upload": frozenset({"officer", "team_leader"}),
    # Send a processed dossier of the team on: an officer's goes to the team leader ("proposed"), the team
    # leader's straight to the province's archive ("submitted", the leader's approval implied).
    "handover.submit": frozenset({"officer", "team_leader"}),
    # Approve the officers' proposals of the team (and of teams below) for the archive, or return them.
    "handover.approve": frozenset({"team_leader"}),
    # Accept or reject submitted dossiers of the teams below the archivist's unit.
    "handover.decide": frozenset({"archivist"}),
    # Create and correct case records within the unit subtree (docs/cases.md).
    "case.edit": frozenset({"officer", "team_leader", "admin"}),
    # Browse, check and export the audit log of the units in scope.
    "audit.read": frozenset({"auditor", "admin"}),
    # Add people and units, change roles and units, deactivate and unlock accounts, within the subtree.
    "accounts.manage": frozenset({"admin"}),
    # Create and revoke one's own API tokens (a token can do no more than its owner).
    "tokens.own": ALL_ROLES,
}


def roles_for(action: str) -> frozenset[str]:
    """The roles allowed ``action``; an unknown action is a programming error, not a silent deny."""
    return PERMISSIONS[action]


def allows(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]
