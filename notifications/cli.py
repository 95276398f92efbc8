"""`reunite worker`: run the background queues (notifications, reminders, and the queues other packages
register in `reunite.worker_tasks`). Registered in the `reunite.commands` entry-point group."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from intake.cli.support import runtime_from_env
from intake.runtime import Runtime
from notifications.worker import Worker, installed_tasks

EMBEDDED_INTERVAL_S = (
    1.0  # the embedded worker is woken by the dialogue: this is only for retries and reminders
)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit (for cron, or to check the settings).")
@click.option(
    "--interval",
    default=0.25,
    show_default=True,
    type=float,
    help="Seconds to rest when idle (an idle pass is one indexed query; dialogue replies wait at most this).",
)
def worker(once: bool, interval: float) -> None:
    """Send queued notifications (SMS, Telegram, e-mail) and reminders until stopped (Ctrl-C or SIGTERM)."""
    rt = runtime_from_env(demo_labs=False)
    w = Worker(rt.session_factory, rt.settings, tasks=installed_tasks())
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


def service_threads(rt: Runtime, stop: threading.Event, wake: threading.Event) -> list[threading.Thread]:
    """Start a notification worker inside `reunite serve` on SQLite (the `reunite.service_threads` entry point),
    woken at once when the dialogue queues replies: the embedded service needs no `reunite worker` beside it.
    The other queues (`reunite.worker_tasks`) stay with `reunite worker`."""
    w = Worker(rt.session_factory, rt.settings)
    thread = threading.Thread(
        target=w.run, args=(stop, EMBEDDED_INTERVAL_S, wake), name="notification-worker", daemon=True
    )
    thread.start()
    return [thread]
