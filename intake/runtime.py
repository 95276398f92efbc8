"""The running service's shared pieces: settings, the database engine and the session factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake import schema
from intake.config import Settings
from intake.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What every request, bot update and command needs: settings and a way to open sessions."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def start(cls, settings: Settings, *, migrate: bool = True, demo_labs: bool | None = None) -> Runtime:
        """Connect to the configured database, bring it to the current schema and, if empty, load demo labs."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        if migrate:
            schema.upgrade(engine)
        runtime = cls(settings, engine, make_session_factory(engine))
        if demo_labs if demo_labs is not None else settings.load_demo_labs:
            runtime.load_demo_labs_if_empty()
        return runtime

    def load_demo_labs_if_empty(self) -> bool:
        """Load the shipped demo lab directory when no lab exists yet, so booking can be tried at once."""
        from intake.labs import load_demo_labs
        from intake.models import Lab

        with self.session_factory() as session:
            if session.scalar(sa.select(sa.func.count()).select_from(Lab)):
                return False
            load_demo_labs(session)
            session.commit()
        log.warning("The lab directory was empty: loaded the DEMO lab directory (not real labs).")
        return True

    def database_ok(self) -> tuple[bool, str]:
        """Check the database answers; return (ok, detail)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # reported by /healthz, never raised
            return False, type(exc).__name__
        return True, self.engine.dialect.name
