"""how precisely a date is known, and the top of an age range: cases.last_seen_precision,
cases.child_age_max_years, found_children.found_date_precision, found_children.estimated_age_max_years

Revision ID: 0006_everyday_words
Revises: 0005_pin_limits
Create Date: 2026-12-06 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_everyday_words'
down_revision: str | None = '0005_pin_limits'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_precision', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('child_age_max_years', sa.Integer(), nullable=True))
    with op.batch_alter_table('found_children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('found_date_precision', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('estimated_age_max_years', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('found_children', schema=None) as batch_op:
        batch_op.drop_column('estimated_age_max_years')
        batch_op.drop_column('found_date_precision')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('child_age_max_years')
        batch_op.drop_column('last_seen_precision')
