"""A ``Report`` as a terminal table, CSV, XLSX, JSON or PDF: presentation only, the figures come from the report.

Spreadsheets keep numbers as numbers (money as whole đồng with a thousands format), so totals can be
re-added in Excel; CSV uses the stable English column keys for scripts; the PDF embeds the DejaVu font that
the handover documents use, found the same way.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Font

from archive.handover_documents import FONT, VIETNAM_TIME, new_pdf, write_line
from archive.reports import Report, ReportRow

FORMATS = ("table", "csv", "xlsx", "json", "pdf")
MONEY_FORMAT = "#,##0"
TABLE_HEADER = ("Mã đơn vị", "Đơn vị")
TOTAL_LABEL = "Tổng cộng"


def row_label(row: ReportRow) -> str:
    """What a reader sees in the unit column: subtotals and a unit's own records are named as such."""
    if row.row_type == "subtotal":
        return f"Cộng {row.unit_name}"
    if row.row_type == "direct":
        return f"{row.unit_name} (trực tiếp)"
    return row.unit_name


def grouped(number: int) -> str:
    """12345678 -> "12.345.678", the Vietnamese thousands separator."""
    return f"{number:,}".replace(",", ".")


def local_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")


def header_lines(report: Report) -> list[tuple[str, str]]:
    return [
        ("Đơn vị", f"{report.unit_name} ({report.unit_code})"),
        ("Kỳ báo cáo", report.period.label_vi),
        ("Hạn nộp", report.due_date.strftime("%d/%m/%Y")),
        ("Thời điểm lập", f"{local_time(report.generated_at)} (giờ Việt Nam)"),
    ]


def _body(report: Report) -> list[tuple[str, str, list[int]]]:
    """Code, label and values of every line, the total last."""
    keys = [column.key for column in report.columns]
    lines = [(row.unit_code, row_label(row), [row.values[key] for key in keys]) for row in report.rows]
    return lines + [(report.unit_code, TOTAL_LABEL, [report.total[key] for key in keys])]


def as_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = [column.key for column in report.columns]
    writer.writerow(["unit_code", "unit_name", "row_type", *keys])
    for row in report.rows:
        writer.writerow([row.unit_code, row.unit_name, row.row_type, *(row.values[key] for key in keys)])
    writer.writerow([report.unit_code, report.unit_name, "total", *(report.total[key] for key in keys)])
    return out.getvalue()


def as_table(report: Report) -> str:
    """Aligned columns for a terminal: labels left, numbers right."""
    header = [*TABLE_HEADER, *(column.label_vi for column in report.columns)]
    lines = [[code, label, *(grouped(value) for value in values)] for code, label, values in _body(report)]
    widths = [max(len(line[index]) for line in [header, *lines]) for index in range(len(header))]

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    title = [f"{report.title_vi}: {report.period.label_vi}"] + [
        f"{name}: {value}" for name, value in header_lines(report)
    ]
    rule = "-" * len(render(header))
    return "\n".join(
        [*title, "", render(header), rule, *(render(line) for line in lines[:-1]), rule, render(lines[-1])]
    )


def as_xlsx(report: Report) -> bytes:
    """One sheet: the title, the header block (unit, period, due date, generation time), the table, the total."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = report.period.label
    sheet.append([f"{report.title_vi}: {report.period.label_vi}"])
    sheet["A1"].font = Font(bold=True, size=13)
    for name, value in header_lines(report):
        sheet.append([name, value])
    sheet.append([])
    sheet.append([*TABLE_HEADER, *(column.label_vi for column in report.columns)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for code, label, values in _body(report):
        sheet.append([code, label, *values])
        for column, cell in zip(report.columns, sheet[sheet.max_row][2:], strict=True):
            if column.money:
                cell.number_format = MONEY_FORMAT
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 44
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_pdf(report: Report) -> bytes:
    """A4 landscape: title, header block, the table with the total line in bold."""
    pdf = new_pdf("L")
    write_line(pdf, f"{report.title_vi.upper()}", size=14, style="B", align="C", height=8)
    write_line(pdf, report.period.label_vi, size=11, align="C")
    pdf.ln(3)
    for name, value in header_lines(report):
        write_line(pdf, f"{name}: {value}", size=10, height=5)
    pdf.ln(3)
    label_width = 75.0
    value_width = (pdf.w - pdf.l_margin - pdf.r_margin - label_width) / len(report.columns)
    pdf.set_font(FONT, "B", 8)
    top = pdf.get_y()
    headers = ["Đơn vị", *(column.label_vi for column in report.columns)]
    for index, text in enumerate(headers):
        pdf.set_xy(pdf.l_margin + (0 if index == 0 else label_width + (index - 1) * value_width), top)
        pdf.multi_cell(label_width if index == 0 else value_width, 4, text, border=0, align="C")
    pdf.set_y(top + 14)
    body = _body(report)
    for position, (code, label, values) in enumerate(body):
        pdf.set_font(FONT, "B" if position == len(body) - 1 else "", 8)
        pdf.cell(label_width, 6, f"{code} · {label}"[:56], border=1)
        for number in values:
            pdf.cell(value_width, 6, grouped(number), border=1, align="R")
        pdf.cell(0, 6, "", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt``; text formats as UTF-8."""
    if fmt == "xlsx":
        return as_xlsx(report)
    if fmt == "pdf":
        return as_pdf(report)
    text = {"json": as_json, "csv": as_csv, "table": as_table}[fmt](report)
    return text.encode("utf-8")
