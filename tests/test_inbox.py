"""The inbound path every channel shares: store first, process once, keep failures answerable."""

from __future__ import annotations

import sqlalchemy as sa

from intake.dialogue.types import Choice, Incoming, Reply
from intake.inbox import process, render_plain
from intake.models import Channel, Direction, Message, utcnow


def _incoming(text: str, sid: str | None = "SM1") -> Incoming:
    return Incoming(Channel.SMS, "+8613800138000", text, utcnow(), provider_id=sid)


def test_duplicate_delivery_runs_the_handler_once(session_factory):
    calls: list[str] = []

    def handler(session, incoming, now):
        calls.append(incoming.text)
        return [Reply("hello", (Choice("1", "yes"),))]

    first = process(session_factory, _incoming("hi"), handler=handler)
    second = process(session_factory, _incoming("hi"), handler=handler)
    assert calls == ["hi"]
    assert [render_plain(r) for r in first] == [r.text for r in second] == ["hello\n1 yes"]


def test_a_failing_handler_still_answers_and_keeps_the_message(session_factory):
    def handler(session, incoming, now):
        session.add(Message(channel=Channel.SMS, direction=Direction.OUTBOUND, body="half-done"))
        raise RuntimeError("boom")

    replies = process(session_factory, _incoming("hi"), handler=handler)
    assert len(replies) == 1 and replies[0].text
    with session_factory() as session:
        inbound = session.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND)).one()
        assert inbound.status == "failed" and "boom" in (inbound.error or "")
        bodies = session.scalars(sa.select(Message.body).where(Message.direction == Direction.OUTBOUND)).all()
        assert bodies == [replies[0].text]  # the half-done work was rolled back


def test_messages_without_provider_id_are_all_processed(session_factory):
    calls: list[str] = []

    def handler(session, incoming, now):
        calls.append(incoming.text)
        return []

    process(session_factory, _incoming("a", sid=None), handler=handler)
    process(session_factory, _incoming("a", sid=None), handler=handler)
    assert calls == ["a", "a"]
