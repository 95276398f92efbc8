"""`reunite dialogue-worker`: process the deliveries the webhooks spooled (intake/inbound/spool.py), and the same worker
run inside `reunite serve` on SQLite, where no other process may write."""

from __future__ import annotations

import logging
import os
import signal
import threading
from importlib.metadata import entry_points
from types import FrameType

import click

from intake.cli.support import runtime_from_env
from intake.inbound import spool
from intake.models import Channel
from intake.outbox.queue import QUEUED
from intake.runtime import Runtime

PROCESSOR_GROUP = "reunite.dialogue_processors"  # channel name -> factory(runtime) -> processor or None
SERVICE_THREADS_GROUP = "reunite.service_threads"  # started by `reunite serve` on SQLite: (runtime, stop)
log = logging.getLogger(__name__)


def processors(rt: Runtime) -> dict[Channel, spool.Processor]:
    """Return a processor per channel: SMS through the inbox, the others as their adapters register them."""
    found: dict[Channel, spool.Processor] = {Channel.SMS: spool.inbox_processor(rt.session_factory)}
    for ep in sorted(entry_points(group=PROCESSOR_GROUP), key=lambda ep: ep.name):
        processor = ep.load()(rt)
        if processor is not None:
            found[Channel(ep.name)] = processor
    return found


def start_embedded(rt: Runtime, stop: threading.Event) -> list[threading.Thread]:
    """Start, in this process, one dialogue worker and what sends its replies (the notification worker, by the
    `reunite.service_threads` entry points): the embedded service on SQLite needs no other process."""
    worker = spool.DialogueWorker(rt.session_factory, processors(rt), wake=spool.STORED)
    thread = threading.Thread(target=worker.run, args=(stop,), name="dialogue-worker", daemon=True)
    thread.start()
    threads = [thread]
    for ep in sorted(entry_points(group=SERVICE_THREADS_GROUP), key=lambda ep: ep.name):
        started = ep.load()(rt, stop, QUEUED)
        threads.extend(started)
    return threads


DEFAULT_NICE = 10


@click.command("dialogue-worker")
@click.option("--interval", default=0.1, show_default=True, type=float, help="Seconds to rest when idle.")
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(min=1, max=64),
    help="Deliveries processed at once (each thread one contact's; most of a delivery is waiting on the database).",
)
@click.option(
    "--nice",
    "niceness",
    default=DEFAULT_NICE,
    show_default=True,
    type=click.IntRange(min=0, max=19),
    help="Lower OS priority (os.nice): in a peak the webhooks sharing this machine's cores accept first.",
)
def dialogue_worker(interval: float, threads: int, niceness: int) -> None:
    """Process spooled webhook deliveries (PostgreSQL; run several): dialogue, replies queued for `reunite worker`."""
    # Acceptance first (docs/reliability.md, "Acceptance first in a peak"): a delivery not accepted within
    # Twilio's 15 s is retried and piles up; one accepted waits safely in the spool until a core is free.
    os.nice(niceness)
    rt = runtime_from_env(demo_labs=False)
    if rt.engine.dialect.name != "postgresql":
        raise click.ClickException(
            "the dialogue worker runs in `reunite serve` itself on SQLite (one writer); a separate one needs"
            " PostgreSQL (DATABASE_URL)"
        )
    found = processors(rt)
    hold = rt.settings.spool_hold_above
    click.echo(f"reunite dialogue worker: {', '.join(sorted(c.value for c in found))}, {threads} thread(s),"
               f" nice {os.nice(0)}" + (f", holds back while the spool grows by more than {hold:g} deliveries/s" if hold else ""))  # fmt: skip
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # Each thread is a worker of its own (they exclude each other as separate processes do: row locks)
    guard = spool.PeakGuard(rt.session_factory, hold, rt.settings.spool_hold_max_seconds) if hold else None
    loops = [
        threading.Thread(
            target=spool.DialogueWorker(rt.session_factory, found, guard=guard).run, args=(stop, interval)
        )
        for _ in range(threads)
    ]
    for loop in loops:
        loop.start()
    while any(loop.is_alive() for loop in loops):
        for loop in loops:
            loop.join(timeout=0.5)
