"""Train the sheet-number glyph classifier and write ocr/digits_model.npz.

Usage: python -m ocr.train_digits [--dossiers DIR ...] [--marks N] [--seed N] [--font-exclude TEXT ...]
       [--out FILE]

The training glyphs are cut by the same `ocr.mark` functions as at reading time, from:
- numbers rendered in every font of this machine that has digits (`fc-list :charset=30-39`), as
  stamps (whole string, worn texture, thick or thin ink) and as handwriting (each glyph turned,
  scaled and shifted on its own), turned as a whole by up to 12 degrees, plain, zero-padded
  ("007", "000012") or with a suffix letter ("12a");
- the handwritten digits bundled with scikit-learn (`load_digits`, 8x8 pixels, scaled up);
- "other": Vietnamese header and body letters (never letters that look like a digit or a suffix:
  O, l, I, S, B, Z, g, q, A-D), dashes, slashes, dots, staple and punch-hole shapes;
- optionally the marks of dossiers made by gen_dossiers.py (`--dossiers`, never the dev corpus):
  each numbered upright page's mark, labelled from the ground truth when it cuts into as many
  glyphs as were printed, and the other blobs of the corner as "other".
Fonts installed for the committed model: see docs/ocr.md. The output is deterministic for a seed
and a set of installed fonts.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sklearn.datasets import load_digits  # type: ignore[import-untyped]
from sklearn.neural_network import MLPClassifier  # type: ignore[import-untyped]

from ocr.digits import CLASSES, MODEL_PATH, OTHER
from ocr.mark import Blob, Corner, find_blobs, find_corner_blobs, glyph_features, split_glyphs
from ocr.raster import render_page

# Letters that never stand for a digit or a suffix: header and body text in the corner.
_OTHER_TEXT = (
    "EFGHJKMNPRTUVWXYĐÂĂÊÔƠƯÀÁẠẢÃẦẤẬẨẪẰẮẶẲẴÈÉẸẺẼỀẾỆỂỄÌÍỊỈĨÒÓỌỎÕỒỐỘỔỖỜỚỢỞỠÙÚỤỦŨỪỨỰỬỮỲÝỴỶỸ"
    "efhkmnprtuvwxyđâăêôơưàáạảãầấậẩẫằắặẳẵèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ"
    "%&#@*+=<>?!"
)
_SUFFIXES = "abcd"
HIDDEN_UNITS = 160


def digit_fonts(exclude: tuple[str, ...] = ()) -> list[str]:
    """Paths of the installed fonts that have all ten digits, except paths containing any of
    `exclude`, sorted for a deterministic run."""
    listing = subprocess.run(
        ["fc-list", ":charset=30-39", "file"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = {line.split(":")[0].strip() for line in listing if line.strip()}
    return sorted(path for path in paths if not any(part in path for part in exclude))


@lru_cache(maxsize=4096)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _render_text(text: str, font_path: str, size: int, hand: bool, rng: random.Random) -> np.ndarray:
    """Anti-aliased ink (0..1) of `text`; handwriting turns, scales and shifts each glyph."""
    font = _font(font_path, size)
    canvas = Image.new("L", (size * (len(text) + 2) * 2, size * 4), 0)
    draw = ImageDraw.Draw(canvas)
    if not hand:
        draw.text((size, size), text, font=font, fill=255, stroke_width=rng.choice([0, 0, 0, max(1, size // 30)]))
    else:
        x = float(size)
        for char in text:
            glyph_font = _font(font_path, max(8, int(size * rng.uniform(0.88, 1.12))))
            glyph = Image.new("L", (size * 3, size * 3), 0)
            ImageDraw.Draw(glyph).text((size, size), char, font=glyph_font, fill=255, stroke_width=max(0, size // 30))
            glyph = glyph.rotate(rng.uniform(-10, 10), resample=Image.Resampling.BICUBIC)
            canvas.paste(255, (int(x - size), int(rng.uniform(-0.08, 0.08) * size)), glyph)
            x += font.getlength(char) + rng.uniform(-0.03, 0.18) * size
    canvas = canvas.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=True)
    box = canvas.getbbox()
    if box is None:
        return np.zeros((1, 1), np.float32)
    return np.asarray(canvas.crop(box), np.float32) / 255.0


def _scan(ink: np.ndarray, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """Binary ink as a scan shows it: worn texture, blur, threshold (thin or bold), specks."""
    height, width = ink.shape
    pad = max(4, height // 4)
    ink = np.pad(ink, pad)
    if rng.random() < 0.5:
        # Worn stamp: ink missing in blotches.
        wear = cv2.GaussianBlur(nprng.random(ink.shape).astype(np.float32), (0, 0), rng.uniform(0.8, 2.5))
        wear = (wear - wear.min()) / max(1e-6, float(wear.max() - wear.min()))
        ink = ink * np.clip(wear * rng.uniform(1.2, 2.5) + rng.uniform(-0.2, 0.3), 0, 1)
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.4, 1.6))
    noisy = ink + nprng.normal(0, rng.uniform(0.0, 0.12), ink.shape).astype(np.float32)
    mask: np.ndarray = (noisy > rng.uniform(0.25, 0.65)).astype(np.uint8)
    if rng.random() < 0.3:
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return mask
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _number_label(rng: random.Random) -> tuple[str, str]:
    """(printed text, the classes of its glyphs): plain, zero-padded or suffixed sheet numbers."""
    number = rng.choice([rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 999)])
    width = rng.choice([0, 0, 0, 2, 3, 6])
    printed = f"{number:0{width}d}" if width else str(number)
    if rng.random() < 0.2:
        printed += rng.choice(_SUFFIXES + "aa")
    return printed, printed


def _other_label(rng: random.Random) -> tuple[str, str]:
    """A word of letters that are never part of a number, all labelled OTHER."""
    text = "".join(rng.choice(_OTHER_TEXT) for _ in range(rng.randint(1, 4)))
    return text, OTHER * len(text)


def _samples_from_text(
    label: tuple[str, str], font_path: str, rng: random.Random, nprng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    text, classes = label
    hand = rng.random() < 0.45
    size = rng.randint(24, 110)
    ink = _scan(_render_text(text, font_path, size, hand, rng), rng, nprng)
    glyphs = split_glyphs(ink)
    if len(glyphs) != len(classes):
        return np.zeros((0, 0), np.float32), []
    return glyph_features(glyphs), list(classes)


def _shape_samples(count: int, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """Marks that are not glyphs: dashes, slashes (at least 35 degrees off upright, so never a "1"),
    dots, staple brackets, punch holes."""
    rows = []
    for _ in range(count):
        size = rng.randint(30, 100)
        canvas = np.zeros((size, size), np.uint8)
        thickness = rng.randint(2, max(3, size // 8))
        kind = rng.randrange(4)
        if kind == 0:
            y = rng.randint(size // 3, 2 * size // 3)
            cv2.line(canvas, (2, y), (size - 3, y + rng.randint(-size // 6, size // 6)), 1, thickness)
        elif kind == 1:
            rise = rng.randint(size // 4, int(size * 0.7))
            cv2.line(canvas, (2, size // 2 + rise // 2), (size - 3, size // 2 - rise // 2), 1, thickness)
        elif kind == 2:
            cv2.circle(canvas, (size // 2, size // 2), size // rng.randint(3, 6), 1, -1)
        else:
            cv2.rectangle(canvas, (size // 4, 2), (3 * size // 4, size - 3), 1, thickness)
            canvas[:, size // 2 :] = 0
        glyphs = split_glyphs(_scan(canvas.astype(np.float32), rng, nprng))
        if glyphs:
            rows.append(glyph_features(glyphs))
    return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


def _bundled_handwriting(
    rng: random.Random, nprng: np.random.Generator, limit: int | None
) -> tuple[np.ndarray, list[str]]:
    """scikit-learn's 8x8 handwritten digits (the first `limit`), scaled up, turned a little, twice."""
    digits = load_digits()
    rows, labels = [], []
    for image, target in zip(digits.images[:limit], digits.target[:limit], strict=True):
        for _ in range(2):
            big = cv2.resize((image / 16.0).astype(np.float32), (40, 40), interpolation=cv2.INTER_CUBIC)
            angle = rng.uniform(-10, 10)
            turn = cv2.getRotationMatrix2D((20, 20), angle, 1.0)
            big = cv2.warpAffine(big, turn, (40, 40))
            glyphs = split_glyphs(_scan(np.clip(big, 0, 1), rng, nprng))
            if len(glyphs) == 1:
                rows.append(glyph_features(glyphs))
                labels.append(str(target))
    return np.concatenate(rows), labels


