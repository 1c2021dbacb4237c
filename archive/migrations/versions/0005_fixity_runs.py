"""Fixity: the SHA-256 of a dossier's pages PDF, and the record of each fixity check.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages_pdf_sha256", sa.String(length=64), nullable=True))
    op.create_table(
        "fixity_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.Column("objects_checked", sa.Integer(), nullable=False),
        sa.Column("bytes_checked", sa.BigInteger(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("altered", sa.Integer(), nullable=False),
        sa.Column("recorded", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fixity_runs", schema=None) as batch_op:
        batch_op.create_index("ix_fixity_runs_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fixity_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_fixity_runs_started_at")
    op.drop_table("fixity_runs")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("pages_pdf_sha256")
