"""The load run's client (benchmarks/load_sms.py): how its paced runs send, against a local server that answers
every delivery with an empty TwiML (no service: only when each phone's messages come)."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.load_sms import Client, sms_conversations

PHONES = 12


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the service
    arrivals: list[tuple[float, str, str]] = []  # (when, From, Body), in arrival order
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        fields = dict(pair.split("=", 1) for pair in body.decode().split("&"))
        with self.lock:
            self.arrivals.append((time.monotonic(), fields["From"], fields["MessageSid"]))
        answer = b'<?xml version="1.0" encoding="UTF-8"?><Response />'
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    _Answer.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _by_phone() -> dict[str, list[float]]:
    firsts: dict[str, list[float]] = defaultdict(list)
    seen: set[str] = set()
    for at, phone, sid in _Answer.arrivals:
        if sid not in seen:  # a repeat is not a new message
            seen.add(sid)
            firsts[phone].append(at)
    return firsts


def test_a_campaign_run_has_parents_arrive_at_random_moments_and_pause_between_their_messages(
    port: int,
) -> None:
    conversations = sms_conversations(PHONES)
    turns = len(conversations[0])
    client = Client(port, conversations, threads=8, duplicates=0.0, telegram=False, rate=100.0)
    assert client.think == pytest.approx(0.8 * 8 / 100.0)
    client.run()

    assert len(client.results.acked) == PHONES * turns
    firsts = _by_phone()
    starts = sorted(times[0] for times in firsts.values())
    # the parents came one after another, not all at once (Poisson arrivals: mean gap turns / rate, 0.19 s)
    assert len(set(starts)) == PHONES
    assert starts[-1] - starts[0] > 0.3
    # each parent paused between messages: at least half the think time, whatever the server's speed
    gaps = [b - a for times in firsts.values() for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.5 * client.think * 0.9
    assert (
        statistics.mean(gaps) >= 0.9 * client.think
    )  # pauses of 0.5 to 1.5 times it, plus the answer's time
    # so, at any moment, the parents were at different steps of the conversation
    order = [sid for _at, _phone, sid in _Answer.arrivals]
    first_of_last_turn = min(i for i, sid in enumerate(order) if sid.endswith(f"{turns - 1:024x}"))
    assert any(
        sid.endswith(f"{0:024x}") for sid in order[first_of_last_turn:]
    )  # a parent began after another ended


def test_a_lockstep_run_sends_on_a_clock_and_every_phone_takes_the_same_step_in_turn(port: int) -> None:
    conversations = sms_conversations(PHONES)
    client = Client(port, conversations, threads=PHONES, duplicates=0.0, telegram=False, rate=300.0,
                    lockstep=True)  # fmt: skip
    assert client.think == 0.0
    client.run()

    times = sorted(at for at, _phone, _sid in _Answer.arrivals)
    assert times[-1] - times[0] >= (len(times) - 1) / 300.0 * 0.95  # one a tick of the clock
    order = [sid for _at, _phone, sid in _Answer.arrivals]
    # every phone sent its first message before any phone sent its third: the same step, in turn
    first_third = min(i for i, sid in enumerate(order) if sid.endswith(f"{2:024x}"))
    assert sum(sid.endswith(f"{0:024x}") for sid in order[:first_third]) == PHONES
