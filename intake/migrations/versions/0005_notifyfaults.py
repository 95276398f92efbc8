"""notifications: send_started_at, so a takeover knows whether the dead worker had called the provider

Revision ID: 0005_notifyfaults
Revises: 0005_crypto
Create Date: 2026-11-29 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_notifyfaults'
down_revision: str | None = '0005_crypto'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('send_started_at')
