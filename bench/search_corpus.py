"""Synthetic but realistic Vietnamese case-file pages and a query mix for `bench/search_latency.py`.

A million pages cannot be scanned for a benchmark, so they are written: each synthetic dossier copies the
document structure of one dev-corpus dossier (its pages' roles and document types, in order) and each page
starts from the ground-truth text of the page it copies, with the dev case's business, tax code,
representative and address replaced by the synthetic case's, long numbers redrawn, and topped up to
about 300 words with lines of the same document type from other dossiers and with sentences built from
`gen_dossiers.py`'s pools (violations, goods, legal bases). Units follow hoso's tree (`VN/LCI/LCI-D1`),
tax codes the MST formats (10 digits, branches `NNNNNNNNNN-NNN`), and a third of the businesses recur in
several dossiers, as repeat offenders do. Everything is drawn from one seed, so a run is repeatable.

Stdlib only apart from `gen_dossiers.py` (imported from the corpus folder for its word pools), so the
pages are written once, as JSON lines, and every system under test reads the same file.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
# Province codes as hoso's unit tree names them; six of them have names and streets in gen_dossiers.
PROVINCE_CODES = (
    "LCI", "QNI", "NDI", "LSO", "HYE", "THO", "HNO", "HCM", "DNA", "HPG",
    "CTO", "NAN", "HTI", "BNI", "BGI", "TNG", "YBA", "HBI", "SLA", "DBI",
)  # fmt: skip
TEAMS_PER_PROVINCE = 6
HANDOVER_STATES = (("draft", 3), ("submitted", 1), ("accepted", 6), ("rejected", 0.3), ("superseded", 0.3))
WORDS_PER_PAGE = (250, 350)
_LONG_NUMBER = re.compile(r"\d{5,}")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Case:
    dossier_id: str
    case_number: str
    unit_code: str
    unit_path: str
    subject_name: str
    tax_code: str
    representative: str
    address: str
    violation: str
    year: int
    status: str


def load_generator() -> ModuleType:
    """gen_dossiers.py as a module, for its pools of names, violations and legal bases."""
    spec = importlib.util.spec_from_file_location("gen_dossiers", CORPUS / "gen_dossiers.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(CORPUS / "gen_dossiers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class PageWriter:
    """Draws dossiers and their pages from the dev corpus's structure and text; one seed, one sequence."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._gen = load_generator()
        self._templates = [json.loads(path.read_text()) for path in sorted((CORPUS / "dev").glob("dev-*.json"))]
        if not self._templates:
            raise FileNotFoundError(f"no dev corpus in {CORPUS / 'dev'}")
        self._lines_by_type: dict[str, list[str]] = {}
        for template in self._templates:
            for page in template["pages"]:
                self._lines_by_type.setdefault(page["doc_type"] or "", []).extend(
                    line for line in self._placeholders(template, page["text"]).splitlines() if line.strip()
                )
        self._businesses: list[tuple[str, str, str, str]] = []
        self._number = 0

    def dossiers(self) -> Iterator[tuple[Case, list[dict]]]:
        """Endless dossiers, each with its page records (blank backs left out: they are never indexed)."""
        while True:
            self._number += 1
            case = self._case()
            template = self._random.choice(self._templates)
            pages = []
            for number, page in enumerate(template["pages"], start=1):
                if not page["text"].strip():
                    continue
                pages.append(
                    {
                        "dossier_id": case.dossier_id,
                        "page": number,
                        "case_number": case.case_number,
                        "unit_code": case.unit_code,
                        "unit_path": case.unit_path,
                        "subject_name": case.subject_name,
                        "tax_code": case.tax_code,
                        "violation": case.violation,
                        "doc_type": page["doc_type"] or "",
                        "year": case.year,
                        "status": case.status,
                        "text": self._page_text(case, template, page),
                    }
                )
            yield case, pages

    def _case(self) -> Case:
        draw = self._random
        province = draw.choice(PROVINCE_CODES)
        team = f"{province}-D{draw.randint(1, TEAMS_PER_PROVINCE)}"
        if self._businesses and draw.random() < 0.33:  # a business caught before
            subject, tax_code, representative, address = draw.choice(self._businesses)
        else:
            subject, tax_code, representative, address = self._business()
            self._businesses.append((subject, tax_code, representative, address))
        year = draw.randint(2018, 2025)
        kind = draw.choice(("KT", "XPHC", "TG"))
        return Case(
            dossier_id=f"d{self._number:07d}",
            case_number=f"{draw.randint(1, 999)}/{year}/{kind}-{team}",
            unit_code=team,
            unit_path=f"VN/{province}/{team}",
            subject_name=subject,
            tax_code=tax_code,
            representative=representative,
            address=address,
            violation=draw.choice(self._gen.VIOLATIONS)["short"],
            year=year,
            status=self._weighted(HANDOVER_STATES),
        )

    def _business(self) -> tuple[str, str, str, str]:
        draw, gen = self._random, self._gen
        province = draw.choice(list(gen.PROVINCES.values()))
        representative = " ".join(
            (
                draw.choice(gen.SURNAMES),
                draw.choice(gen.MIDDLE_M + gen.MIDDLE_F),
                draw.choice(gen.GIVEN_M + gen.GIVEN_F),
            )
        )
        if draw.random() < 0.6:
            form = draw.choice(("Công ty TNHH", "Công ty cổ phần", "Công ty TNHH MTV"))
            suffix = draw.choice(("", "Số 1", "Miền Bắc", "Toàn Cầu", "Phát Đạt"))
            subject = f"{form} {draw.choice(gen.COMPANY_STEMS)} {suffix}"
        else:
            subject = f"Hộ kinh doanh {draw.choice(gen.SHOP_KINDS)} {representative}"
        tax_code = province["tax"] + "".join(str(draw.randint(0, 9)) for _ in range(8))
        if draw.random() < 0.15:
            tax_code += f"-{draw.randint(1, 30):03d}"
        ward, district = draw.choice(province["wards"])
        address = f"Số {draw.randint(1, 400)}, đường {draw.choice(province['streets'])}, {ward}, {district}"
        return " ".join(subject.split()), tax_code, representative, address

    def _page_text(self, case: Case, template: dict, page: dict) -> str:
        draw = self._random
        lines = [line for line in self._placeholders(template, page["text"]).splitlines() if line.strip()]
        target = draw.randint(*WORDS_PER_PAGE)
        pool = self._lines_by_type.get(page["doc_type"] or "") or self._lines_by_type[""]
        violation = next(v for v in self._gen.VIOLATIONS if v["short"] == case.violation)
        while sum(len(line.split()) for line in lines) < target:
            roll = draw.random()
            if roll < 0.7:
                lines.append(draw.choice(pool))
            elif roll < 0.8:
                lines.append(violation["desc"] + ".")
            elif roll < 0.9:
                name, unit, price = draw.choice(violation["goods"])
                lines.append(f"{name}: {draw.randint(1, 500)} {unit}, đơn giá {price:,} đồng".replace(",", "."))
            else:
                lines.append(draw.choice(self._gen.LEGAL_BASES_KT + self._gen.LEGAL_BASES_XP))
        text = "\n".join(lines)
        text = _LONG_NUMBER.sub(lambda match: "".join(str(draw.randint(0, 9)) for _ in match.group()), text)
        for placeholder, value in (
            ("{BUSINESS}", case.subject_name),
            ("{TAX}", case.tax_code),
            ("{REP}", case.representative),
            ("{ADDR}", case.address),
            ("{CASE}", case.case_number),
        ):
            text = text.replace(placeholder, value)
        return unicodedata.normalize("NFC", text)

    @staticmethod
    def _placeholders(template: dict, text: str) -> str:
        """The dev case's own business, tax code, representative and address as placeholders.

        The values are matched across line breaks: a long company name wraps on the printed page.
        """
        business = template["case"]["business"]
        for value, placeholder in (
            (business["name"], "{BUSINESS}"),
            (business["tax_code"], "{TAX}"),
            (business["representative"], "{REP}"),
            (business["address"], "{ADDR}"),
        ):
            if value:
                pattern = r"\s+".join(re.escape(word) for word in value.split())
                text = re.sub(pattern, placeholder, text, flags=re.IGNORECASE)
        return text

    def _weighted(self, pairs: tuple[tuple[str, float], ...]) -> str:
        return self._random.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def write_pages(path: Path, count: int, seed: int) -> tuple[list[tuple[Case, int]], Counter[str]]:
    """Write `count` pages as JSON lines.

    Returns each case written with the number of pages written before it (so a caller can tell which
    cases a subset of the first N pages holds) and the word counts of the first 20,000 pages.
    """
    writer = PageWriter(seed)
    cases: list[tuple[Case, int]] = []
    frequencies: Counter[str] = Counter()
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for case, pages in writer.dossiers():
            cases.append((case, written))
            for page in pages[: count - written]:
                out.write(json.dumps(page, ensure_ascii=False) + "\n")
                if written < 20_000:
                    frequencies.update(word.lower() for word in _WORD.findall(page["text"]) if not word.isdigit())
                written += 1
            if written >= count:
                return cases, frequencies
    raise AssertionError("unreachable: dossiers() never ends")


