"""the spool of inbound deliveries (issue 22): deliveries

Revision ID: 0006_spool
Revises: 0006_console
Create Date: 2026-12-06 04:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_spool'
down_revision: str | None = '0006_console'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.Enum('sms', 'telegram', 'terminal', name='channel', native_enum=False,
                                     length=32), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
        sa.UniqueConstraint('channel', 'provider_id', name=op.f('uq_deliveries_channel_provider_id')),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_channel_address_id', ['channel', 'address', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_channel_address_id')
    op.drop_table('deliveries')
