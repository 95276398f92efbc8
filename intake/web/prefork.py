"""Several web processes: `reunite serve --workers N` runs the app under gunicorn's pre-forking server.

One Python process runs one request's Python at a time, so on a machine with several cores the webhooks need
several processes. The parent brings the schema up to date once, before any worker starts; each worker then
opens its own database pool after the fork (a pool must never be shared across a fork) and serves with threads,
so a slow request does not hold up the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from intake.platform.settings import Settings
from intake.runtime import Runtime


class PreforkServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn configured in code (no config file), building the app in each worker after the fork."""

    def __init__(self, settings: Settings, app_factory: Callable[[Runtime], Flask], options: dict[str, Any]):
        self.settings = settings
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # The parent already migrated and loaded the demo labs: a worker only connects.
        return self.app_factory(Runtime.start(self.settings, migrate=False, demo_labs=False))


def serve_prefork(
    settings: Settings,
    app_factory: Callable[[Runtime], Flask],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
) -> None:
    """Serve until SIGTERM/SIGINT with `workers` processes of `threads` threads each (gunicorn gthread)."""
    PreforkServer(
        settings,
        app_factory,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            # Twilio waits 15 s for the TwiML reply; a request running past 30 s is a stuck worker.
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "proc_name": "reunite-web",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
        },
    ).run()
