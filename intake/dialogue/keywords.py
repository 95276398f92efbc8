"""The keywords a person can send at any time, in Chinese (also as pinyin) or English, as a whole message.

A message is a keyword when its folded form (intake/text.py: any case, width, Traditional or Simplified, spaces
and end marks ignored) is one of the words below. Whether a keyword or the current step's option wins is the
engine's precedence rule (docs/dialogue.md, "Keywords and answers").

CANCEL is ours (cancel the current step or an appointment), although Twilio's default opt-out list includes it:
the Twilio number's Advanced Opt-Out must drop CANCEL from its opt-out words (see docs/dialogue.md).
"""

from __future__ import annotations

import enum

from intake.text import fold


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
    Command.HELP: ("HELP", "INFO", "?", "？", "帮助", "求助"),
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

# The same keywords in pinyin without tones, for phones that cannot type characters; written with or without
# spaces ("bao shi", "baoshi"). A pinyin keyword also tells the engine the person reads Chinese.
PINYIN: dict[Command, tuple[str, ...]] = {
    Command.OPT_OUT: ("tuiding", "tui ding"),
    Command.OPT_IN: ("kaishi",),
    Command.HELP: ("bangzhu", "qiuzhu"),
    Command.REPORT: ("baoshi", "baogao", "dengji"),
    Command.BOOK: ("yuyue",),
    Command.STATUS: ("chaxun", "zhuangtai", "jindu"),
    Command.CANCEL: ("quxiao",),
    Command.DELETE: ("shanchu",),
    Command.RESTART: ("chongxinkaishi", "chonglai"),
    Command.LANGUAGE: ("yuyan",),
    Command.CHINESE: ("zhongwen", "hanyu"),
}


def normalise(text: str) -> str:
    """Return a message folded for keyword matching (intake.text.fold, and "-" or "_" between letters ignored)."""
    return "".join(ch for ch in fold(text) if ch not in "-_")


_LOOKUP = {
    normalise(word): command
    for table in (WORDS, PINYIN)
    for command, words in table.items()
    for word in words
}
_PINYIN = {normalise(word) for words in PINYIN.values() for word in words}


def classify(text: str) -> Command | None:
    """Return the command a whole message is, or None when it is an answer or free text."""
    return _LOOKUP.get(normalise(text))


def is_pinyin(text: str) -> bool:
    """Tell whether a whole message is a keyword written in pinyin."""
    return normalise(text) in _PINYIN
