"""The one place that calls Tesseract: word boxes and confidences, and orientation detection.

Tesseract runs inside the worker process through its C API (libtesseract, the library the `tesseract`
command itself uses), not as a subprocess per call. A subprocess pays for loading the language model
on every call (0.3 s for `vie`, 0.7 s for `vie+eng` on this machine) and for writing and decoding the
image file; a page needs one OCR call, sometimes an orientation check and several small sheet-number
reads, so those costs were about as large as the OCR itself. Each process (and thread) keeps one
engine per language, initialised on first use, and hands it the grayscale pixels directly.

Pages are read in parallel in separate worker processes, so each engine gets one thread
(OMP_THREAD_LIMIT=1, set before the library is loaded); several threads per page would only fight over
the same cores.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image

from ocr.facts import Word

os.environ["OMP_THREAD_LIMIT"] = "1"

# The body text language. `vie` alone read the dev pages better than `vie+eng` (character error rate
# 6.5 % against 6.9 % on 37 pages) and 15 % faster: its model covers the Latin letters English uses.
LANGUAGES = "vie"
LineKey = tuple[int, int, int]


class TesseractError(RuntimeError):
    """libtesseract could not be loaded, initialised or could not read an image."""


def _load_library() -> ctypes.CDLL:
    name = ctypes.util.find_library("tesseract") or "libtesseract.so.5"
    try:
        library = ctypes.CDLL(name)
    except OSError as failure:
        raise TesseractError(f"cannot load libtesseract ({name}): install tesseract-ocr") from failure
    handle, text = ctypes.c_void_p, ctypes.c_char_p
    c_int_p, c_float_p = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float)
    signatures: dict[str, tuple[list, object]] = {
        "TessBaseAPICreate": ([], handle),
        "TessBaseAPIInit3": ([handle, text, text], ctypes.c_int),
        "TessBaseAPISetPageSegMode": ([handle, ctypes.c_int], None),
        "TessBaseAPISetVariable": ([handle, text, text], ctypes.c_int),
        "TessBaseAPISetImage": (
            [handle, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int],
            None,
        ),
        "TessBaseAPISetSourceResolution": ([handle, ctypes.c_int], None),
        "TessBaseAPIRecognize": ([handle, ctypes.c_void_p], ctypes.c_int),
        # Returned as a raw pointer so that it can be released with TessDeleteText.
        "TessBaseAPIGetTsvText": ([handle, ctypes.c_int], ctypes.c_void_p),
        "TessDeleteText": ([ctypes.c_void_p], None),
        "TessBaseAPIDetectOrientationScript": (
            [handle, c_int_p, c_float_p, ctypes.POINTER(ctypes.c_char_p), c_float_p],
            ctypes.c_int,
        ),
        "TessBaseAPIClear": ([handle], None),
        "TessBaseAPIEnd": ([handle], None),
        "TessBaseAPIDelete": ([handle], None),
    }
    for function, (arguments, result) in signatures.items():
        getattr(library, function).argtypes = arguments
        getattr(library, function).restype = result
    return library


_library: ctypes.CDLL | None = None
_engines = threading.local()


def _parse_config(config: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """`--psm N` and `-c name=value` options, as the `tesseract` command takes them."""
    psm, variables = 3, []
    options = iter(config.split())
    for option in options:
        if option == "--psm":
            psm = int(next(options))
        elif option == "-c":
            name, _, value = next(options).partition("=")
            variables.append((name, value))
        else:
            raise ValueError(f"unsupported Tesseract option {option!r} in {config!r}")
    return psm, tuple(variables)


def _engine(lang: str, variables: tuple[tuple[str, str], ...] = ()) -> ctypes.c_void_p:
    """This thread's engine for `lang` with `variables` set, created on first use.

    An engine must not be shared between threads, and variables stay set on an engine, so each
    (language, variables) pair has its own: hoso uses three or four.
    """
    global _library
    if _library is None:
        _library = _load_library()
    engines: dict[tuple, ctypes.c_void_p] = _engines.__dict__.setdefault("by_setting", {})
    key = (os.getpid(), lang, variables)  # a forked child must not use its parent's engine
    if key not in engines:
        engine = _library.TessBaseAPICreate()
        if _library.TessBaseAPIInit3(engine, None, lang.encode()) != 0:
            raise TesseractError(f"cannot initialise Tesseract for language {lang!r}: is its traineddata installed?")
        for name, value in variables:
            if not _library.TessBaseAPISetVariable(engine, name.encode(), value.encode()):
                raise TesseractError(f"Tesseract has no variable {name!r}")
        engines[key] = engine
        atexit.register(_end, engine)
    return engines[key]


def _end(engine: ctypes.c_void_p) -> None:
    """Release an engine at exit (Tesseract warns about leaked models otherwise)."""
    if _library is not None:
        _library.TessBaseAPIEnd(engine)
        _library.TessBaseAPIDelete(engine)


@contextmanager
def _image_set(engine: ctypes.c_void_p, image: Image.Image, dpi: float | None) -> Iterator[ctypes.CDLL]:
    """Hand the grayscale pixels of `image` to `engine` for the duration of the block."""
    assert _library is not None
    pixels = np.ascontiguousarray(np.asarray(image.convert("L"), dtype=np.uint8))
    height, width = pixels.shape
    _library.TessBaseAPISetImage(engine, pixels.ctypes.data, width, height, 1, width)
    if dpi:
        _library.TessBaseAPISetSourceResolution(engine, round(dpi))
    try:
        yield _library
    finally:
        _library.TessBaseAPIClear(engine)  # Tesseract keeps no pointer into `pixels` after this


def _parse_tsv(tsv: str) -> list[tuple[Word, LineKey]]:
    words = []
    for row in tsv.splitlines():
        fields = row.split("\t")
        if len(fields) != 12 or fields[0] != "5":
            continue
        text = unicodedata.normalize("NFC", fields[11].strip())
        confidence = float(fields[10])
        if not text or confidence < 0:
            continue
        left, top, width, height = (int(value) for value in fields[6:10])
        line_key = (int(fields[2]), int(fields[3]), int(fields[4]))
        words.append((Word(text, round(confidence / 100.0, 3), (left, top, left + width, top + height)), line_key))
    return words


def read_words(
    image: Image.Image, config: str = "--psm 3", lang: str = LANGUAGES, dpi: float | None = None
) -> list[tuple[Word, LineKey]]:
    """Recognised words with their (block, paragraph, line) key, in Tesseract's reading order.

    `config` takes the `tesseract` command's `--psm N` and `-c name=value` options; `dpi` tells
    Tesseract the scan resolution (without it, it guesses from the size of the text).
    """
    psm, variables = _parse_config(config)
    engine = _engine(lang, variables)
    assert _library is not None
    _library.TessBaseAPISetPageSegMode(engine, psm)
    with _image_set(engine, image, dpi) as library:
        if library.TessBaseAPIRecognize(engine, None) != 0:
            raise TesseractError("Tesseract could not read the image")
        pointer = library.TessBaseAPIGetTsvText(engine, 0)
        try:
            tsv = ctypes.string_at(pointer).decode("utf-8", errors="replace") if pointer else ""
        finally:
            if pointer:
                library.TessDeleteText(pointer)
    return _parse_tsv(tsv)


def detect_orientation(image: Image.Image, dpi: float | None = None) -> tuple[int, float] | None:
    """Tesseract OSD: (orientation in degrees, confidence), or None when OSD cannot decide.

    The orientation is how far the content is turned clockwise, as `tesseract --psm 0` reports it.
    """
    engine = _engine("osd")
    degrees, confidence, script_confidence = ctypes.c_int(0), ctypes.c_float(0.0), ctypes.c_float(0.0)
    script = ctypes.c_char_p()
    with _image_set(engine, image, dpi) as library:
        found = library.TessBaseAPIDetectOrientationScript(
            engine,
            ctypes.byref(degrees),
            ctypes.byref(confidence),
            ctypes.byref(script),
            ctypes.byref(script_confidence),
        )
    if not found:
        return None
    return degrees.value % 360, round(float(confidence.value), 2)
