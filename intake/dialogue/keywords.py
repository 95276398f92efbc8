"""The keywords a person can send at any time, in Chinese (also as pinyin) or English, as a whole message.

A message is a keyword when its folded form (intake/platform/text.py: any case, width, Traditional or Simplified, spaces
and end marks ignored) is one of the words below. Whether a keyword or the current step's option wins is the
engine's precedence rule (docs/dialogue.md, "Keywords and answers").

CANCEL is ours (cancel the current step or an appointment), although Twilio's default opt-out list includes it:
the Twilio number's Advanced Opt-Out must drop CANCEL from its opt-out words (see docs/dialogue.md).
"""

from __future__ import annotations

import enum
import re

from intake.platform.text import fold


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
    JOIN = (
        "join"  # JOIN <case ref> <PIN>: the other parent or a relative joins a case (intake/dialogue/join.py)
    )
    LINK = "link"  # LINK <link code>: a walk-in sample joins the contact's case (intake/dialogue/link.py)
    FOUND = "found"  # a volunteer registers a child found alone (intake/dialogue/volunteer.py)
    NEXT = "next"  # the volunteer's next registration, keeping their name and phone
    CHILDREN = "children"  # the children a volunteer registered, and how far their samples are
    MYDATA = "mydata"  # what reunite keeps about the contact (intake/dialogue/mydata.py)


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
    Command.JOIN: ("JOIN", "加入"),
    Command.LINK: ("LINK", "关联"),
    Command.FOUND: ("FOUND", "发现", "发现儿童", "登记儿童", "发现孩子"),
    Command.NEXT: ("NEXT", "下一个"),
    Command.CHILDREN: ("CHILDREN", "LIST", "名单", "我登记的", "我登记的孩子"),
    Command.MYDATA: ("MYDATA", "MY DATA", "我的数据", "我的资料", "我的信息"),
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
    Command.JOIN: ("jiaru",),
    Command.LINK: ("guanlian",),
    Command.FOUND: ("faxian", "dengjiertong"),
    Command.NEXT: ("xiayige",),
    Command.CHILDREN: ("mingdan",),
    Command.MYDATA: ("wodeshuju", "wode shuju"),
}


def normalise(text: str) -> str:
    """Return a message folded for keyword matching (intake.platform.text.fold, and "-" or "_" between letters ignored)."""
    return "".join(ch for ch in fold(text) if ch not in "-_")


_LOOKUP = {
    normalise(word): command
    for table in (WORDS, PINYIN)
    for command, words in table.items()
    for word in words
}
_PINYIN = {normalise(word) for words in PINYIN.values() for word in words}


# JOIN, LINK and DELETE carry their secrets on the same line ("JOIN MC-2026-ACL9KQ 180262", "关联K7QX-M2PD-4F7",
# "删除 180262"); the rest must look like a case reference, a link code or a PIN, so a name such as "Link Wang"
# stays an answer.
_WITH_ARGUMENT = {  # matched against the folded message, which has no spaces
    Command.JOIN: re.compile(r"(?:join|加入|jiaru)[:：]?(mc-?\d{4}-?[a-z0-9]{6}(?:[,，.。]?\d{1,12})?)"),
    Command.LINK: re.compile(r"(?:link|关联|guanlian)[:：]?([a-z0-9]{4}-?[a-z0-9]{4}-?[a-z0-9]{3})"),
    # Any digits: a PIN of the wrong length is still DELETE or JOIN, and is told it has 6 digits (no try).
    Command.DELETE: re.compile(r"(?:delete|删除|shanchu)[:：]?(\d{1,12})"),
}


def argument_of(text: str, command: Command) -> str | None:
    """Return what follows JOIN, LINK or DELETE in a message ("MC-2026-ACL9KQ 180262"), or None if nothing does."""
    pattern = _WITH_ARGUMENT.get(command)
    m = pattern.fullmatch(fold(text)) if pattern else None
    return m.group(1) if m else None


def classify(text: str) -> Command | None:
    """Return the command a whole message is, or None when it is an answer or free text."""
    command = _LOOKUP.get(normalise(text))
    if command is None:
        command = next((c for c in _WITH_ARGUMENT if argument_of(text, c) is not None), None)
    return command


def is_pinyin(text: str) -> bool:
    """Tell whether a whole message is a keyword written in pinyin."""
    return normalise(text) in _PINYIN
