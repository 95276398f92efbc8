"""which relative next (issue 21): case_power, the cached power of a family's search

Revision ID: 0007_relatives
Revises: 0007_pedigree
Create Date: 2026-12-06 08:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_relatives'
down_revision: str | None = '0007_pedigree'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'case_power',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_power_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_power')),
    )


def downgrade() -> None:
    op.drop_table('case_power')
