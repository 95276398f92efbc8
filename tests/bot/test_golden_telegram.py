"""The sample conversations of docs/dialogue.md through the Telegram webhook, exactly as over SMS.

Each message is an update posted to /telegram/webhook; each reply is what the bot sent to the fake Bot API,
its buttons written back as the transcripts write choices ("1 Yes"). The clock is pinned as for SMS.
"""

from __future__ import annotations

import pytest

from intake import clock
from tests.dialogue.golden import conversations, play
from tests.dialogue.helpers import NOW

CONVERSATIONS = conversations()


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_sample_conversation_by_telegram(webhook, session_factory, number):
    chats: dict[str, int] = {}

    def send(address: str, text: str) -> list[str]:
        chat_id = chats.setdefault(address, 7000 + len(chats))
        return webhook.say(chat_id, text, language_code=None)

    with clock.pinned(NOW):
        play(CONVERSATIONS[number], send, session_factory)
