"""The web app tests talk to: `create_app` on the test's own database and data folder, as `reunite serve` builds it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from intake.platform.settings import Settings
from intake.runtime import Runtime
from intake.web import create_app


def web_settings(data_dir: Path, engine: Engine, **changes: Any) -> Settings:
    """Return the settings of a service on `engine`'s database with `data_dir` as its data folder.

    Webhooks answer inline (the replies in the response), as the tests of the dialogue over a channel read them;
    the spool's tests pass reply_mode="spool" (tests/test_spool.py).
    """
    env = {"REUNITE_DATA_DIR": str(data_dir), "REUNITE_REPLY_MODE": "inline"}
    base = Settings.from_env(env, load_dotenv_file=False)
    url = engine.url.render_as_string(hide_password=False)
    return replace_settings(base, database_url=url, **changes)


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    """Return `settings` with `changes`; a section's field is named `<section>_<field>` (`twilio_auth_token`,
    `telegram_webhook_secret`, `notifications_max_attempts`), a whole section or a root setting by its name."""
    roots: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    names = {f.name for f in dataclasses.fields(Settings)}
    heads = [n for n in names if dataclasses.is_dataclass(getattr(settings, n))]
    for name, value in changes.items():
        head = next((h for h in heads if name.startswith(h + "_")), None) if name not in names else None
        if head is None:
            roots[name] = value
        else:
            sections.setdefault(head, {})[name.removeprefix(head + "_")] = value
    for head, fields in sections.items():
        roots[head] = dataclasses.replace(getattr(settings, head), **fields)
    return dataclasses.replace(settings, **roots)


def web_app(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], *, demo_labs: bool = False
) -> Flask:
    """Return the Flask app in testing mode, with the demo lab directory loaded if asked."""
    rt = Runtime(settings, engine, session_factory)
    if demo_labs:
        rt.load_demo_labs_if_empty()
    app = create_app(rt=rt)
    app.testing = True
    return app


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve the app over real HTTP on a free loopback port, in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
