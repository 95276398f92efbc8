"""The sample conversations of docs/dialogue.md through the Telegram webhook, exactly as over SMS.

Each message is an update posted to /telegram/webhook; each reply is what the bot sent to the fake Bot API,
its buttons written back as the transcripts write choices ("1 Yes"). The clock is pinned as for SMS.

One question differs by design: over SMS a volunteer's phone number is the number that texts, so only a chat
app asks for it. Here it is answered with a mobile number when it comes, and the transcript goes on unchanged.
"""

from __future__ import annotations

import pytest

from intake.models import Channel
from intake.platform import clock
from intake.platform.i18n import LANGUAGES, translate
from tests.dialogue.golden import conversations, play
from tests.dialogue.helpers import NOW

CONVERSATIONS = conversations()
PHONE_QUESTION = "Your mobile number, so the police can reach you? (like 13800138000)"
PHONE_QUESTIONS = {translate(lang, PHONE_QUESTION) for lang in LANGUAGES}


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_sample_conversation_by_telegram(webhook, session_factory, number):
    chats: dict[str, int] = {}

    def send(address: str, text: str) -> list[str]:
        chat_id = chats.setdefault(address, 7000 + len(chats))
        replies = webhook.say(chat_id, text, language_code=None)
        if replies and replies[-1] in PHONE_QUESTIONS:  # only a chat app asks it
            replies = replies[:-1] + webhook.say(chat_id, "13800138000", language_code=None)
        return replies

    with clock.pinned(NOW):
        play(CONVERSATIONS[number], send, session_factory, Channel.TELEGRAM)
