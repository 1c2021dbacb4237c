"""The two handover documents of Decree 30/2020/NĐ-CP annex V, as PDF, for one batch of accepted dossiers.

"Mục lục hồ sơ, tài liệu nộp lưu" lists the dossiers (số TT, mã hồ sơ, tiêu đề, thời gian, thời hạn bảo
quản, số tờ, ghi chú); "Biên bản giao nhận hồ sơ, tài liệu" is the record both parties sign, with the
counts of dossiers and sheets and the list attached. ``summarise_batch`` reads what they say from the
database; the renderers are pure functions of that summary. The text is Vietnamese, so the font is a
Unicode TrueType font (DejaVu, Debian package fonts-dejavu-core), embedded in the PDF.

Each record also prints the audit-log hash of the batch's last acceptance: a paper anchor for the chain,
so entries later cut from the end of the log are caught by ``hoso audit verify --expect-head``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.handover import batch_dossiers, cover_fields
from archive.models import AuditEntry, Dossier, HandoverBatch, User

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FONT = "DejaVu"
TOC_TITLE = "MỤC LỤC HỒ SƠ, TÀI LIỆU NỘP LƯU"
RECORD_TITLE = "BIÊN BẢN"
RECORD_SUBJECT = "Về việc giao nhận hồ sơ, tài liệu"
TOC_COLUMNS = ("Số TT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Thời gian tài liệu", "Thời hạn bảo quản", "Số tờ", "Ghi chú")
TOC_WIDTHS = (12, 52, 95, 34, 26, 14, 34)  # A4 landscape: 267 mm between the margins
# Dates on the documents are the date in Viet Nam (UTC+7 all year).
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


class FontMissing(RuntimeError):
    """The Vietnamese-capable font is not installed; the remedy is one Debian package."""


@dataclass(frozen=True)
class ListedDossier:
    dossier_id: str
    code: str
    title: str
    period: str
    retention: str
    sheets: int | None
    note: str


@dataclass(frozen=True)
class BatchSummary:
    batch_id: int
    accepted_at: datetime
    handing_agency: str  # the team's parent unit (Chi cục)
    handing_unit: str  # the team that hands over
    receiving_unit: str  # the unit whose archive receives
    handing_person: str
    receiving_person: str
    dossiers: list[ListedDossier]
    audit_anchor: str

    @property
    def total_sheets(self) -> int:
        return sum(dossier.sheets or 0 for dossier in self.dossiers)

    @property
    def years(self) -> str:
        years = sorted({part[-4:] for dossier in self.dossiers for part in dossier.period.split(" - ") if part})
        return years[0] if len(years) == 1 else f"{years[0]} - {years[-1]}" if years else ""


def _vn_date(value: Any) -> str:
    """A cover date ("2024-07-11") as printed on Vietnamese forms ("11/07/2024"); other text as it is."""
    if not value:
        return ""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _sheet_count(dossier: Dossier, fields: dict[str, Any]) -> int | None:
    """The declared "Gồm: N tờ", else the document sheet fronts found; None when neither is known."""
    declared = fields.get("sheet_count_declared")
    if isinstance(declared, int) and not isinstance(declared, bool):
        return declared
    if isinstance(declared, str) and declared.strip().isdigit():
        return int(declared)
    pages = (dossier.verify_report or {}).get("pages") or []
    fronts = [page for page in pages if page.get("role") == "document" and page.get("side", "front") == "front"]
    return len(fronts) or None


def _listed(dossier: Dossier) -> ListedDossier:
    fields = cover_fields(dossier)
    period = " - ".join(part for part in (_vn_date(fields.get("start_date")), _vn_date(fields.get("end_date"))) if part)
    notes = [f"Bản số {dossier.version}"] if dossier.version > 1 else []
    notes.append(f"SHA-256 {dossier.original_sha256[:12]}")
    return ListedDossier(
        dossier_id=dossier.id,
        code=str(fields.get("dossier_code") or dossier.case.case_number),
        title=str(fields.get("title") or f"Hồ sơ vụ việc {dossier.case.case_number}"),
        period=period,
        retention=dossier.retention or "",
        sheets=_sheet_count(dossier, fields),
        note="; ".join(notes),
    )


def _person(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return "" if user is None else user.full_name or user.username


def summarise_batch(session: Session, batch: HandoverBatch) -> BatchSummary:
    dossiers = batch_dossiers(session, batch.id)
    if not dossiers:
        raise ValueError(f"handover batch {batch.id} holds no dossiers")
    team = dossiers[0].case.unit
    ids = [dossier.id for dossier in dossiers]
    # The team's representative is whoever sent the dossiers on last: the leader who approved an officer's
    # proposal, or the leader who submitted directly.
    submitted = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(("handover.submit", "handover.approve")), AuditEntry.target_id.in_(ids))
        .order_by(AuditEntry.id.desc())
    ).first()
    accepted = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "handover.accept", AuditEntry.target_id.in_(ids))
        .order_by(AuditEntry.id.desc())
    ).first()
    return BatchSummary(
        batch_id=batch.id,
        accepted_at=batch.created_at,
        handing_agency=team.parent.name if team.parent is not None else "",
        handing_unit=team.name,
        receiving_unit=batch.unit.name,
        handing_person=_person(session, submitted.actor_id if submitted else None),
        receiving_person=_person(session, batch.created_by_id),
        dossiers=[_listed(dossier) for dossier in dossiers],
        audit_anchor=accepted.entry_hash if accepted else "",
    )


def new_pdf(orientation: str = "P") -> FPDF:
    missing = [name for name in FONT_FILES.values() if not (FONT_DIR / name).is_file()]
    if missing:
        raise FontMissing(
            f"fonts {', '.join(missing)} not found in {FONT_DIR}; install the Debian package fonts-dejavu-core"
        )
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(FONT_DIR / name))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def write_line(pdf: FPDF, text: str, size: float = 11, style: str = "", align: str = "L", height: float = 6) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, left_top: str, left_bottom: str, place_date: str) -> None:
    """The two-column heading of an administrative document: the unit left, the national motto right."""
    top = pdf.get_y()
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(half - 5, 5, left_top.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(half - 5, 5, left_bottom.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_end = pdf.get_y()
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(half, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.multi_cell(half, 5, "Độc lập - Tự do - Hạnh phúc", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "I", 10)
    pdf.multi_cell(half, 7, place_date, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_end, pdf.get_y()) + 6)


def _date_line(moment: datetime) -> str:
    local = moment.astimezone(VIETNAM_TIME) if moment.tzinfo else moment
    return f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def _signatures(pdf: FPDF, left: tuple[str, str], right: tuple[str, str]) -> None:
    pdf.ln(8)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    top = pdf.get_y()
    bottom = top
    for column, (role, name) in enumerate((left, right)):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(half, 6, role, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "I", 10)
        pdf.multi_cell(half, 6, "(Ký tên và ghi rõ họ tên)", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_y(pdf.get_y() + 18)  # room to sign; set_y keeps the column only with set_x after it
        pdf.set_x(pdf.l_margin + column * half)
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(half, 6, name, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom)


def _anchor(pdf: FPDF, summary: BatchSummary) -> None:
    if summary.audit_anchor:
        pdf.ln(4)
        write_line(pdf, f"Mã kiểm tra nhật ký (SHA-256): {summary.audit_anchor}", size=7, style="I", height=4)


def table_of_contents_pdf(summary: BatchSummary) -> bytes:
    """ "Mục lục hồ sơ, tài liệu nộp lưu": one row per dossier, with the totals below."""
    pdf = new_pdf(orientation="L")  # seven columns, and codes and titles long enough to need the width
    _header(pdf, summary.handing_agency, summary.handing_unit, _date_line(summary.accepted_at))
    write_line(pdf, TOC_TITLE, size=14, style="B", align="C", height=8)
    write_line(pdf, f"Năm {summary.years}" if summary.years else "", align="C")
    write_line(
        pdf, f"Lần giao nhận số {summary.batch_id} · Nộp vào lưu trữ: {summary.receiving_unit}", size=10, align="C"
    )
    pdf.ln(3)
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=TOC_WIDTHS, text_align="CENTER", line_height=5, first_row_as_headings=True) as table:
        heading = table.row()
        for title in TOC_COLUMNS:
            heading.cell(title)
        for number, dossier in enumerate(summary.dossiers, start=1):
            row = table.row()
            row.cell(str(number))
            row.cell(dossier.code)
            row.cell(dossier.title, align="LEFT")
            row.cell(dossier.period)
            row.cell(dossier.retention)
            row.cell("" if dossier.sheets is None else str(dossier.sheets))
            row.cell(dossier.note, align="LEFT")
    pdf.ln(4)
    write_line(pdf, f"Mục lục này gồm: {len(summary.dossiers)} hồ sơ (đơn vị bảo quản), {summary.total_sheets} tờ.")
    _signatures(pdf, ("NGƯỜI LẬP", summary.handing_person), ("XÁC NHẬN CỦA LƯU TRỮ", summary.receiving_person))
    _anchor(pdf, summary)
    return bytes(pdf.output())


def handover_record_pdf(summary: BatchSummary) -> bytes:
    """ "Biên bản giao nhận hồ sơ, tài liệu": the parties, what was handed over, and the list attached."""
    pdf = new_pdf()
    _header(pdf, summary.receiving_unit, "LƯU TRỮ CƠ QUAN", _date_line(summary.accepted_at))
    write_line(pdf, RECORD_TITLE, size=14, style="B", align="C", height=8)
    write_line(pdf, RECORD_SUBJECT, style="B", align="C")
    pdf.ln(3)
    write_line(pdf, "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;")
    write_line(pdf, f"Hôm nay, {_date_line(summary.accepted_at)}, chúng tôi gồm:")
    write_line(pdf, f"BÊN GIAO: {summary.handing_unit}", style="B")
    write_line(pdf, f"Ông (bà): {summary.handing_person or '........................................'}")
    write_line(pdf, f"BÊN NHẬN: Lưu trữ cơ quan, {summary.receiving_unit}", style="B")
    write_line(pdf, f"Ông (bà): {summary.receiving_person or '........................................'}")
    write_line(pdf, "Thống nhất lập biên bản giao nhận tài liệu với nội dung như sau:")
    write_line(pdf, f"1. Tên khối tài liệu giao nộp: Hồ sơ xử lý vi phạm hành chính của {summary.handing_unit}.")
    write_line(pdf, f"2. Thời gian của tài liệu: {summary.years or '....'}.")
    write_line(pdf, "3. Số lượng tài liệu:")
    write_line(pdf, f"    - Tổng số hồ sơ (đơn vị bảo quản): {len(summary.dossiers)};")
    write_line(pdf, f"    - Tổng số tờ: {summary.total_sheets}.")
    write_line(
        pdf,
        "4. Tình trạng tài liệu giao nộp: bản quét đã được kiểm tra số bút lục và bìa hồ sơ; mã SHA-256 của "
        "từng bản quét gốc ghi tại cột Ghi chú của mục lục.",
    )
    write_line(pdf, f"5. Mục lục hồ sơ, tài liệu nộp lưu kèm theo (lần giao nhận số {summary.batch_id}):")
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=(12, 45, 105, 20), text_align="CENTER", line_height=5) as table:
        heading = table.row()
        for title in ("Số TT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Số tờ"):
            heading.cell(title)
        for number, dossier in enumerate(summary.dossiers, start=1):
            row = table.row()
            row.cell(str(number))
            row.cell(dossier.code)
            row.cell(dossier.title, align="LEFT")
            row.cell("" if dossier.sheets is None else str(dossier.sheets))
    pdf.ln(3)
    write_line(pdf, "Biên bản này được lập thành hai bản; mỗi bên giữ một bản.")
    _signatures(pdf, ("ĐẠI DIỆN BÊN GIAO", summary.handing_person), ("ĐẠI DIỆN BÊN NHẬN", summary.receiving_person))
    _anchor(pdf, summary)
    return bytes(pdf.output())


DOCUMENTS = {
    "muc-luc": ("muc-luc-ho-so-nop-luu", table_of_contents_pdf),
    "bien-ban": ("bien-ban-giao-nhan", handover_record_pdf),
}


def document_filename(kind: str, batch_id: int) -> str:
    return f"{DOCUMENTS[kind][0]}-{batch_id}.pdf"


def render(kind: str, summary: BatchSummary) -> bytes:
    """One document by its short name ("muc-luc" or "bien-ban")."""
    return DOCUMENTS[kind][1](summary)
