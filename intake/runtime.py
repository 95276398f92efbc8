"""The running service's shared pieces: settings, the database engine and the session factory.

Starting fails with a `StartError` (or the `SettingError` of a malformed setting) whose message names the problem
in one line: a data folder that cannot be made, an unknown database driver, a database that does not answer.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from intake.labs.slots import HORIZON_INFO_KEY
from intake.platform import crypto, schema
from intake.platform.db import make_engine, make_session_factory
from intake.platform.settings import NUMBA_CACHE_FOLDER, SETTINGS_INFO_KEY, SettingError, Settings

log = logging.getLogger(__name__)


class StartError(RuntimeError):
    """The service cannot start; the message says why in one line."""


def use_data_dir_for_numba_cache(data_dir: Path) -> None:
    """Point numba's JIT cache into the data folder unless NUMBA_CACHE_DIR is set (numba reads it on import)."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(data_dir / NUMBA_CACHE_FOLDER))


@cache
def kinship_kernel() -> str:
    """Return which kernel scores kinship candidates: "numba" when it imports, else the numpy reference."""
    from matching import fast

    return "numba" if fast.HAVE_NUMBA else "numpy"


def _first_line(exc: BaseException) -> str:
    """Return the first line of what an exception says (the driver's own error for a DBAPI error)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(settings: Settings, migrate: bool) -> Engine:
    """Create the engine and bring the database to the current schema, or raise a one-line error."""
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise SettingError(
            f"DATABASE_URL names an unknown or missing database driver ({_first_line(exc)}):"
            " expected postgresql+psycopg://... or sqlite:///..."
        ) from None
    if migrate:
        try:
            schema.upgrade(engine)
        except DBAPIError as exc:
            where = engine.url.render_as_string(hide_password=True)
            engine.dispose()
            raise StartError(f"cannot reach the database at {where}: {_first_line(exc)}") from None
    return engine


@dataclass
class Runtime:
    """What every request, bot update and command needs: settings and a way to open sessions."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def start(cls, settings: Settings, *, migrate: bool = True, demo_labs: bool | None = None) -> Runtime:
        """Connect to the configured database, bring it to the current schema and, if empty, load demo labs."""
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartError(
                f"cannot create the data folder {settings.data_dir} (REUNITE_DATA_DIR): {exc}"
            ) from None
        use_data_dir_for_numba_cache(settings.data_dir)
        # Genotypes and photos are encrypted with these keys (REUNITE_DATA_KEYS, or the data folder's key file).
        crypto.install(crypto.load(settings))
        engine = _connect(settings, migrate)
        factory = make_session_factory(engine)
        # Every session carries the booking horizon, so the dialogue, the web layer and the CLI book alike, and
        # the settings, for code that has only a session (the matching service's alerts: PUBLIC_BASE_URL).
        factory.configure(info={HORIZON_INFO_KEY: settings.booking_horizon_days, SETTINGS_INFO_KEY: settings})
        runtime = cls(settings, engine, factory)
        if demo_labs if demo_labs is not None else settings.load_demo_labs:
            runtime.load_demo_labs_if_empty()
        return runtime

    def load_demo_labs_if_empty(self) -> bool:
        """Load the shipped demo lab directory when no lab exists yet, so booking can be tried at once."""
        from intake.labs.directory import load_demo_labs
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
