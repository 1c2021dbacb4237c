"""normalise_sheet_number: what a sheet number may look like and what it becomes."""

from __future__ import annotations

import pytest

from ocr.sheet_number import normalise_sheet_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("007", "7"),
        ("06a", "6a"),
        ("12A", "12a"),
        ("1", "1"),
        (" 23 ", "23"),
        ("000012", "12"),
        ("1O", "10"),
        ("l2", "12"),
        ("6 a", "6a"),
    ],
)
def test_sheet_numbers(raw: str, expected: str) -> None:
    assert normalise_sheet_number(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "000", "abc", "a6", "12ab", "1234567", "CỘNG", "6-7", "/"])
def test_not_sheet_numbers(raw: str) -> None:
    assert normalise_sheet_number(raw) is None
