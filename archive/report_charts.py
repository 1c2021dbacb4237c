"""Geometry of the report charts (per-team bars, 12-month trend), drawn as inline SVG by the templates.

Charts are computed here in plain numbers and written out by Jinja, so there is no JavaScript and no build
step, and every label goes through the template's autoescaping like any other text. Each chart page also
shows the same figures as a table, the text alternative for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.report_periods import Period

WIDTH = 720
LABEL_WIDTH = 260  # room for a team's name left of its bar
BAR_HEIGHT = 22
BAR_GAP = 8
VALUE_ROOM = 70  # room right of the longest bar for its number
TREND_HEIGHT = 240
TREND_MARGIN = 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    length: float

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT * 0.7


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


@dataclass(frozen=True)
class TrendPoint:
    label: str
    value: int
    x: float
    y: float


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    margin: int
    points: list[TrendPoint]
    maximum: int

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)

    @property
    def baseline(self) -> float:
        return self.height - self.margin


def bar_chart(items: list[tuple[str, int]]) -> BarChart:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    longest = WIDTH - LABEL_WIDTH - VALUE_ROOM
    top = max((value for _, value in items), default=0) or 1
    bars = [
        Bar(label, value, BAR_GAP + index * (BAR_HEIGHT + BAR_GAP), longest * value / top)
        for index, (label, value) in enumerate(items)
    ]
    return BarChart(WIDTH, BAR_GAP + len(items) * (BAR_HEIGHT + BAR_GAP), LABEL_WIDTH, BAR_HEIGHT, bars)


def trend_chart(points: list[tuple[Period, int]]) -> TrendChart:
    """A line over the months, left to right, scaled to the largest month; labels MM/YY under each point."""
    top = max((value for _, value in points), default=0) or 1
    span = WIDTH - 2 * TREND_MARGIN
    step = span / max(len(points) - 1, 1)
    plotted = [
        TrendPoint(
            f"{month.number:02d}/{month.year % 100:02d}",
            value,
            TREND_MARGIN + index * step,
            TREND_HEIGHT - TREND_MARGIN - (TREND_HEIGHT - 2 * TREND_MARGIN) * value / top,
        )
        for index, (month, value) in enumerate(points)
    ]
    return TrendChart(WIDTH, TREND_HEIGHT, TREND_MARGIN, plotted, top)
