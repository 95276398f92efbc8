"""joint pedigrees (issue 21): match_candidates.pedigree, and room for a pedigree's profile ids

Revision ID: 0007_pedigree
Revises: 0007_console_scope
Create Date: 2026-12-06 07:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_pedigree'
down_revision: str | None = '0007_console_scope'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('match_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pedigree', sa.JSON(), nullable=True))
        batch_op.alter_column(
            'family_profile_ids', existing_type=sa.String(length=200), type_=sa.String(length=1000),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('match_candidates', schema=None) as batch_op:
        batch_op.alter_column(
            'family_profile_ids', existing_type=sa.String(length=1000), type_=sa.String(length=200),
            existing_nullable=False,
        )
        batch_op.drop_column('pedigree')
