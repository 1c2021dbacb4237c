# The hoso image: the web app (gunicorn archive.wsgi:app, the default command) and the page workers
# (`hoso worker`) run from it; docker-compose.yml wires them to PostgreSQL, Redis, MinIO and Elasticsearch.
# Debian bookworm, as on the developers' machines and CI: the same Tesseract 5.3 and Vietnamese model that
# docs/benchmarks.md measured.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# What hoso calls at run time: Tesseract with the Vietnamese model, pdftoppm (poppler), qpdf, and fonts for
# the PDFs it writes. The same packages as the Makefile's APT_PACKAGES, less those only the tests need.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-vie poppler-utils qpdf fonts-dejavu-core fontconfig \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/hoso

# The runtime dependencies of pyproject.toml, at the versions of requirements.lock (the lock also pins the
# dev tools, which -c does not install). A layer of its own, so a code change does not reinstall them.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/runtime-requirements.txt \
    && pip install -r /tmp/runtime-requirements.txt -c requirements.lock \
    && rm /tmp/runtime-requirements.txt

COPY README.md ./
COPY archive ./archive
COPY ingest ./ingest
COPY ocr ./ocr
COPY search ./search
RUN pip install --no-deps . \
    && pip check \
    && rm -rf /opt/hoso/build

# Not root: the processes read untrusted scans. HOSO_HOME holds only scratch and caches here (the upload
# spool, translations); records, objects, the index and the queue live in the services.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/hoso --create-home --shell /usr/sbin/nologin hoso
ENV HOSO_HOME=/var/lib/hoso
USER hoso
WORKDIR /var/lib/hoso

EXPOSE 8000
# gthread: the worker's main thread keeps answering gunicorn's heartbeat while a thread receives a
# multi-gigabyte upload, so a slow upload is not killed as a hung worker. GUNICORN_CMD_ARGS sets
# --workers and --threads (docker-compose.yml).
CMD ["gunicorn", "archive.wsgi:app", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", \
     "--timeout", "120", "--graceful-timeout", "60", "--access-logfile", "-", "--no-control-socket"]
