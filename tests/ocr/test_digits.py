"""The glyph classifier: the committed model, what the training script writes, and what it reads."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.digits import CLASSES, MODEL_KEYS, MODEL_PATH, OTHER, class_probabilities, load_model
from ocr.mark import FEATURE_LENGTH, corner_of, glyph_features, split_glyphs
from ocr.train_digits import _crop_samples, build_training_set, train
from tests.ocr.marks import blank_page_with_header, font_path, stamp_mark


def _ink(text: str, font: str, size: int = 60) -> np.ndarray:
    face = ImageFont.truetype(font, size)
    canvas = Image.new("L", (size * (len(text) + 1), size * 2), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 4), text, font=face, fill=255)
    canvas = canvas.crop(canvas.getbbox())
    return (np.asarray(canvas) > 128).astype(np.uint8)


def _read(text: str, font: str) -> str:
    glyphs = split_glyphs(_ink(text, font))
    probabilities = class_probabilities(glyph_features(glyphs))
    return "".join(CLASSES[index] for index in probabilities.argmax(axis=1))


def test_committed_model_is_small_and_fits_the_features() -> None:
    assert MODEL_PATH.stat().st_size < 400_000
    model = load_model()
    assert set(model) == set(MODEL_KEYS)
    assert model["weights_0"].shape[0] == FEATURE_LENGTH
    assert model["weights_1"].shape[1] == len(CLASSES)


def test_training_script_writes_the_format_the_reader_loads(tmp_path: Path) -> None:
    features, targets = build_training_set(marks=60, dossiers=[], seed=1, bundled_limit=100)
    assert features.shape[1] == FEATURE_LENGTH and len(features) == len(targets)
    model = train(features, targets, seed=1)
    path = tmp_path / "model.npz"
    np.savez_compressed(path, **model)
    committed = load_model()
    fresh = load_model(path)
    assert {key: value.shape for key, value in fresh.items()} == {key: value.shape for key, value in committed.items()}
    probabilities = class_probabilities(features[:5], path)
    assert probabilities.shape == (5, len(CLASSES))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


def test_digits_of_a_stamp_font_are_read() -> None:
    assert _read("0123456789", font_path("DejaVu Sans Mono:bold")) == "0123456789"


def test_suffix_letter_is_told_from_digits() -> None:
    read = _read("12a", font_path("DejaVu Sans:bold"))
    assert read == "12a"


def test_header_letters_are_other() -> None:
    read = _read("NGHĨA", font_path("DejaVu Serif:bold"))
    assert OTHER in read


def test_cached_corners_are_labelled_from_their_truth(tmp_path: Path) -> None:
    page = stamp_mark(blank_page_with_header(), "12", font_path("DejaVu Sans:bold"), 5.5, 15, 9, 0, (0, 0, 0))
    corner = corner_of(np.asarray(page.convert("L")))
    whole_corner = (corner.left, 0, page.width, corner.gray.shape[0])
    cached = {"gray": corner.gray, "left": corner.left, "px_per_mm": corner.px_per_mm}
    path = tmp_path / "crops.pickle"
    path.write_bytes(pickle.dumps([{**cached, "printed": "12", "mark_box": whole_corner}]))
    features, labels = _crop_samples(path)
    assert labels == ["1", "2"] and features.shape == (2, FEATURE_LENGTH)
    # The same corner on a page that carries no number: its blobs teach "other".
    path.write_bytes(pickle.dumps([{**cached, "printed": None, "mark_box": None}]))
    assert _crop_samples(path)[1] == [OTHER, OTHER]
