"""Y-STR haplotypes of male samples and the lineage evidence on candidates (issue 21): y_haplotypes, match_lineage

Revision ID: 0007_ystr
Revises: 0006_spool
Create Date: 2026-12-06 07:42:24.232677
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_ystr'
down_revision: str | None = '0006_spool'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('y_haplotypes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('lab_id', sa.Integer(), nullable=False),
    sa.Column('kit', sa.String(length=64), nullable=False),
    sa.Column('haplotype', sa.LargeBinary(), nullable=False),
    sa.Column('loci', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.String(length=32), nullable=True),
    sa.Column('replace_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['lab_id'], ['labs.id'], name=op.f('fk_y_haplotypes_lab_id_labs'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['y_haplotypes.id'], name=op.f('fk_y_haplotypes_replaced_by_id_y_haplotypes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_y_haplotypes_sample_id_samples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_y_haplotypes'))
    )
    with op.batch_alter_table('y_haplotypes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_y_haplotypes_lab_id'), ['lab_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_y_haplotypes_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index('uq_y_haplotypes_current_per_sample', ['sample_id'], unique=True, sqlite_where=sa.text('replaced_at IS NULL'), postgresql_where=sa.text('replaced_at IS NULL'))

    op.create_table('match_lineage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('child_haplotype_id', sa.String(length=32), nullable=False),
    sa.Column('relative_haplotype_id', sa.String(length=32), nullable=False),
    sa.Column('relative_role', sa.String(length=32), nullable=False),
    sa.Column('meioses', sa.Integer(), nullable=False),
    sa.Column('loci_compared', sa.Integer(), nullable=False),
    sa.Column('log10_lr', sa.Float(), nullable=True),
    sa.Column('combined_log10_lr', sa.Float(), nullable=True),
    sa.Column('matches', sa.Integer(), nullable=False),
    sa.Column('database', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Float(), nullable=False),
    sa.Column('evidence', sa.LargeBinary(), nullable=False),
    sa.Column('inconsistent_loci', sa.JSON(), nullable=False),
    sa.Column('rates', sa.String(length=120), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['match_candidates.id'], name=op.f('fk_match_lineage_candidate_id_match_candidates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_haplotype_id'], ['y_haplotypes.id'], name=op.f('fk_match_lineage_child_haplotype_id_y_haplotypes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['relative_haplotype_id'], ['y_haplotypes.id'], name=op.f('fk_match_lineage_relative_haplotype_id_y_haplotypes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_lineage')),
    sa.UniqueConstraint('candidate_id', name=op.f('uq_match_lineage_candidate_id'))
    )
    with op.batch_alter_table('match_lineage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_lineage_child_haplotype_id'), ['child_haplotype_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_lineage_combined_log10_lr'), ['combined_log10_lr'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_lineage_relative_haplotype_id'), ['relative_haplotype_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('match_lineage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_lineage_relative_haplotype_id'))
        batch_op.drop_index(batch_op.f('ix_match_lineage_combined_log10_lr'))
        batch_op.drop_index(batch_op.f('ix_match_lineage_child_haplotype_id'))

    op.drop_table('match_lineage')
    with op.batch_alter_table('y_haplotypes', schema=None) as batch_op:
        batch_op.drop_index('uq_y_haplotypes_current_per_sample', sqlite_where=sa.text('replaced_at IS NULL'), postgresql_where=sa.text('replaced_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_y_haplotypes_sample_id'))
        batch_op.drop_index(batch_op.f('ix_y_haplotypes_lab_id'))

    op.drop_table('y_haplotypes')
