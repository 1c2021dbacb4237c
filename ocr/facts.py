"""The facts read from one scanned page: the value objects the rest of hoso codes against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Word:
    """One recognised word; `box` is (x0, y0, x1, y1) in pixels of the upright image."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class PageFacts:
    """Everything `ocr` knows about one PDF page.

    `rotation` is how far the stored content was turned clockwise (Tesseract OSD's "Orientation in
    degrees"); `skew` how far the upright content is tilted counter-clockwise, in degrees. The image
    was turned back and straightened before reading, so all boxes refer to the upright, straightened
    image. `dpi` is the scan's own resolution (pixels of the page image per inch of the page), not
    the resolution hoso read it at.
    """

    page: int
    width_px: int
    height_px: int
    dpi: float
    rotation: int
    text: str
    mean_confidence: float | None
    words: tuple[Word, ...]
    blank: bool
    sheet_number: str | None
    sheet_confidence: float | None
    role: str
    doc_type: str | None
    skew: float = 0.0
    # What readers found beyond the fixed fields (document number and date, table of contents entries,
    # the closing certificate's declarations); stored as the page's `facts` JSON.
    details: dict = field(default_factory=dict)
    # The page's grid thumbnail (ocr/thumbnail.py), made from the upright image while it is in memory; not a fact:
    # the worker stores it as a derived object and it is left out of to_dict.
    thumbnail_png: bytes | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """A JSON-able dict; words become [text, confidence, [x0, y0, x1, y1]] lists."""
        data = asdict(self)
        del data["thumbnail_png"]
        data["words"] = [[word.text, word.confidence, list(word.box)] for word in self.words]
        return data
