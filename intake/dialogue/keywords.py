"""The keywords a person can send at any time, in Chinese or English, as a whole message and in any case.

CANCEL is ours (cancel the current step or an appointment), although Twilio's default opt-out list includes it:
the Twilio number's Advanced Opt-Out must drop CANCEL from its opt-out words (see docs/dialogue.md).
"""

from __future__ import annotations

import enum
import unicodedata


class Command(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPORT = "report"
    BOOK = "book"
    STATUS = "status"
    CANCEL = "cancel"
    DELETE = "delete"
    RESTART = "restart"
    LANGUAGE = "language"
    ENGLISH = "english"
    CHINESE = "chinese"


# Carrier and Twilio opt-out words, plus the Chinese "回复TD退订" convention. YES is not an opt-in word here
# (Twilio's default list has it) because "yes" answers our consent questions.
WORDS: dict[Command, tuple[str, ...]] = {
    Command.OPT_OUT: ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "OPTOUT", "REVOKE",
                      "退订", "TD", "T", "退订TD", "取消订阅"),
    Command.OPT_IN: ("START", "UNSTOP", "开始", "订阅", "恢复订阅"),
    Command.HELP: ("HELP", "INFO", "?", "帮助", "求助"),
    Command.REPORT: ("REPORT", "报告", "报失", "登记"),
    Command.BOOK: ("BOOK", "预约"),
    Command.STATUS: ("STATUS", "状态", "查询", "进度"),
    Command.CANCEL: ("CANCEL", "取消"),
    Command.DELETE: ("DELETE", "删除", "删除信息", "删除我的信息"),
    Command.RESTART: ("RESTART", "重新开始", "重来"),
    Command.LANGUAGE: ("LANGUAGE", "LANG", "语言"),
    Command.ENGLISH: ("EN", "ENGLISH", "英文", "英语"),
    Command.CHINESE: ("中文", "ZH", "CHINESE", "汉语"),
}  # fmt: skip


def normalise(text: str) -> str:
    """Return a message folded for keyword matching: full-width to ASCII, upper case, no spaces or end marks."""
    folded = unicodedata.normalize("NFKC", text).upper().strip().rstrip(".!。！")
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-_")


_LOOKUP = {normalise(word): command for command, words in WORDS.items() for word in words}


def classify(text: str) -> Command | None:
    """Return the command a whole message is, or None when it is an answer or free text."""
    return _LOOKUP.get(normalise(text))
