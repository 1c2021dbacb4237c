# The two commands of README: `make run` and `make test`. Each installs what a fresh Debian machine lacks
# (system packages with apt-get, then a .venv with the project and its pinned dependencies) before it runs.

VENV        := .venv
PYTHON      ?= python3
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie poppler-utils qpdf fonts-dejavu-core fontconfig chromium radosgw ceph-mon ceph-osd curl bc
STAMP       := $(VENV)/.installed

.PHONY: run test test-postgresql lint system-deps venv clean-venv bench-deps bench-venv translations

system-deps:
	@missing=""; for package in $(APT_PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.lock
	$(VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

venv: $(STAMP)

run: system-deps venv
	$(VENV)/bin/hoso init --demo
	$(VENV)/bin/hoso serve

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy archive ingest ocr search

# The suite runs twice: on SQLite, then every test marked `database` again on PostgreSQL (docs/database.md), each
# test on its own database made there. A server that cannot be reached fails the run; an explicitly empty
# `make test TEST_POSTGRESQL_URL=` skips the second pass.
TEST_POSTGRESQL_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: system-deps venv lint
	$(VENV)/bin/pytest
	@$(MAKE) --no-print-directory test-postgresql

test-postgresql: venv
	@if [ -z "$(TEST_POSTGRESQL_URL)" ]; then echo "PostgreSQL pass skipped: TEST_POSTGRESQL_URL is empty"; exit 0; fi; \
	export HOSO_TEST_DATABASE_URL='$(TEST_POSTGRESQL_URL)'; \
	$(VENV)/bin/python -m tests.databases && $(VENV)/bin/pytest -m database

# Re-extract the interface texts (Vietnamese message ids, babel.cfg says where) and merge them into the English
# catalog; then write the English of every entry left empty. The app compiles the .po itself at start.
TRANSLATIONS := archive/web/translations
translations: venv
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext --add-location=file --sort-output --no-wrap \
	  --project=hoso -o $(TRANSLATIONS)/messages.pot .
	@if [ -f $(TRANSLATIONS)/en/LC_MESSAGES/messages.po ]; then \
	  $(VENV)/bin/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l en \
	    --no-wrap --no-fuzzy-matching --ignore-obsolete; \
	else $(VENV)/bin/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l en --no-wrap; fi
	$(VENV)/bin/python -m archive.web.catalog

clean-venv:
	rm -rf $(VENV)

# The ingest throughput benchmark (bench/ingest_throughput.py) compares hoso with OCRmyPDF. OCRmyPDF and its
# pins stay out of the project's dependencies: it lives in its own venv, with psutil (memory sampling) and
# rapidfuzz (edit distance for the character error rate); ghostscript is what OCRmyPDF needs for PDF/A.
# The search benchmark (bench/search_latency.py) runs Whoosh from the same venv.
BENCH_VENV   := .bench-venv
BENCH_APT    := ghostscript
BENCH_PIP    := ocrmypdf==17.13.0 psutil==7.2.2 rapidfuzz==3.14.6 whoosh-reloaded==2.7.5

bench-deps:
	@missing=""; for package in $(BENCH_APT); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q $(BENCH_PIP)
	touch $@

bench-venv: system-deps bench-deps venv $(BENCH_VENV)/.installed
