"""Jinja filters that turn stored codes and values into what a Vietnamese reader expects to see.

Codes stay English in the database and the API; only the pages translate them, here, in one place. The labels
are lazy texts (``lazy_gettext``): the module is imported before any request, and each page renders them in
its reader's language (English from the catalog when the switch asks for it). A filter hands Jinja a plain
``str``, so a label is escaped like any other value and no lazy text leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from flask import Flask
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

# Viet Nam keeps UTC+7 all year (no daylight saving), so a fixed offset needs no tz database.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

Labels = dict[str, LazyString]

DOSSIER_STATUS_VI: Labels = {
    "processing": lazy_gettext("Đang xử lý"),
    "assembling": lazy_gettext("Đang hoàn tất"),
    "processed": lazy_gettext("Đã xử lý"),
    "failed": lazy_gettext("Lỗi"),
}
PAGE_STATUS_VI: Labels = {
    "pending": lazy_gettext("Chờ xử lý"),
    "done": lazy_gettext("Xong"),
    "failed": lazy_gettext("Lỗi"),
}
ROLE_VI: Labels = {
    "cover": lazy_gettext("Bìa hồ sơ"),
    "toc": lazy_gettext("Mục lục"),
    "document": lazy_gettext("Tài liệu"),
    "closing": lazy_gettext("Chứng từ kết thúc"),
    "blank": lazy_gettext("Trang trắng"),
}
SEVERITY_VI: Labels = {
    "error": lazy_gettext("Lỗi"),
    "warning": lazy_gettext("Cảnh báo"),
    "info": lazy_gettext("Thông tin"),
}
DOC_TYPE_VI: Labels = {
    "quyet_dinh_kiem_tra": lazy_gettext("Quyết định kiểm tra"),
    "bien_ban_kiem_tra": lazy_gettext("Biên bản kiểm tra"),
    "bien_ban_vi_pham_hanh_chinh": lazy_gettext("Biên bản vi phạm hành chính"),
    "quyet_dinh_tam_giu": lazy_gettext("Quyết định tạm giữ"),
    "bien_ban_tam_giu": lazy_gettext("Biên bản tạm giữ"),
    "phu_luc_bang_ke": lazy_gettext("Phụ lục, bảng kê"),
    "bao_cao": lazy_gettext("Báo cáo"),
    "cong_van": lazy_gettext("Công văn"),
    "quyet_dinh_xu_phat": lazy_gettext("Quyết định xử phạt"),
    "bien_ban_giao_nhan": lazy_gettext("Biên bản giao nhận"),
}
# The cover fields as ``archive.verify.COVER_LABELS_VI`` names them; verify keeps its own plain Vietnamese for the
# findings it stores, these are the page's (tests/web/test_language.py checks the two agree in Vietnamese).
COVER_FIELD_VI: Labels = {
    "agency": lazy_gettext("Tên cơ quan"),
    "unit": lazy_gettext("Tên đơn vị"),
    "dossier_code": lazy_gettext("Mã hồ sơ"),
    "dossier_number": lazy_gettext("Hồ sơ số"),
    "title": lazy_gettext("Tiêu đề hồ sơ"),
    "start_date": lazy_gettext("Từ ngày"),
    "end_date": lazy_gettext("Đến ngày"),
    "sheet_count_declared": lazy_gettext("Gồm … tờ"),
    "retention": lazy_gettext("Thời hạn bảo quản"),
}
EXCERPT_CHARS = 200


def vn_time(moment: datetime | None) -> str:
    """Day first, in Viet Nam time; SQLite hands back naive datetimes, which hoso always stores as UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")


def percent(fraction: float | None) -> str:
    return "" if fraction is None else f"{fraction * 100:.0f}%"


def excerpt(text: str | None) -> str:
    """The start of a page's text on one line; the template escapes it like any other value."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS].rstrip() + "…"


def _label(labels: Labels) -> Callable[[str | None], str]:
    """A filter showing a code's label in the reader's language; an unknown code shows as is rather than vanishing."""
    return lambda code: "" if code is None else str(labels.get(code, code))


def register(app: Flask) -> None:
    app.add_template_filter(vn_time)
    app.add_template_filter(percent)
    app.add_template_filter(excerpt)
    for name, labels in (
        ("dossier_status", DOSSIER_STATUS_VI),
        ("page_status", PAGE_STATUS_VI),
        ("role", ROLE_VI),
        ("severity", SEVERITY_VI),
        ("doc_type", DOC_TYPE_VI),
        ("cover_field", COVER_FIELD_VI),
    ):
        app.add_template_filter(_label(labels), name)
