"""spool: attempts counted in the row, a retry time, and deliveries given up after too many failures

Revision ID: 0007_spool_peak
Revises: 0007_relatives (re-chained after merging main; written on 0006_spool)
Create Date: 2026-12-06 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_spool_peak'
down_revision: str | None = '0007_relatives'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
