"""crypto: genotypes, candidates' evidence and flags' detail stored as encrypted bytes

The three JSON columns become binary (BYTEA on PostgreSQL, BLOB on SQLite). Values already stored are kept as
their JSON text in bytes: they still read, and `reunite keys reencrypt` encrypts them (this migration has no key:
it runs the same with or without one). Downgrading is refused while any value is encrypted.

Revision ID: 0005_crypto
Revises: 0005_labkey_expiry
Create Date: 2026-11-29 17:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_crypto'
down_revision: str | None = '0005_labkey_expiry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (('profiles', 'genotypes'), ('match_candidates', 'evidence'), ('match_flags', 'detail'))


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, column in COLUMNS:
        if postgresql:
            op.execute(
                f'ALTER TABLE {table} ALTER COLUMN {column} TYPE BYTEA'
                f" USING convert_to({column}::text, 'UTF8')"
            )
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.JSON(), type_=sa.LargeBinary(),
                                  existing_nullable=False)
        # SQLite copies values as they are: make the JSON text bytes, as every later value is.
        op.execute(f'UPDATE {table} SET {column} = CAST({column} AS BLOB) WHERE typeof({column}) = \'text\'')


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == 'postgresql'
    for table, column in COLUMNS:
        first = f"get_byte({column}, 0) = 1" if postgresql else f"substr({column}, 1, 1) = x'01'"
        sealed = bind.execute(sa.text(f'SELECT count(*) FROM {table} WHERE {first}')).scalar_one()
        if sealed:
            raise RuntimeError(
                f'{table}.{column} holds {sealed} encrypted values: downgrading below 0005_crypto would make'
                ' them unreadable'
            )
    for table, column in COLUMNS:
        if postgresql:
            op.execute(
                f'ALTER TABLE {table} ALTER COLUMN {column} TYPE JSON'
                f" USING convert_from({column}, 'UTF8')::json"
            )
            continue
        op.execute(f'UPDATE {table} SET {column} = CAST({column} AS TEXT)')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), type_=sa.JSON(),
                                  existing_nullable=False)
