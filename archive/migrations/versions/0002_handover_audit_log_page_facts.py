"""Handover states, dossier versions, the audit log, and per-page facts and failure codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:50:28.634996
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("unit_path", sa.String(length=400), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_hash"),
    )
    op.create_table(
        "handover_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("supersedes_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("handover_state", sa.String(length=16), nullable=False, server_default="draft"))
        batch_op.add_column(sa.Column("handover_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handover_batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retention", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("archive_pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key("fk_dossiers_handover_batch", "handover_batches", ["handover_batch_id"], ["id"])
        batch_op.create_foreign_key("fk_dossiers_supersedes", "dossiers", ["supersedes_id"], ["id"])

    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skew", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("error_code")
        batch_op.drop_column("facts")
        batch_op.drop_column("skew")

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_constraint("fk_dossiers_supersedes", type_="foreignkey")
        batch_op.drop_constraint("fk_dossiers_handover_batch", type_="foreignkey")
        batch_op.drop_column("archive_pdf_sha256")
        batch_op.drop_column("retention")
        batch_op.drop_column("handover_batch_id")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("handover_reason")
        batch_op.drop_column("handover_state")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("version")

    op.drop_table("handover_batches")
    op.drop_table("audit_entries")
