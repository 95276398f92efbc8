"""Which language to answer in: it follows what the person writes until it is fixed.

Until the language is fixed, every message that says something sets the language of the reply: Han characters or
a pinyin keyword mean Chinese, Latin letters mean English, digits and punctuation decide nothing. A message says
something when it is a keyword, comes outside any flow, or answers a question with options; free text at a
question without options (a name, a place) is left out, so an English speaker who writes "广州" stays in English.

What fixes the language: an explicit choice (LANGUAGE, 中文, EN, or the language pick), or a clear signal of
Chinese: a message in Chinese characters or a pinyin keyword. Latin letters alone never fix it, because a Chinese
parent may well start with "Hi", "OK" or "STOP".
"""

from __future__ import annotations

from intake.dialogue.keywords import Command, is_pinyin
from intake.dialogue.types import Option
from intake.models import Contact
from intake.platform.i18n import CHINESE, ENGLISH, _, detect_language

OPTIONS = (
    Option("1", _("Chinese"), ("中文", "chinese", "zh")),  # 中文 in Chinese: no Han in an English SMS
    Option("2", "English", ("en", "english", "英文")),
)
CHOSEN = {Command.CHINESE: CHINESE, Command.ENGLISH: ENGLISH}


def written_in(text: str) -> str | None:
    """Return the language a message is written in, or None when it has no words (digits, emoji, nothing)."""
    return CHINESE if is_pinyin(text) else detect_language(text)


def follow(contact: Contact, text: str, *, says_something: bool) -> None:
    """Answer in the language of `text` when the contact has not chosen one and the message says something."""
    if contact.language_chosen or not says_something:
        return
    if (lang := written_in(text)) is not None:
        contact.language, contact.language_chosen = lang, lang == CHINESE


def choose(contact: Contact, lang: str) -> None:
    """Fix the contact's language: their explicit choice."""
    contact.language, contact.language_chosen = lang, True
