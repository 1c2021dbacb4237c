"""OCR words with boxes made from a dev page's ground truth, for tests of what is built from Page.words.

The ground truth has lines with boxes in the stored image; OCR stores words with boxes in the upright image.
Each line's box is turned upright and shared out among its words by their length (a word and its space).
"""

from __future__ import annotations

from ocr.facts import Word


def upright_size(page_truth: dict) -> tuple[int, int]:
    """Width and height of the page image once turned upright."""
    width, height = page_truth["width_px"], page_truth["height_px"]
    return (height, width) if page_truth["rotation"] in (90, 270) else (width, height)


def _stored_to_upright(x: float, y: float, width: int, height: int, rotation: int) -> tuple[float, float]:
    """A point of the stored image (content turned clockwise by ``rotation``) in the upright image."""
    if rotation == 90:
        return y, width - x
    if rotation == 180:
        return width - x, height - y
    if rotation == 270:
        return height - y, x
    return x, y


def words_from_truth(page_truth: dict) -> list[list]:
    """[text, confidence, [x0, y0, x1, y1]] per word, upright pixels, in the ground truth's reading order."""
    width, height, rotation = page_truth["width_px"], page_truth["height_px"], page_truth["rotation"]
    words: list[list] = []
    for line in page_truth["lines"]:
        x0, y0, x1, y1 = line["bbox"]
        corners = [_stored_to_upright(x, y, width, height, rotation) for x, y in ((x0, y0), (x1, y1))]
        left, right = sorted(x for x, _y in corners)
        top, bottom = sorted(y for _x, y in corners)
        tokens = line["text"].split()
        total = sum(len(token) + 1 for token in tokens)
        position = 0
        for token in tokens:
            start = left + (right - left) * position / total
            position += len(token) + 1
            end = left + (right - left) * (position - 1) / total
            words.append([token, 0.9, [round(start), round(top), round(end), round(bottom)]])
    return words


def facts_words(page_truth: dict) -> tuple[Word, ...]:
    """The same words as PageFacts carries them."""
    return tuple(Word(text, confidence, tuple(box)) for text, confidence, box in words_from_truth(page_truth))
