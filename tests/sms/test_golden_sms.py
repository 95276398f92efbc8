"""The sample conversations of docs/dialogue.md over signed Twilio webhooks, exactly, on the day they were printed.

The webhook, the inbox and the dialogue read one clock (intake/platform/clock.py), so pinning it here pins the dates the
parent sees ("11月24日周二") and the date "yesterday" means, through the whole SMS path.
"""

from __future__ import annotations

import dataclasses

import pytest

from intake.platform import clock
from tests.dialogue.golden import conversations, play
from tests.dialogue.helpers import NOW

CONVERSATIONS = conversations()


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_sample_conversation_by_sms(phone, session_factory, number):
    phones = {}

    def send(address: str, text: str) -> list[str]:
        sender = phones.setdefault(address, dataclasses.replace(phone, number=address, sent=[]))
        return sender.text(text)

    with clock.pinned(NOW):
        play(CONVERSATIONS[number], send, session_factory)


def test_stop_is_answered_with_its_confirmation(phone):
    assert phone.text("STOP") == [
        "You will get no more messages from reunite. Send START to receive them again."
    ]
    assert phone.text("HELP") == []