def read_pages(path: Path, limit: int) -> Iterator[dict]:
    """The first `limit` pages of a file written by `write_pages`."""
    with path.open(encoding="utf-8") as pages:
        for number, line in enumerate(pages):
            if number >= limit:
                return
            yield json.loads(line)


@dataclass(frozen=True)
class BenchQuery:
    kind: str  # word, and2, phrase, prefix, tax_code, filtered
    text: str  # in hoso's query language (words ANDed, "phrase", prefix*)
    words: list[str]  # the words (or the phrase's words, or the prefix) for the other systems' syntax
    scope: str | None  # None for the whole archive
    unit_filter: str | None = None  # a unit subtree path (kind "filtered")


QUERY_KINDS = ("word", "and2", "phrase", "prefix", "tax_code", "filtered")


def make_queries(cases: list[Case], frequencies: Counter[str], per_kind: int, seed: int) -> list[BenchQuery]:
    """`per_kind` queries of each kind; half national, half scoped to a province; half typed without marks."""
    draw = random.Random(seed)
    letters = [word for word, _ in frequencies.most_common() if word.isalpha() and len(word) >= 2]
    common, middle = letters[:60], letters[60:2000]
    long_words = [word for word in middle if len(word) >= 5]
    provinces = sorted({case.unit_path.rsplit("/", 1)[0] for case in cases})
    sample_lines = [case.subject_name for case in cases[:2000]] + [v["desc"] for v in load_generator().VIOLATIONS]
    queries = []
    for number in range(per_kind):
        scope = draw.choice(provinces) if number % 2 else None

        def typed(word: str, index: int = number) -> str:
            return _strip_marks(word) if index % 4 >= 2 else word

        word = typed(draw.choice(common))
        pair = [typed(draw.choice(middle)), typed(draw.choice(middle))]
        phrase_words = _phrase(draw, sample_lines)
        prefix = typed(draw.choice(long_words))[: draw.randint(3, 4)]
        tax_code = draw.choice(cases).tax_code
        queries += [
            BenchQuery("word", word, [word], scope),
            BenchQuery("and2", " ".join(pair), pair, scope),
            BenchQuery("phrase", '"' + " ".join(phrase_words) + '"', phrase_words, scope),
            BenchQuery("prefix", prefix + "*", [prefix], scope),
            BenchQuery("tax_code", tax_code, [tax_code], scope),
            BenchQuery("filtered", " ".join(pair), pair, None, unit_filter=draw.choice(provinces)),
        ]
    return queries


def _phrase(draw: random.Random, lines: list[str]) -> list[str]:
    words = [word.lower() for word in _WORD.findall(draw.choice(lines)) if word.isalpha()]
    length = min(len(words), draw.randint(2, 3))
    start = draw.randint(0, len(words) - length)
    return words[start : start + length]


def _strip_marks(word: str) -> str:
    folded = "".join(char for char in unicodedata.normalize("NFD", word) if not unicodedata.combining(char))
    return folded.replace("đ", "d").replace("Đ", "D")
