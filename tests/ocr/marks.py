"""Synthetic upright pages for the sheet-number tests: a national header, a stamped or written mark
in the top-right corner, and the numbers that must not be taken for one."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

DPI = 200
PX_PER_MM = DPI / 25.4
HEADER = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def font_path(pattern: str) -> str:
    """The file of an installed font matching the fontconfig `pattern`, or a skip."""
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("fontconfig is not installed")
    if not found.stdout.endswith((".ttf", ".otf")):
        pytest.skip(f"no font for {pattern}")
    return found.stdout


def mm(value: float) -> int:
    return round(value * PX_PER_MM)


def blank_page_with_header() -> Image.Image:
    """An A4 page at 200 dpi with the two-column header and a few body lines, no sheet number."""
    page = Image.new("RGB", (mm(210), mm(297)), (250, 250, 246))
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(font_path("DejaVu Serif:bold"), mm(4.6))
    regular = ImageFont.truetype(font_path("DejaVu Serif"), mm(4.6))
    draw.text((mm(20), mm(22)), "CHI CỤC QUẢN LÝ THỊ TRƯỜNG", font=bold, fill=(0, 0, 0))
    draw.text((mm(100), mm(22)), HEADER, font=bold, fill=(0, 0, 0))
    draw.text((mm(120), mm(29)), "Độc lập - Tự do - Hạnh phúc", font=bold, fill=(0, 0, 0))
    draw.text((mm(115), mm(40)), "Lào Cai, ngày 21 tháng 3 năm 2022", font=regular, fill=(0, 0, 0))
    for line in range(12):
        draw.text(
            (mm(25), mm(60 + 9 * line)),
            f"Điều {line + 1}. Tạm giữ 120 thùng hàng hóa theo 194/QĐ-KT",
            font=regular,
            fill=(0, 0, 0),
        )
    return page


def stamp_mark(
    page: Image.Image,
    text: str,
    font: str,
    height_mm: float,
    right_mm: float,
    top_mm: float,
    angle: float,
    colour: tuple[int, int, int],
) -> Image.Image:
    """`page` with `text` stamped so that its right edge is `right_mm` from the paper's right edge."""
    size = mm(height_mm / 0.72)
    face = ImageFont.truetype(font, size)
    mark = Image.new("L", (size * (len(text) + 2), size * 2), 0)
    ImageDraw.Draw(mark).text((size // 2, size // 4), text, font=face, fill=255)
    mark = mark.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    mark = mark.crop(mark.getbbox())
    page = page.copy()
    page.paste(Image.new("RGB", mark.size, colour), (page.width - mm(right_mm) - mark.width, mm(top_mm)), mark)
    return page
