"""telegram: the stored photo of an attachment (intake.platform.photos)

Revision ID: 0004_telegram
Revises: 0004_outbox
Create Date: 2026-11-29 14:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_telegram'
down_revision: str | None = '0004_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('photo_id')
