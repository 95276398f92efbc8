"""The sample conversations of docs/dialogue.md are what the engine says, line for line (apart from random codes)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Channel
from intake.platform import clock
from tests.dialogue import golden
from tests.dialogue.golden import Exchange, conversations, normalise, parse
from tests.dialogue.helpers import NOW

CONVERSATIONS = conversations()


def play(factory: sessionmaker[Session], exchanges: list[Exchange]) -> None:
    """Send each message through the inbox, as a channel does, and compare every reply exactly."""
    sent = iter(range(1, 10_000))

    def send(address: str, text: str) -> list[str]:
        incoming = Incoming(Channel.SMS, address, text, clock.now(), provider_id=f"SM{next(sent)}")
        return [render_plain(r) for r in process(factory, incoming)]

    golden.play(exchanges, send, factory)


def test_the_docs_hold_the_conversations():
    assert len(CONVERSATIONS) >= 3
    assert all(len(c) >= 3 for c in CONVERSATIONS)


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_sample_conversation_plays_exactly(session_factory, number):
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    with clock.pinned(NOW):  # the day the samples were printed; the inbox and the engine read the one clock
        play(session_factory, CONVERSATIONS[number])


def test_a_wrong_or_extra_line_fails(session_factory):
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    extra = parse("> hello\n< Hello, this is reunite: we help families find missing children with DNA. Reply a number:\n"
                  "  1 Report a missing child\n  2 Book DNA sampling\n  3 Case status\n< An extra line\n")  # fmt: skip
    with clock.pinned(NOW), pytest.raises(AssertionError):
        play(session_factory, extra)


def test_random_codes_are_the_only_thing_normalised():
    assert normalise("案件号：MC-2026-ACL9KQ，核对码：180262") == "案件号：MC-YYYY-REFERENCE，核对码：PIN"
    assert normalise("样本编号THXS-2ND7，电话020-0000-0001") == "样本编号SAMPLE-CODE，电话020-0000-0001"
