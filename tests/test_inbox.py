"""The inbound path every channel shares: store first, process once, keep failures answerable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.dialogue.engine import STEPS
from intake.dialogue.steps import END, Question, Step
from intake.dialogue.types import Choice, Incoming, Media, Reply
from intake.inbound.inbox import process, render_plain
from intake.models import (
    Attachment,
    AuditEvent,
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    audit,
    utcnow,
)
from intake.platform.errors import InputError


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
        assert inbound.status is MessageStatus.FAILED and "boom" in (inbound.error or "")
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


def _photo_message(sid: str = "SM9") -> Incoming:
    photo = Media("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")
    return Incoming(Channel.SMS, "+8613800138000", "", utcnow(), provider_id=sid, media=(photo,))


def test_a_first_message_that_fails_keeps_its_sender_and_media_to_answer_later(session_factory):
    def handler(session, incoming, now):
        raise RuntimeError("boom")

    process(session_factory, _photo_message(), handler=handler)
    with session_factory() as session:
        inbound = session.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND)).one()
        contact = session.get_one(Contact, inbound.contact_id)  # the person can be answered later
        assert (contact.channel, contact.address) == (Channel.SMS, "+8613800138000")
        media = session.execute(
            sa.select(Attachment.message_id, Attachment.url, Attachment.content_type)
        ).all()
        assert media == [(inbound.id, _photo_message().media[0].url, "image/jpeg")]
        assert inbound.status is MessageStatus.FAILED


def test_inbound_is_processed_and_inline_replies_are_never_queued(session_factory):
    replies = process(session_factory, _incoming("HELP"))
    process(session_factory, _incoming("hi", sid="SM2"), handler=lambda *_: 1 / 0)
    with session_factory() as session:
        statuses = session.execute(sa.select(Message.direction, Message.status).order_by(Message.id)).all()
    assert statuses == (
        [(Direction.INBOUND, MessageStatus.PROCESSED)]
        + [(Direction.OUTBOUND, MessageStatus.ANSWERED_INLINE)] * len(replies)
        + [(Direction.INBOUND, MessageStatus.FAILED), (Direction.OUTBOUND, MessageStatus.ANSWERED_INLINE)]
    )


@pytest.mark.parametrize(
    "incoming",
    [
        Incoming(Channel.SMS, "+86" + "1" * 70, "hi", utcnow(), provider_id="SM1"),
        Incoming(Channel.SMS, "+8613800138000", "hi", utcnow(), provider_id="SM" + "1" * 63),
        Incoming(Channel.SMS, "+86138\x00", "hi", utcnow(), provider_id="SM1"),
        Incoming(Channel.SMS, "+8613800138000", "hi", utcnow(), provider_id="SM\x01"),
        Incoming(Channel.SMS, "+8613800138000", "", utcnow(), "SM1", (Media("https://x", "x" * 101),)),
    ],
)
def test_what_the_database_would_refuse_is_refused_before_anything_is_stored(session_factory, incoming):
    with pytest.raises(InputError):
        process(session_factory, incoming)
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_a_nul_in_the_text_is_dropped_before_storing_and_handling(session_factory):
    seen: list[str] = []
    process(
        session_factory,
        _incoming("a\x00b"),
        handler=lambda _s, incoming, _n: seen.append(incoming.text) or [],
    )
    with session_factory() as session:
        assert session.scalars(sa.select(Message.body)).all() == seen == ["ab"]


def test_a_refused_answer_leaves_nothing_half_written(session_factory, monkeypatch):
    def answer(ctx):
        """Write, then refuse the answer."""
        audit(ctx.session, ctx.actor, "half.written")
        raise InputError("Please reply with one of the numbers shown.")

    step = Step("test.half", lambda ctx: Question("Half?"), answer, {END: "never"})
    monkeypatch.setitem(STEPS, step.name, step)
    process(session_factory, _incoming("HELP", sid="SM1"))
    with session_factory() as session, session.begin():
        session.get_one(Conversation, 1).step = step.name
    replies = process(session_factory, _incoming("anything", sid="SM2"))
    assert [r.text for r in replies] == ["Please reply with one of the numbers shown.\nHalf?"]
    with session_factory() as session:
        assert session.scalars(sa.select(AuditEvent.action)).all() == []
        assert session.get_one(Conversation, 1).step == step.name  # asked again, not moved on


def test_a_step_that_fails_answers_one_apology_and_the_next_message_is_read_afresh(
    session_factory, monkeypatch
):
    """No step holds a person: a step that keeps failing (a bug) costs one apology, not every later message."""
    name = "report.child_name"
    broken = Step(name, STEPS[name].ask, lambda ctx: 1 / 0, STEPS[name].next)  # type: ignore[arg-type,return-value]
    monkeypatch.setitem(STEPS, name, broken)
    for n, text in enumerate(["报失", "同意", "同意"], 1):
        process(session_factory, _incoming(text, sid=f"SMA{n}"))
    apology = process(session_factory, _incoming("李小明", sid="SMA4"))
    assert "出了问题" in apology[0].text
    again = process(session_factory, _incoming("李小明", sid="SMA5"))  # read afresh: the menu, not the step
    assert "出了问题" not in again[0].text and "1 登记走失孩子" in render_plain(again[0])
    with session_factory() as session:
        assert session.scalars(sa.select(Conversation.step)).one() == "menu.main"
