"""`reunite worker`: run the background queues (notifications, reminders, and the queues other packages
register in `reunite.worker_tasks`). Registered in the `reunite.commands` entry-point group."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from intake.cli.support import runtime_from_env
from intake.config import SettingError
from notifications.config import WorkerSettings
from notifications.worker import Worker, installed_tasks


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit (for cron, or to check the settings).")
@click.option("--interval", default=2.0, show_default=True, type=float, help="Seconds to rest when idle.")
def worker(once: bool, interval: float) -> None:
    """Send queued notifications (SMS, Telegram, e-mail) and reminders until stopped (Ctrl-C or SIGTERM)."""
    rt = runtime_from_env(demo_labs=False)
    try:
        settings = WorkerSettings.from_env(rt.settings)
    except SettingError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from None
    w = Worker(rt.session_factory, settings, tasks=installed_tasks())
    channels = ", ".join(sorted(c.value for c in w.providers)) or "none (set TWILIO_*, TELEGRAM_*, SMTP_*)"
    click.echo(f"reunite worker: sending on {channels}")
    if once:
        click.echo(f"done: {w.run_once()}")
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    w.run(stop, interval)
