"""The scan time of a dossier's file, and the indexes the reports count by.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_dossiers_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_dossiers_decided_at", ["decided_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_decided_on", ["decided_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_decided_on")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_decided_at")
        batch_op.drop_index("ix_dossiers_created_at")
        batch_op.drop_column("scanned_at")
