"""The records of the archive: the unit tree, people, cases, dossiers and their pages.

Dossier and page rows are the pipeline's durable state: a page row is written as soon as its job
finishes, so progress survives a crash and a restarted worker only redoes what is missing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("officer", "team_leader", "archivist", "inspector", "auditor", "admin")
UNIT_LEVELS = ("national", "province", "team")
DOSSIER_STATUSES = ("processing", "assembling", "processed", "failed")
PAGE_STATUSES = ("pending", "done", "failed")
# The handover life of one dossier version (Decree 30/2020 art. 29-31): an officer proposes it, the team
# leader approves ("submitted"; a leader's own submit is approved at once) or returns it to draft; the
# province's archivist accepts it (archived, read-only) or rejects it with a reason; a corrected scan
# uploaded as a new version marks the one it replaces "superseded".
HANDOVER_STATES = ("draft", "proposed", "submitted", "accepted", "rejected", "superseded")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_dossier_id() -> str:
    """A random, URL-safe identifier: dossier ids appear in links and must not reveal counts."""
    return uuid.uuid4().hex[:16]


def path_within(unit_path: str, scope_path: str) -> bool:
    """The scope test on unit paths: "VN/LCI" holds itself and "VN/LCI/LCI-D1", not "VN/LCI2"."""
    return unit_path == scope_path or unit_path.startswith(scope_path + "/")


def covers(user: User, unit_path: str) -> bool:
    """A person sees their own unit and every unit below it."""
    return path_within(unit_path, user.unit.path)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """A node of the force's tree: national → province (Chi cục) → team (Đội)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    # "VN/LCI/LCI-D1": a scope check is a prefix test on this path, in SQL and in the search index.
    path: Mapped[str] = mapped_column(String(400), unique=True)
    # Day of the period's last month the periodic reports are due (Circular 55/2020/TT-BCT says the 17th;
    # some departments use the 18th); None: the HOSO_REPORT_DUE_DAY default.
    report_due_day: Mapped[int | None] = mapped_column(Integer, nullable=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A person who leaves is deactivated, never deleted: the audit log keeps pointing at them.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Repeated wrong passwords lock the account until locked_until (password guessing is slowed per account,
    # not only per address).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    unit: Mapped[Unit] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """A named bearer token for scripts, acting as its owner within the owner's scope.

    Only the SHA-256 of the token is stored (a token is 256 random bits, so a fast hash suffices); the
    token itself is shown once, when created. ``prefix`` lets a person tell their tokens apart.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class Case(Base):
    """An enforcement case (vụ việc); its number is unique within the unit that handles it."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("unit_id", "case_number", name="uq_cases_unit_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    subject_name: Mapped[str] = mapped_column(String(300), default="")
    tax_code: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    # The case's violations in one line (the search facet); the itemised list is in ``violations``.
    violation: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    fine_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opened_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The penalty decision (quyết định xử phạt): its number and date.
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    # Value (VND) of the goods confiscated, and of confiscated goods sold (a line of the periodic reports).
    confiscated_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    goods_sold_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The fine or measures exceed the team leader's authority: the case goes to the province to decide.
    exceeds_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    # "manual" (entered in hoso) or "import" (from an INS export by `hoso case import`).
    source: Mapped[str] = mapped_column(String(16), default="manual")

    unit: Mapped[Unit] = relationship()
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="case")
    violations: Mapped[list[CaseViolation]] = relationship(
        back_populates="case", order_by="CaseViolation.position", cascade="all, delete-orphan"
    )


class CaseViolation(Base):
    """One violation of a case with the legal provision it breaches (e.g. "Điểm a khoản 2 Điều 9 NĐ 98/2020")."""

    __tablename__ = "case_violations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    fine_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    case: Mapped[Case] = relationship(back_populates="violations")


class Dossier(Base):
    """One scanned original of a case file; the original's SHA-256 is unique, so a re-upload is the same dossier."""

    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_dossier_id)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    original_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="processing")
    page_count: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    verify_report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Indexed for the reports, which count dossiers by upload month and by acceptance date.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Versions: a corrected scan is a new dossier row pointing at the one it replaces; both are kept.
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id"), nullable=True)
    handover_state: Mapped[str] = mapped_column(String(16), default="draft")
    handover_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    handover_batch_id: Mapped[int | None] = mapped_column(ForeignKey("handover_batches.id"), nullable=True)
    retention: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The searchable PDF/A copy, a derived object stored beside the original under its own SHA-256.
    archive_pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The pages PDF made from an image or repaired original (derived/…/pages.pdf): its SHA-256 as the first
    # fixity check found it, so a later check can tell an altered or deleted copy (archive/fixity.py).
    pages_pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When the scanner made the file (a PDF's /CreationDate), read at intake: the 48-hour digitisation
    # rule counts from it rather than from the upload, which may come days after the scan.
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Which worker process is converting or finishing the dossier, and until when (ingest/leases.py): a worker
    # killed mid-job stops renewing its lease, and any other worker queues the job again once it has run out.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    case: Mapped[Case] = relationship(back_populates="dossiers")
    pages: Mapped[list[Page]] = relationship(back_populates="dossier", order_by="Page.page_number")


class Page(Base):
    """The facts read from one page image; written once its OCR job has finished."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("dossier_id", "page_number", name="uq_pages_dossier_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    page_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    text: Mapped[str] = mapped_column(Text, default="")
    mean_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    sheet_number: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sheet_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    doc_type: Mapped[str | None] = mapped_column(String(48), nullable=True)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    width_px: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height_px: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dpi: Mapped[float | None] = mapped_column(Float, nullable=True)
    words: Mapped[list | None] = mapped_column(JSON, nullable=True)
    skew: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Facts a reader found beyond the columns: document number and date, table of contents entries,
    # the closing certificate's declared count and exceptions.
    facts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Why a page failed ("page_unreadable", "page_timeout"); attempts counts starts of its job, so a
    # page that keeps killing its worker is given up on instead of stalling the queue.
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Which worker process is reading the page, and until when (ingest/leases.py), as on Dossier.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    dossier: Mapped[Dossier] = relationship(back_populates="pages")


class HandoverBatch(Base):
    """Dossiers a province's archivist accepted together; the annex V documents are printed per batch."""

    __tablename__ = "handover_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    unit: Mapped[Unit] = relationship()


class AuditEntry(Base):
    """One append-only, hash-chained line of the audit log: entry_hash covers the entry and prev_hash,
    so an edited, reordered or deleted line breaks the chain."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    # The unit path of what the entry is about, so auditors see only entries within their scope.
    unit_path: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class FixityRun(Base):
    """One fixity check: every stored object the records name, read back and hashed (archive/fixity.py).

    ``problems`` lists each missing or altered object with its key, kind, dossier and the expected and found
    SHA-256; the admin page and `hoso fixity --json` show the newest run."""

    __tablename__ = "fixity_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # "command" (`hoso fixity`) or "schedule" (`hoso serve` every HOSO_FIXITY_HOURS).
    trigger: Mapped[str] = mapped_column(String(16), default="command")
    dossiers: Mapped[int] = mapped_column(Integer, default=0)
    objects_checked: Mapped[int] = mapped_column(Integer, default=0)
    bytes_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    altered: Mapped[int] = mapped_column(Integer, default=0)
    # Derived objects whose SHA-256 this run recorded for the first time (nothing to compare with yet).
    recorded: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list | None] = mapped_column(JSON, nullable=True)
