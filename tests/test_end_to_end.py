"""One scanned dossier end to end through the `hoso` command, as a user runs it: a real worker process, real
Tesseract on three pages of dev-003 (the cover and the two sheets stored out of order)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import corpus_file, pdf_excerpt

pytestmark = pytest.mark.ocr


@pytest.fixture
def hoso_env(tmp_path: Path, empty_database_url: str) -> dict[str, str]:
    """The environment of the instance under test: its HOSO_HOME, and an empty database on the engine under test
    (SQLite, or PostgreSQL with HOSO_TEST_DATABASE_URL: tests/databases.py) for `hoso init` to fill."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOSO_")}
    home = tmp_path / "var"
    return env | {"HOSO_HOME": str(home), "HOSO_WORKERS": "2", "HOSO_DATABASE_URL": empty_database_url}


def hoso(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "archive.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode not in (0, 1):
        raise AssertionError(f"hoso {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def test_ingest_verify_search_a_real_scan(tmp_path: Path, hoso_env: dict[str, str]) -> None:
    excerpt = pdf_excerpt(corpus_file("dev", "dev-003.pdf"), [1, 6, 7], tmp_path / "dev-003-excerpt.pdf")
    assert "canbo" in hoso(hoso_env, "init", "--demo").stdout

    ingested = json.loads(
        hoso(hoso_env, "ingest", str(excerpt), "--case", "148/QĐ-XPHC", "--unit", "QNI-D1", "--wait", "--json").stdout
    )
    assert ingested["status"] == "processed" and ingested["page_count"] == 3

    verified = hoso(hoso_env, "verify", ingested["dossier_id"], "--json")
    report = json.loads(verified.stdout)
    assert verified.returncode == 1 and report["passed"] is False
    assert [page["role"] for page in report["pages"]] == ["cover", "document", "document"]
    assert [page["sheet_number"] for page in report["pages"]] == [None, "6", "5"]
    assert report["cover"]["present"] and report["cover"]["fields"]["sheet_count_declared"] == 8
    codes = {finding["code"]: finding for finding in report["findings"]}
    assert codes["out_of_order"]["pages"] == [3]
    assert codes["gap"]["detail"]["missing"] == ["1", "2", "3", "4"]

    hits = json.loads(hoso(hoso_env, "search", "quyet dinh xu phat", "--json").stdout)
    assert hits["total"] >= 1 and hits["hits"][0]["dossier_id"] == ingested["dossier_id"]
    assert "<mark>" in hits["hits"][0]["snippet_html"]

    again_args = ("ingest", str(excerpt), "--case", "148/QĐ-XPHC", "--unit", "QNI-D1", "--json")
    again = json.loads(hoso(hoso_env, *again_args).stdout)
    assert again["dossier_id"] == ingested["dossier_id"] and again["created"] is False


def test_refused_file_exits_non_zero_with_both_languages(tmp_path: Path, hoso_env: dict[str, str]) -> None:
    hoso(hoso_env, "init", "--demo")
    not_a_pdf = tmp_path / "scan.pdf"
    not_a_pdf.write_text("this is a text file")
    result = hoso(hoso_env, "ingest", str(not_a_pdf), "--case", "1", "--unit", "LCI-D1", "--json", check=False)
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"] == "unsupported_type"
    assert "not a PDF" in result.stderr and "không phải là PDF" in result.stderr