def _dossier_samples(folder: Path) -> tuple[np.ndarray, list[str]]:
    """Glyphs of generated dossiers: the mark labelled from the ground truth, other blobs OTHER."""
    rows: list[np.ndarray] = []
    labels: list[str] = []
    for truth_path in sorted(folder.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        for page in truth["pages"]:
            if page["role"] in ("back_blank",):
                continue
            image = render_page(folder / truth["pdf"], page["page_index"] + 1, 300).image
            # Turned upright as ocr.orientation.upright does (content stored turned clockwise).
            gray = np.asarray(image.rotate(page["rotation"], expand=True).convert("L"))
            printed = page["sheet_number_printed"]
            _label_blobs(find_blobs(gray), printed, upright_box(page) if printed else None, rows, labels)
    return (np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)), labels


def _crop_samples(path: Path) -> tuple[np.ndarray, list[str]]:
    """Like `_dossier_samples`, from corners cached by `bench/sheet_crops.py build` (no rendering)."""
    rows: list[np.ndarray] = []
    labels: list[str] = []
    for item in pickle.loads(path.read_bytes()):
        corner = Corner(gray=item["gray"], left=item["left"], px_per_mm=item["px_per_mm"])
        _label_blobs(find_corner_blobs(corner), item["printed"], item["mark_box"], rows, labels)
    return (np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)), labels


