"""The authorisation matrix: for every route of the app, which roles may call it and what each caller gets.

``tests/web/test_authorization_matrix.py`` walks ``app.url_map`` and fails for a route missing here (and for
an entry whose route is gone), then calls every route as anonymous and as each role, with an object of the
caller's units (LCI) and one of another province (QNI-D1), and checks the status. For routes marked
``lists`` it also checks that the body shows the caller's objects and nothing of the other province.

Adding a route: add one ``(METHOD, rule)`` entry below, with the rule exactly as Flask prints it. An URL
argument takes its value from ``ARGUMENTS`` (add the argument's name there if it is new); form fields and
JSON may use the same ``{placeholders}``, plus ``{unique}`` (a fresh string per call).

The callers (all placed in the LCI province, so QNI-D1 is outside every one of them):
officer canbo (LCI-D1), team_leader doitruong (LCI-D1), archivist luutru (LCI), inspector kiemsoat (LCI),
auditor mx_auditor (LCI), admin mx_admin (LCI). API routes are called both with the session cookie and
with a bearer token of the same person.

``ok`` is what an allowed caller gets for an object of their units with the request given here: for a
state-changing step that is often a refusal that comes *after* the permission check (409 wrong_state,
415 unsupported_type), which proves the caller got past authorisation without changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.permissions import roles_for

READERS = roles_for("dossier.read")
UPLOADERS = roles_for("dossier.upload")
SUBMITTERS = roles_for("handover.submit")
APPROVERS = roles_for("handover.approve")
DECIDERS = roles_for("handover.decide")
CASE_EDITORS = roles_for("case.edit")
AUDITORS = roles_for("audit.read")
ADMINS = roles_for("accounts.manage")
TOKEN_OWNERS = roles_for("tokens.own")
EVERYONE = frozenset({"anonymous"}) | READERS

# URL argument -> what it names in the planted world (see the test module's ``World``), or a fixed value.
ARGUMENTS: dict[str, str] = {
    "dossier_id": "dossier",
    "case_id": "case",  # the case of the "dossier"
    "batch_id": "batch",
    "user_id": "user",
    "token_id": "token",
    "kind": "=muc-luc",
    "page_number": "=1",
    "filename": "=hoso.css",
    "report_kind": "=quarter",
}


@dataclass(frozen=True)
class Access:
    """Who may call a route and the status each caller gets.

    allowed: roles that may call it ("anonymous" included for public routes).
    ok: status of an allowed caller, object in their units (or a route without an object).
    out: status of an allowed caller for the other province's object; None when the route takes no object.
    denied: status of a signed-in role not allowed, object in their units.
    denied_out: the same for the other province's object (404 where scope is checked before role).
    """

    allowed: frozenset[str]
    ok: int = 200
    out: int | None = 404
    denied: int = 403
    denied_out: int = 403
    query: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    file: bool = False  # attach a small text file as `file` (refused by intake after the permission check)
    lists: bool = False


SEARCH = "q=matrixword"

MATRIX: dict[tuple[str, str], Access] = {
    # Public
    ("GET", "/login"): Access(EVERYONE, out=None),
    ("POST", "/login"): Access(EVERYONE, out=None, data={"username": "mx_target", "password": "wrong"}),
    ("GET", "/static/<path:filename>"): Access(EVERYONE, out=None),
    ("POST", "/logout"): Access(READERS, ok=302, out=None),
    ("POST", "/language"): Access(EVERYONE, ok=303, out=None, data={"lang": "en", "next": "/"}),
    # Pages
    ("GET", "/"): Access(READERS, out=None, lists=True),
    ("GET", "/search"): Access(READERS, out=None, query=SEARCH, lists=True),
    ("GET", "/upload"): Access(UPLOADERS, out=None),
    ("POST", "/upload"): Access(UPLOADERS, ok=415, out=403, data={"case_number": "MX-UP", "unit": "{unit}"}, file=True),
    ("GET", "/dossiers/<dossier_id>"): Access(READERS),
    ("GET", "/dossiers/<dossier_id>/archive.pdf"): Access(READERS),
    ("GET", "/dossiers/<dossier_id>/original"): Access(READERS),
    ("GET", "/dossiers/<dossier_id>/pages/<int:page_number>.png"): Access(READERS),
    ("GET", "/dossiers/<dossier_id>/pages/<int:page_number>/thumb.png"): Access(READERS),
    ("POST", "/dossiers/<dossier_id>/handover/submit"): Access(SUBMITTERS, ok=409, denied_out=404),
    ("POST", "/dossiers/<dossier_id>/handover/reject"): Access(
        DECIDERS, ok=409, denied_out=404, data={"reason": "Thiếu bút lục"}
    ),
    ("POST", "/dossiers/<dossier_id>/handover/new-version"): Access(SUBMITTERS, ok=409, denied_out=404, file=True),
    ("POST", "/dossiers/<dossier_id>/handover/return"): Access(
        APPROVERS, ok=409, denied_out=404, data={"reason": "Thiếu bút lục"}
    ),
    ("POST", "/handover/approve"): Access(APPROVERS, ok=409, denied_out=404, data={"dossier_id": "{dossier_id}"}),
    ("GET", "/handover"): Access(READERS, out=None, lists=True),
    ("POST", "/handover/accept"): Access(DECIDERS, ok=409, denied_out=404, data={"dossier_id": "{dossier_id}"}),
    ("GET", "/handover/batches/<int:batch_id>/<kind>.pdf"): Access(READERS),
    ("GET", "/audit"): Access(AUDITORS, out=None, lists=True),
    ("GET", "/audit/export.csv"): Access(AUDITORS, out=None, lists=True),
    ("GET", "/audit/export.json"): Access(AUDITORS, out=None, lists=True),
    # Reports: every reader, counted over their own units (scope of ?unit= is tested in tests/web/test_reports.py)
    ("GET", "/reports"): Access(READERS, out=None),
    ("GET", "/reports/export.xlsx"): Access(READERS, out=None),
    ("GET", "/reports/export.pdf"): Access(READERS, out=None),
    ("GET", "/reports/retention"): Access(READERS, out=None),
    # Case records: everyone reads in scope; editors create and edit (a refused form proves the check passed)
    ("GET", "/cases"): Access(READERS, out=None, lists=True),
    ("GET", "/cases/new"): Access(CASE_EDITORS, out=None),
    ("POST", "/cases/new"): Access(
        CASE_EDITORS, ok=303, out=422, data={"case_number": "MX-C{unique}", "unit": "{unit}"}
    ),
    ("GET", "/cases/<int:case_id>"): Access(READERS),
    ("GET", "/cases/<int:case_id>/edit"): Access(CASE_EDITORS, denied_out=404),
    ("POST", "/cases/<int:case_id>/edit"): Access(CASE_EDITORS, ok=422, denied_out=404, data={"case_number": ""}),
    ("GET", "/cases/<int:case_id>/upload"): Access(UPLOADERS, denied_out=404),
    ("POST", "/cases/<int:case_id>/upload"): Access(UPLOADERS, ok=415, denied_out=404, file=True),
    # The person's own API tokens
    ("GET", "/account/tokens"): Access(TOKEN_OWNERS, out=None),
    ("POST", "/account/tokens"): Access(TOKEN_OWNERS, out=None, data={"name": "máy quét {unique}"}),
    ("POST", "/account/tokens/<int:token_id>/revoke"): Access(TOKEN_OWNERS, ok=303),
    ("GET", "/account/password"): Access(READERS, out=None),
    # The wrong current password: refused after the guard, nothing changes.
    ("POST", "/account/password"): Access(
        READERS, ok=400, out=None, data={"current_password": "sai", "new_password": "x" * 12, "confirm_password": "x"}
    ),
    # Administration
    ("GET", "/admin/users"): Access(ADMINS, out=None, lists=True),
    ("POST", "/admin/users"): Access(
        ADMINS, data={"username": "mx{unique}", "role": "officer", "unit": "{unit}", "full_name": "Người mới"}
    ),
    ("POST", "/admin/users/<int:user_id>"): Access(
        ADMINS, ok=303, data={"role": "officer", "unit": "{unit}", "active": "1"}
    ),
    ("POST", "/admin/users/<int:user_id>/unlock"): Access(ADMINS, ok=303),
    ("POST", "/admin/users/<int:user_id>/password"): Access(ADMINS),
    ("GET", "/admin/units"): Access(ADMINS, out=None, lists=True),
    ("GET", "/admin/fixity"): Access(ADMINS, out=None),
    ("POST", "/admin/units"): Access(
        ADMINS, ok=303, data={"code": "MX{unique}", "name": "Đội mới", "parent": "{province}"}
    ),
    # API
    ("POST", "/api/v1/dossiers"): Access(
        UPLOADERS, ok=415, out=403, data={"case_number": "MX-UP", "unit": "{unit}"}, file=True
    ),
    ("GET", "/api/v1/dossiers/<dossier_id>"): Access(READERS),
    ("GET", "/api/v1/dossiers/<dossier_id>/verify"): Access(READERS),
    ("GET", "/api/v1/dossiers/<dossier_id>/archive.pdf"): Access(READERS),
    ("GET", "/api/v1/dossiers/<dossier_id>/pages/<int:page_number>"): Access(READERS),
    ("GET", "/api/v1/dossiers/<dossier_id>/handover"): Access(READERS),
    ("POST", "/api/v1/dossiers/<dossier_id>/handover"): Access(
        SUBMITTERS, ok=409, denied_out=404, json={"action": "submit"}
    ),
    ("POST", "/api/v1/handover/batches"): Access(
        DECIDERS, ok=409, denied_out=404, json={"dossier_ids": ["{dossier_id}"]}
    ),
    ("GET", "/api/v1/handover/queue"): Access(READERS, out=None, lists=True),
    ("GET", "/api/v1/search"): Access(READERS, out=None, query=SEARCH, lists=True),
    ("GET", "/api/v1/search/suggest"): Access(READERS, out=None, query="q=mx", lists=True),
    ("GET", "/api/v1/audit"): Access(AUDITORS, out=None, lists=True),
    ("GET", "/api/v1/reports/<report_kind>"): Access(READERS, out=None),
    ("GET", "/api/v1/cases"): Access(READERS, out=None, lists=True),
    ("POST", "/api/v1/cases"): Access(
        CASE_EDITORS, ok=201, out=422, json={"case_number": "MX-C{unique}", "unit": "{unit}"}
    ),
    ("GET", "/api/v1/cases/<int:case_id>"): Access(READERS),
    ("PATCH", "/api/v1/cases/<int:case_id>"): Access(CASE_EDITORS, ok=422, denied_out=404, json={"tax_code": "x"}),
    ("POST", "/api/v1/cases/<int:case_id>/dossiers"): Access(UPLOADERS, ok=415, denied_out=404, file=True),
}
