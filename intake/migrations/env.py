"""Alembic environment: runs migrations for the models in `intake.models` (batch mode on SQLite)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import intake.models  # noqa: F401 - registers every table on Base.metadata
from intake.platform.db import Base, make_engine
from intake.platform.settings import SettingError, Settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on the connection handed in by `intake.platform.schema`, or on the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    try:
        url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    except SettingError as exc:  # the alembic command, like reunite's, names a bad setting in one line
        raise SystemExit(f"bad configuration: {exc}") from None
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("reunite migrations run online only: set DATABASE_URL and use `reunite db upgrade`.")
run_migrations_online()
