"""media fetched by a retryable job: attachments.fetch_after, fetch_attempts, fetch_error

Revision ID: 0006_channels
Revises: 0006_everyday_words
Create Date: 2026-12-06 04:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_channels'
down_revision: str | None = '0006_everyday_words'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_after', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('fetch_error', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachments_fetch_after'), ['fetch_after'], unique=False)
    # MMS photos stored before this release were never downloaded: queue them now.
    op.execute(
        "UPDATE attachments SET fetch_after = CURRENT_TIMESTAMP "
        "WHERE photo_id IS NULL AND (url LIKE 'https://%' OR url LIKE 'http://%')"
    )


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_fetch_after'))
        batch_op.drop_column('fetch_error')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('fetch_after')
