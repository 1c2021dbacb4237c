"""The glyph classifier for sheet numbers: digits 0-9, suffix letters a-d, and "other".

A small multi-layer perceptron trained by `ocr/train_digits.py` on glyphs cut (by `ocr.mark`) from
numbers rendered in every font of the training machine with stamp and handwriting distortions, on
the handwritten digits bundled with scikit-learn, and on glyphs of generated dossiers. "other"
(letters of header text, specks, strokes, staples) lets a corner without a number read as nothing.
The weights are stored in `digits_model.npz` beside this file and evaluated here with numpy, so
reading does not need scikit-learn.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ocr.mark import FEATURE_LENGTH

# Class labels in the order of the model's outputs; OTHER is anything that is not part of a number.
OTHER = "?"
CLASSES = "0123456789abcd" + OTHER
MODEL_PATH = Path(__file__).with_name("digits_model.npz")
# Arrays the model file holds: feature standardisation, then (weights, bias) per layer.
MODEL_KEYS = ("mean", "scale", "weights_0", "bias_0", "weights_1", "bias_1")


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> dict[str, np.ndarray]:
    """The model's arrays as float32, checked against the feature length and class count."""
    with np.load(path) as stored:
        model = {key: stored[key].astype(np.float32) for key in MODEL_KEYS}
    if model["mean"].shape != (FEATURE_LENGTH,) or model["bias_1"].shape != (len(CLASSES),):
        raise ValueError(f"{path} does not fit {FEATURE_LENGTH} features and {len(CLASSES)} classes")
    return model


def class_probabilities(features: np.ndarray, path: Path = MODEL_PATH) -> np.ndarray:
    """Rows of class probabilities (columns in CLASSES order) for rows of glyph features."""
    model = load_model(path)
    hidden = np.maximum(0.0, ((features - model["mean"]) / model["scale"]) @ model["weights_0"] + model["bias_0"])
    logits = hidden @ model["weights_1"] + model["bias_1"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)
