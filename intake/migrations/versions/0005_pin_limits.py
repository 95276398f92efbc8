"""guessing budgets per case: link_attempts.case_id

Revision ID: 0005_pin_limits
Revises: 0005_notifyfaults
Create Date: 2026-11-29 18:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_pin_limits'
down_revision: str | None = '0005_notifyfaults'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_link_attempts_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_link_attempts_case_id_cases'), 'cases', ['case_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('link_attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_link_attempts_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_link_attempts_case_id'))
        batch_op.drop_column('case_id')
