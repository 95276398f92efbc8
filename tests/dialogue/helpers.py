"""Run a transcript through the dialogue engine and check each turn's replies."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.engine import handle
from intake.dialogue.types import Incoming, Reply
from intake.inbound.inbox import render_plain
from intake.models import Case, Channel
from tests.dialogue import transcripts as t
from tests.dialogue.transcripts import Turn

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 23 November 2026, 10:00 in China
PHONE = "+8613800138000"


def say(
    session: Session, text: str, *, address: str = PHONE, channel: Channel = Channel.SMS, now: datetime = NOW
) -> list[Reply]:
    """Send one message to the engine in `session` and flush (the caller commits, as an adapter would)."""
    replies = handle(session, Incoming(channel, address, text, now), now)
    session.flush()
    return replies


def run_transcript(
    db: Session | sessionmaker[Session],
    turns: list[Turn],
    *,
    address: str = PHONE,
    channel: Channel = Channel.SMS,
    now: datetime = NOW,
) -> list[str]:
    """Play `turns` and assert each turn's replies; with a session factory, each message gets a new session.

    Returns every reply text, for tests that check more.
    """
    seen: list[str] = []
    for number, (text, expected) in enumerate(turns, 1):
        if isinstance(db, Session):
            replies = say(db, text, address=address, channel=channel, now=now)
        else:
            with db() as session:  # a new session per message: the state must come from the database
                replies = say(session, text, address=address, channel=channel, now=now)
                session.commit()
        rendered = [render_plain(r) for r in replies]
        check_turn(number, text, expected, rendered)
        seen.append("\n".join(rendered))
    return seen


def check_turn(number: int, text: str, expected: tuple[str, ...] | None, replies: list[str]) -> None:
    """Assert one turn's rendered replies: silence for None, else every expected substring somewhere in them."""
    joined = "\n".join(replies)
    if expected is None:
        assert replies == [], f"turn {number} {text!r}: expected silence, got {joined!r}"
        return
    for part in expected:
        assert part in joined, f"turn {number} {text!r}: {part!r} not in reply:\n{joined}"


def reported_case(session: Session, turns: list[Turn] | None = None) -> Case:
    """Play the Chinese report (then `turns`, by default "later" to booking); return the one case."""
    run_transcript(session, t.REPORT_ZH + (turns if turns is not None else [("2", ("回复“预约”",))]))
    return session.scalars(sa.select(Case)).one()


def wrong_pin(pin: str) -> str:
    """Return a 6-digit PIN that is not `pin`."""
    return "000000" if pin != "000000" else "111111"
