"""The one upload path behind both the form and the API: check the unit against the caller's scope, submit.

The refusals added here are ``IngestError``s like intake's own, so the form and the API show them the
same way (code and English detail for machines, Vietnamese message and remedy for people).

Uploaded files are written, while the multipart body is parsed, straight into intake's ``Spool`` in
``$HOSO_HOME/tmp``: hashed and size-checked as they arrive, never held in memory, and not copied again
by intake.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from archive.models import Case, Dossier, Unit, User, covers
from archive.web import context
from ingest.errors import IngestError, UnknownUnit
from ingest.intake import Spool
from ingest.submit import submit


class SpoolingRequest(Request):
    """A request whose file parts are spooled by intake; every spool is removed when the request closes,
    including those of a body whose parsing stopped half-way (a file over the size limit)."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        settings = context.runtime().settings
        spooled = Spool(settings.temp_dir, settings.max_upload_bytes)
        self.__dict__.setdefault("_hoso_spools", []).append(spooled)
        return spooled  # type: ignore[return-value]  # file-like: write, read, readline, seek, tell, close

    def close(self) -> None:
        super().close()
        for spooled in self.__dict__.pop("_hoso_spools", []):
            spooled.close()


class MissingFile(IngestError):
    code = "missing_file"
    detail = "No file was sent in the `file` field."
    message_vi = "Chưa chọn tệp để tải lên."
    remedy_vi = "Chọn tệp PDF bản quét hồ sơ rồi bấm Tải lên."


class UnitOutOfScope(IngestError):
    code = "unit_out_of_scope"
    http_status = 403
    detail = "You may only upload dossiers for your own unit or the units below it."
    message_vi = "Bạn không có quyền tải hồ sơ lên cho đơn vị này."
    remedy_vi = "Chọn đơn vị của bạn hoặc một đơn vị trực thuộc."


class ArchivedElsewhere(IngestError):
    """The same original (same SHA-256) already belongs to a dossier the uploader may not see."""

    code = "archived_elsewhere"
    http_status = 409
    detail = "This file is already archived in a dossier of a unit outside your scope."
    message_vi = "Tệp này đã được lưu trong hồ sơ của một đơn vị khác."
    remedy_vi = "Liên hệ đơn vị đang quản lý hồ sơ hoặc quản trị hệ thống."


class UnknownCase(IngestError):
    """Also what a user outside the case's unit subtree gets, as for dossiers."""

    code = "unknown_case"
    http_status = 404
    detail = "No such case in your units."
    message_vi = "Không tìm thấy vụ việc trong phạm vi đơn vị của bạn."
    remedy_vi = "Chọn vụ việc từ danh sách Vụ việc, hoặc nhập số vụ việc và đơn vị."


def upload(
    user: User, file: FileStorage | None, case_number: str, unit_code: str, case_id: int | None = None
) -> tuple[Dossier, bool]:
    """Submit an uploaded file for ``unit_code`` on behalf of ``user``; (dossier, created) as ``submit``.

    ``case_id`` names an existing case instead of its number and unit (an upload from the case's page).
    A number without such a case makes one, as scanner stations expect. Without a unit code, a team
    member's upload goes to their own team: that is who scans it."""
    if file is None:
        raise MissingFile()
    session = context.db()
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or not covers(user, case.unit.path):
            raise UnknownCase(f"No case {case_id} in your units.")
        case_number, unit_code = case.case_number, case.unit.code
    if not unit_code and user.unit.level == "team":
        unit_code = user.unit.code
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise UnknownUnit(f"No unit has the code {unit_code!r}.")
    if not covers(user, unit.path):
        raise UnitOutOfScope()
    dossier, created = submit(
        context.runtime(), context.queue(), file.stream, file.filename or "", case_number, unit.code, user.id
    )
    # submit() hands back a detached dossier; its case is read again in this request's session.
    if not created and not covers(user, session.get_one(Case, dossier.case_id).unit.path):
        raise ArchivedElsewhere()
    return dossier, created
