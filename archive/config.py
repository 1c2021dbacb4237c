"""Settings read from ``HOSO_*`` environment variables, so a deployment changes engines by configuration alone.

Every setting is declared once in ``SETTINGS`` with its meaning; README's table and the docs test read
the same declarations, so an undocumented setting cannot slip in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SETTINGS: dict[str, str] = {
    "HOSO_HOME": "Directory for the embedded defaults (database, objects, index, queue). Default ./var",
    "HOSO_DATABASE_URL": "SQLAlchemy URL of the records database. Default sqlite:///$HOSO_HOME/hoso.db (WAL)",
    "HOSO_STORAGE_DIR": "Directory of the local object store for originals and derived files. "
    "Default $HOSO_HOME/objects",
    "HOSO_STORAGE_URL": "Object store for originals and derived files: empty for the local directory "
    "HOSO_STORAGE_DIR, or s3://BUCKET[/PREFIX] for any S3 server (MinIO, Ceph RGW, AWS) through the minio client",
    "HOSO_S3_ENDPOINT": "URL of the S3 server when HOSO_STORAGE_URL is s3://…, e.g. http://127.0.0.1:9000 "
    "(https:// for TLS). Default https://s3.amazonaws.com",
    "HOSO_S3_ACCESS_KEY": "Access key of the S3 server",
    "HOSO_S3_SECRET_KEY": "Secret key of the S3 server",
    "HOSO_S3_REGION": "Region of the S3 bucket. Default us-east-1",
    "HOSO_S3_PRESIGN_SECONDS": "Lifetime in seconds of the presigned links to which downloads of originals and "
    "archive PDFs on S3 are redirected; 0: the app sends the files itself (an S3 server browsers cannot reach). "
    "Default 300",
    "HOSO_INDEX_DIR": "Directory of the Tantivy search index. Default $HOSO_HOME/index",
    "HOSO_SEARCH_URL": "Elasticsearch URL for the search index; empty: the embedded Tantivy index in HOSO_INDEX_DIR",
    "HOSO_SEARCH_INDEX": "Name prefix of the Elasticsearch index and its template. Default hoso-pages",
    "HOSO_QUEUE_PATH": "SQLite file of the embedded job queue (Huey). Default $HOSO_HOME/queue.db",
    "HOSO_REDIS_URL": "Redis URL (redis://HOST:PORT/DB) of a job queue shared by workers on many machines; "
    "empty: the embedded queue in HOSO_QUEUE_PATH",
    "HOSO_SECRET_KEY": "Flask secret key for sessions and CSRF (a long random string, the same on every app "
    "machine). Required: the app refuses to start without it, except on a demo instance made by `hoso init --demo`, "
    "which uses a random key kept in $HOSO_HOME/secret_key",
    "HOSO_WORKERS": "Worker processes for page jobs. Default: number of CPU cores",
    "HOSO_OCR_DPI": "Resolution at which pages are rasterised for OCR. Default 300",
    "HOSO_OCR_PAGE_TIMEOUT": "Seconds one page may take to be read before it is stopped and marked page_timeout. "
    "Default 180",
    "HOSO_MAX_UPLOAD_MB": "Largest accepted upload in MiB. Default 2048",
    "HOSO_MAX_PAGES": "Most pages accepted in one dossier. Default 2000",
    "HOSO_MAX_PAGE_MPIXELS": "Largest page accepted, in megapixels: an image's pixel size, or a PDF page's size "
    "at HOSO_OCR_DPI (decompression-bomb guard). Default 300",
    "HOSO_WATCH_INTERVAL": "Seconds between two looks at a folder watched by `hoso watch`. Default 5",
    "HOSO_WATCH_SETTLE": "Seconds a watched file's size and time must stay unchanged before it is taken. Default 10",
    "HOSO_HOST": "Address `hoso serve` listens on. Default 127.0.0.1",
    "HOSO_PORT": "Port `hoso serve` listens on. Default 8000",
    "HOSO_LOGIN_MAX_FAILURES": "Wrong passwords in a row that lock an account. Default 5",
    "HOSO_LOGIN_LOCK_MINUTES": "Minutes a locked account stays locked. Default 15",
    "HOSO_SESSION_HOURS": "Hours without a request after which a signed-in session ends. Default 8",
    "HOSO_SECURE_COOKIES": "1: send the session cookie over HTTPS only (set it behind HTTPS). Default 0",
    "HOSO_TRUSTED_PROXIES": "Addresses or networks (comma-separated) of the proxies in front of gunicorn "
    "(archive/wsgi.py): their X-Forwarded-For and X-Forwarded-Proto give the client's address and scheme. "
    "Default: none trusted",
    "HOSO_FIXITY_HOURS": "Hours between two fixity checks (every stored object re-hashed) run by `hoso serve`; "
    "0 turns the schedule off. Default 24",
    "HOSO_LOGIN_RATE_LIMIT": "Most failed sign-in attempts per client address, as a rate (Flask-Limiter syntax); "
    "over it every attempt from that address gets 429 until the window moves on. Default 10/minute",
    "HOSO_UPLOAD_RATE_LIMIT": "Most uploads per signed-in person, as a rate (Flask-Limiter syntax). Default 120/hour",
    "HOSO_REPORT_DUE_DAY": "Day of the period's last month on which reports are due, where the unit tree sets none "
    "(Circular 55/2020/TT-BCT: the 17th; some departments use 18). Default 17",
}


DEMO_MARKER = "demo-instance"


class MissingSecretKey(RuntimeError):
    """The app may not start: HOSO_SECRET_KEY is unset on an instance that is not a demo."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one hoso process."""

    home: Path
    database_url: str
    storage_dir: Path
    index_dir: Path
    queue_path: Path
    secret_key: str | None
    workers: int
    ocr_dpi: int
    ocr_page_timeout: float
    max_upload_bytes: int
    max_pages: int
    max_page_pixels: int
    watch_interval: float
    watch_settle: float
    host: str
    port: int
    storage_url: str = ""  # s3://bucket[/prefix] for S3, else the local directory storage_dir
    s3_endpoint: str = "https://s3.amazonaws.com"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    s3_presign_seconds: int = 300
    redis_url: str = ""  # a shared Redis queue, else the embedded Huey SQLite queue at queue_path
    fixity_hours: float = 24
    login_rate_limit: str = "10/minute"
    upload_rate_limit: str = "120/hour"
    search_url: str = ""  # Elasticsearch when set, else Tantivy in index_dir
    search_index: str = "hoso-pages"
    login_max_failures: int = 5
    login_lock_minutes: float = 15
    session_hours: float = 8
    secure_cookies: bool = False
    trusted_proxies: str = ""  # comma-separated addresses or networks, read by archive/wsgi.py
    report_due_day: int = 17  # Circular 55/2020/TT-BCT; a unit's report_due_day overrides it

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("HOSO_HOME", "var")).resolve()
        return cls(
            home=home,
            database_url=_env("HOSO_DATABASE_URL", f"sqlite:///{home / 'hoso.db'}"),
            storage_dir=Path(_env("HOSO_STORAGE_DIR", str(home / "objects"))),
            index_dir=Path(_env("HOSO_INDEX_DIR", str(home / "index"))),
            queue_path=Path(_env("HOSO_QUEUE_PATH", str(home / "queue.db"))),
            secret_key=os.environ.get("HOSO_SECRET_KEY") or None,
            workers=int(_env("HOSO_WORKERS", str(os.cpu_count() or 1))),
            ocr_dpi=int(_env("HOSO_OCR_DPI", "300")),
            ocr_page_timeout=float(_env("HOSO_OCR_PAGE_TIMEOUT", "180")),
            max_upload_bytes=int(_env("HOSO_MAX_UPLOAD_MB", "2048")) * 1024 * 1024,
            max_pages=int(_env("HOSO_MAX_PAGES", "2000")),
            max_page_pixels=int(float(_env("HOSO_MAX_PAGE_MPIXELS", "300")) * 1_000_000),
            watch_interval=float(_env("HOSO_WATCH_INTERVAL", "5")),
            watch_settle=float(_env("HOSO_WATCH_SETTLE", "10")),
            host=_env("HOSO_HOST", "127.0.0.1"),
            port=int(_env("HOSO_PORT", "8000")),
            storage_url=_env("HOSO_STORAGE_URL", ""),
            s3_endpoint=_env("HOSO_S3_ENDPOINT", "https://s3.amazonaws.com"),
            s3_access_key=_env("HOSO_S3_ACCESS_KEY", ""),
            s3_secret_key=_env("HOSO_S3_SECRET_KEY", ""),
            s3_region=_env("HOSO_S3_REGION", "us-east-1"),
            s3_presign_seconds=int(_env("HOSO_S3_PRESIGN_SECONDS", "300")),
            redis_url=_env("HOSO_REDIS_URL", ""),
            fixity_hours=float(_env("HOSO_FIXITY_HOURS", "24")),
            login_rate_limit=_env("HOSO_LOGIN_RATE_LIMIT", "10/minute"),
            upload_rate_limit=_env("HOSO_UPLOAD_RATE_LIMIT", "120/hour"),
            search_url=_env("HOSO_SEARCH_URL", ""),
            search_index=_env("HOSO_SEARCH_INDEX", "hoso-pages"),
            login_max_failures=int(_env("HOSO_LOGIN_MAX_FAILURES", "5")),
            login_lock_minutes=float(_env("HOSO_LOGIN_LOCK_MINUTES", "15")),
            session_hours=float(_env("HOSO_SESSION_HOURS", "8")),
            secure_cookies=_env("HOSO_SECURE_COOKIES", "0") in ("1", "true", "yes"),
            trusted_proxies=_env("HOSO_TRUSTED_PROXIES", ""),
            report_due_day=int(_env("HOSO_REPORT_DUE_DAY", "17")),
        )

    @property
    def temp_dir(self) -> Path:
        """Where uploads are spooled while hashed; on the same file system as the store for atomic renames."""
        return self.home / "tmp"

    def ensure_dirs(self) -> None:
        for directory in (self.home, self.temp_dir, self.storage_dir, self.index_dir, self.queue_path.parent):
            directory.mkdir(parents=True, exist_ok=True)

    @property
    def demo_marker(self) -> Path:
        """Present when `hoso init --demo` made this instance: its accounts have a published password."""
        return self.home / DEMO_MARKER

    def is_demo(self) -> bool:
        return self.demo_marker.exists()

    def mark_demo(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.demo_marker.write_text("made by `hoso init --demo`; without this file HOSO_SECRET_KEY is required\n")

    def resolved_secret_key(self) -> str:
        """The configured key; on a demo instance, one generated once and kept beside the data so sessions
        survive restarts. Anywhere else a missing key stops the app (``MissingSecretKey``): a key kept in a
        file beside the data would be read by anyone holding a copy of that directory (a backup, a stolen
        disk) and would differ between app machines. ``create_app`` calls this, so ``hoso serve``, the WSGI
        entry and every other way of starting the app make the same decision."""
        if self.secret_key:
            return self.secret_key
        if not self.is_demo():
            raise MissingSecretKey(
                f"HOSO_SECRET_KEY is not set. Set it to a long random string (for example the output of "
                f"`python3 -c 'import secrets; print(secrets.token_hex(32))'`), the same on every app machine. "
                f"Only a demo instance (`hoso init --demo`, which writes {self.demo_marker}) runs without one."
            )
        key_file = self.home / "secret_key"
        if not key_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            key_file.write_text(os.urandom(32).hex())
            key_file.chmod(0o600)
        return key_file.read_text().strip()