def _label_blobs(
    blobs: list[Blob],
    printed: str | None,
    mark_box: tuple[int, int, int, int] | None,
    rows: list[np.ndarray],
    labels: list[str],
) -> None:
    """Append the glyphs of a corner's blobs: the mark's labelled from what was printed when it cuts into
    as many glyphs as were printed (else left out), every other blob's as OTHER."""
    for blob in blobs:
        glyphs = split_glyphs(blob.ink)
        if not glyphs:
            continue
        if printed and mark_box is not None and _overlaps(blob, mark_box):
            if len(glyphs) == len(printed):
                rows.append(glyph_features(glyphs))
                labels.extend(printed.lower())
        else:
            rows.append(glyph_features(glyphs))
            labels.extend(OTHER * len(glyphs))


def upright_box(page: dict) -> tuple[int, int, int, int]:
    """The ground-truth mark box turned with the page to upright (counter-clockwise by rotation)."""
    x0, y0, x1, y1 = page["sheet_number_bbox"]
    width, height = page["width_px"], page["height_px"]
    rotation = page["rotation"] % 360
    if rotation == 90:
        return y0, width - x1, y1, width - x0
    if rotation == 180:
        return width - x1, height - y1, width - x0, height - y0
    if rotation == 270:
        return height - y1, x0, height - y0, x1
    return x0, y0, x1, y1


def _overlaps(blob: Blob, box: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = blob.box
    return min(x1, box[2]) > max(x0, box[0]) and min(y1, box[3]) > max(y0, box[1])


def build_training_set(
    marks: int,
    dossiers: list[Path],
    seed: int,
    bundled_limit: int | None = None,
    font_exclude: tuple[str, ...] = (),
    crops: tuple[Path, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and class indices of every training glyph."""
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    fonts = digit_fonts(font_exclude)
    parts, labels = [], []
    for index in range(marks):
        font_path = fonts[index % len(fonts)]
        label = _number_label(rng) if index % 3 else _other_label(rng)
        try:
            features, classes = _samples_from_text(label, font_path, rng, nprng)
        except OSError:
            continue
        if classes:
            parts.append(features)
            labels.extend(classes)
    shapes = _shape_samples(marks // 10, rng, nprng)
    parts.append(shapes)
    labels.extend(OTHER * len(shapes))
    handwriting, digit_labels = _bundled_handwriting(rng, nprng, bundled_limit)
    parts.append(handwriting)
    labels.extend(digit_labels)
    for features, classes in [*map(_dossier_samples, dossiers), *map(_crop_samples, crops)]:
        if classes:
            parts.append(features)
            labels.extend(classes)
    targets = np.array([CLASSES.index(label) for label in labels])
    return np.concatenate(parts).astype(np.float32), targets


def train(features: np.ndarray, targets: np.ndarray, seed: int) -> dict[str, Any]:
    """Fit the perceptron; return the arrays `ocr.digits` evaluates (float16 to keep the file small)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-3
    classifier = MLPClassifier(
        hidden_layer_sizes=(HIDDEN_UNITS,),
        alpha=1e-4,
        batch_size=256,
        max_iter=40,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=seed,
    )
    classifier.fit((features - mean) / scale, targets)
    # Columns in CLASSES order even if a class had no sample (its bias stays very low).
    weights_1 = np.zeros((HIDDEN_UNITS, len(CLASSES)), np.float32)
    bias_1 = np.full(len(CLASSES), -30.0, np.float32)
    weights_1[:, classifier.classes_] = classifier.coefs_[1]
    bias_1[classifier.classes_] = classifier.intercepts_[1]
    return {
        "mean": mean.astype(np.float16),
        "scale": scale.astype(np.float16),
        "weights_0": classifier.coefs_[0].astype(np.float16),
        "bias_0": classifier.intercepts_[0].astype(np.float16),
        "weights_1": weights_1.astype(np.float16),
        "bias_1": bias_1.astype(np.float16),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=int, default=24000, help="rendered numbers and words")
    parser.add_argument("--dossiers", type=Path, action="append", default=[], help="folder of generated dossiers")
    parser.add_argument(
        "--crops", type=Path, action="append", default=[], help="corners cached by bench/sheet_crops.py build"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--font-exclude", action="append", default=[], help="skip fonts whose path contains this (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    features, targets = build_training_set(
        args.marks, args.dossiers, args.seed, font_exclude=tuple(args.font_exclude), crops=tuple(args.crops)
    )
    counts = np.bincount(targets, minlength=len(CLASSES))
    print(f"{len(targets)} glyphs: " + " ".join(f"{name}={count}" for name, count in zip(CLASSES, counts, strict=True)))
    model = train(features, targets, args.seed)
    np.savez_compressed(args.out, **model)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
