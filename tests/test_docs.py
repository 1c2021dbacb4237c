"""Every setting and every command is documented in README: a new one cannot land undocumented."""

from __future__ import annotations

import pytest

from archive.cli import main
from archive.config import SETTINGS
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_setting_is_in_readme(setting: str) -> None:
    assert f"`{setting}`" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_command_is_in_readme(command: str) -> None:
    assert f"`hoso {command}" in README


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "run"], ["make", "test"]]
