"""Keywords against option words: opt-out always wins, else an option just offered wins over a keyword."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from intake.dialogue import booking, engine, erase, join, language, link, menu, report, vocabulary
from intake.dialogue.engine import EngineState, command_of
from intake.dialogue.keywords import Command, classify
from intake.dialogue.steps import Ctx, Option, option_words
from intake.dialogue.types import Incoming
from intake.labs.directory import load_demo_labs
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Channel,
    Contact,
    Conversation,
)
from intake.platform.errors import InputError
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, run_transcript, say

ALWAYS_WINS = {Command.OPT_OUT}


def _offered() -> list[tuple[str, tuple[Option, ...]]]:
    """Return every fixed option list a flow offers, by module and name (lists of cases, labs and days are data)."""
    found = []
    for module in (menu, report, booking, erase, language, vocabulary, engine, join, link):
        for name, value in vars(module).items():
            if isinstance(value, Option):
                value = (value,)
            if isinstance(value, tuple) and value and all(isinstance(o, Option) for o in value):
                found.append((f"{module.__name__}.{name}", value))
    return found


OFFERED = _offered()


def _ctx(text: str) -> Ctx:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    return Ctx(None, Contact(language="en"), Incoming(Channel.SMS, "+8613800138000", text, now), now, {})  # type: ignore[arg-type]


def test_every_flow_offers_options_and_none_is_an_opt_out_word():
    names = {name for name, _ in OFFERED}
    assert {"intake.dialogue.booking.MANAGE_OPTIONS", "intake.dialogue.erase.OPTIONS"} <= names
    for name, options in OFFERED:
        for option in options:
            clashes = {w for w in option_words(option) if classify(w) in ALWAYS_WINS}
            assert not clashes, f"{name} option {option.key}: {clashes} would opt the person out"


@pytest.mark.parametrize(("name", "options"), OFFERED, ids=[name for name, _ in OFFERED])
def test_an_option_word_that_is_a_keyword_reaches_the_option(name, options):
    state = EngineState()
    state.offer(options)
    for option in options:
        for word in option_words(option):
            if classify(word) is not None:
                assert command_of(word, state) is None, (
                    f"{name}: keyword {word!r} swallowed option {option.key}"
                )
            assert _ctx(word).choose(options) == option.key, f"{name}: {word!r} does not pick {option.key}"


def test_opt_out_wins_over_everything_and_keywords_act_where_no_option_is_the_word():
    state = EngineState()
    state.offer(booking.MANAGE_OPTIONS)
    assert command_of("STOP", state) is Command.OPT_OUT and command_of("取消", state) is None
    assert command_of("取消", EngineState()) is Command.CANCEL and command_of("HELP", state) is Command.HELP


def test_an_empty_message_picks_no_option_even_one_with_an_empty_label():
    with pytest.raises(InputError):
        _ctx("").choose((Option("1", ""), Option("2", "")))
    with pytest.raises(InputError):
        _ctx("  ").choose(vocabulary.YES_NO)


@pytest.fixture
def booked(session):
    load_demo_labs(session)
    session.flush()
    run_transcript(session, t.REPORT_EN + t.BOOK_AFTER_REPORT_EN)


@pytest.mark.parametrize(
    ("word", "asks", "done"),
    [
        ("取消", "确定取消", "预约已取消"),  # Chinese also switches the conversation to Chinese
        ("取消。", "确定取消", "预约已取消"),
        ("cancel", "Cancel your appointment at", "Your appointment for case MC-"),
        ("quxiao", "确定取消", "预约已取消"),
    ],
)
def test_cancel_on_the_appointment_screens_really_cancels(session, booked, word, asks, done):
    run_transcript(session, [("BOOK", ("Your appointment:",)), (word, (asks,)), (word, (done,))])
    assert session.scalars(sa.select(Booking.status)).one() == BookingStatus.CANCELLED


def test_cancel_while_moving_an_appointment_does_not_say_cancelled(session, booked):
    run_transcript(session, [("BOOK", ("Your appointment:",)), ("1", ("Which city",)),
                             ("CANCEL", ("Your appointment was not changed",))])  # fmt: skip
    assert session.scalars(sa.select(Booking.status)).one() == BookingStatus.BOOKED
    assert "cancelled" not in say(session, "STATUS")[0].text.casefold()


@pytest.mark.parametrize(
    ("word", "done"), [("删除", "已删除"), ("刪除", "已删除"), ("DELETE", "Deleted"), ("shan chu", "已删除")]
)
def test_delete_at_the_delete_confirmation_deletes(session, word, done):
    # The yes/no confirmation is for a contact without a case of their own (with one, the case PIN confirms).
    run_transcript(session, [("Hello", ("reunite",)), ("DELETE", ("cannot be undone",)), (word, (done,))])
    assert session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()


def test_cancel_at_the_delete_confirmation_keeps_everything(session):
    run_transcript(session, [("Hello", ("reunite",)), ("DELETE", ("cannot be undone",)),
                             ("取消", ("什么都没有删除",))])  # fmt: skip
    assert not session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase")).all()


def test_cancel_at_the_delete_pin_keeps_everything(session):
    run_transcript(session, t.REPORT_EN + [("2", ("BOOK",)), ("DELETE", ("6-digit PIN",)),
                                           ("取消", ("什么都没有删除",))])  # fmt: skip
    assert session.scalars(sa.select(Case.status)).one() == CaseStatus.OPEN


# A walk that stops at every step the flows have, so each step's own question (with its options as asked) is seen.
WALK = [
    "你好", "1", "1", "1", "李小明", "男", "5岁", "3天前", "广州火车站", "跳过", "王芳", "1", "1", "1", "广州", "1",
    "1", "1", "预约", "2", "2", "删除", "2",
]  # fmt: skip


def test_at_every_step_an_option_word_that_is_a_keyword_reaches_the_option(session, monkeypatch):
    load_demo_labs(session)
    session.flush()
    picked: list[str] = []
    choose = Ctx.choose
    monkeypatch.setattr(Ctx, "choose", lambda ctx, options: picked.append(key := choose(ctx, options)) or key)
    seen = set()
    for message in WALK:
        say(session, message)
        conversation = session.scalars(sa.select(Conversation)).one()
        if conversation.step is None:
            continue
        seen.add(conversation.step)
        contact = session.get_one(Contact, conversation.contact_id)
        ctx = Ctx(
            session, contact, Incoming(Channel.SMS, contact.address, "", NOW), NOW, dict(conversation.data)
        )
        for option in engine.STEPS[conversation.step].ask(ctx).options:
            for word in (w for w in option_words(option) if classify(w) is not None):
                picked.clear()
                savepoint = session.begin_nested()
                say(session, word)
                savepoint.rollback()
                assert picked[-1:] == [option.key], f"{conversation.step}: {word!r} did not pick {option.key}"
    # erase.confirm is for a contact without a case (this one has one: DELETE asks for the PIN): the tests
    # test_delete_at_the_delete_confirmation_deletes and test_cancel_at_the_delete_confirmation_... cover it.
    with_options = {"menu.main", "book.manage", "book.cancel_confirm", "report.consent_dna"}
    assert with_options | {"erase.pin"} <= seen


def test_an_option_still_wins_after_the_language_list_was_shown(session, booked):
    run_transcript(session, [("BOOK", ("Your appointment:",)), ("LANGUAGE", ("1 Chinese",)),
                             ("cancel", ("Cancel your appointment at",))])  # fmt: skip


def test_a_pinyin_name_at_a_free_text_question_is_an_answer_not_a_keyword(session):
    run_transcript(session, [("REPORT", ("DNA sample",)), ("1", ("family",)), ("1", ("full name",)),
                             ("Yu Yue", ("Is Yu Yue a boy or a girl?",))])  # fmt: skip
    run_transcript(
        session, [("yu yue", ("您还没有登记案件",))]
    )  # with options, BOOK (and pinyin means Chinese)
