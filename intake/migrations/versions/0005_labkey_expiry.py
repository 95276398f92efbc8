"""lab keys expire: lab_keys.expires_at; keys issued before get a year from this upgrade

Revision ID: 0005_labkey_expiry
Revises: 0004_identity
Create Date: 2026-11-29 17:45:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op


revision: str = '0005_labkey_expiry'
down_revision: str | None = '0004_identity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lab_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    # A key in use must not stop working because of an upgrade: it gets the year a new key gets, from now.
    lab_keys = sa.table('lab_keys', sa.column('expires_at', sa.DateTime(timezone=True)))
    op.execute(
        lab_keys.update()
        .where(lab_keys.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=365))
    )


def downgrade() -> None:
    with op.batch_alter_table('lab_keys', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
