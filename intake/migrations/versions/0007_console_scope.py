"""a case's province from its place, a birth known to the month, and a duplicate report merged into an earlier case (issues 18, 19)

Revision ID: 0007_console_scope
Revises: 0007_ystr
Create Date: 2026-12-06 07:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_console_scope'
down_revision: str | None = '0007_ystr'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_province', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('child_birth_precision', sa.String(length=8), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_place_province'), ['place_province'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases', ['merged_into_id'],
                                    ['id'], ondelete='SET NULL')
    # The places already reported get their province as new reports do (intake.places.provinces).
    from intake.places.provinces import province_of_place

    bind = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('last_seen_place', sa.String()),
                     sa.column('place_province', sa.String()))
    rows = bind.execute(sa.select(cases.c.id, cases.c.last_seen_place).where(cases.c.last_seen_place.is_not(None)))
    for case_id, place in list(rows):
        if (province := province_of_place(place)) is not None:
            bind.execute(cases.update().where(cases.c.id == case_id).values(place_province=province))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_cases_place_province'))
        batch_op.drop_column('child_birth_precision')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('place_province')
