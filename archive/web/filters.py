"""Jinja filters that turn stored codes and values into what a Vietnamese reader expects to see.

Codes stay English in the database and the API; only the pages translate them, here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from flask import Flask

from archive.verify import COVER_LABELS_VI

# Viet Nam keeps UTC+7 all year (no daylight saving), so a fixed offset needs no tz database.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")

DOSSIER_STATUS_VI = {
    "processing": "Đang xử lý",
    "assembling": "Đang hoàn tất",
    "processed": "Đã xử lý",
    "failed": "Lỗi",
}
PAGE_STATUS_VI = {"pending": "Chờ xử lý", "done": "Xong", "failed": "Lỗi"}
ROLE_VI = {
    "cover": "Bìa hồ sơ",
    "toc": "Mục lục",
    "document": "Tài liệu",
    "closing": "Chứng từ kết thúc",
    "blank": "Trang trắng",
}
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo", "info": "Thông tin"}
DOC_TYPE_VI = {
    "quyet_dinh_kiem_tra": "Quyết định kiểm tra",
    "bien_ban_kiem_tra": "Biên bản kiểm tra",
    "bien_ban_vi_pham_hanh_chinh": "Biên bản vi phạm hành chính",
    "quyet_dinh_tam_giu": "Quyết định tạm giữ",
    "bien_ban_tam_giu": "Biên bản tạm giữ",
    "phu_luc_bang_ke": "Phụ lục, bảng kê",
    "bao_cao": "Báo cáo",
    "cong_van": "Công văn",
    "quyet_dinh_xu_phat": "Quyết định xử phạt",
    "bien_ban_giao_nhan": "Biên bản giao nhận",
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


def _label(labels: dict[str, str]) -> Callable[[str | None], str]:
    """A filter showing a code's Vietnamese label; an unknown code shows as is rather than vanishing."""
    return lambda code: "" if code is None else labels.get(code, code)


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
        ("cover_field", COVER_LABELS_VI),
    ):
        app.add_template_filter(_label(labels), name)
