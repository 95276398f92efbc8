"""A first message that says what the person wants in their own words: "我要报失我儿子叫王小明", "孩子丢了",
"我想预约", "my son is missing", "I want to book".

Outside any flow (or at the menu), a message that is no keyword but says a child is missing starts a report, and
one that asks for an appointment starts booking; the report takes what the message already tells: the child's
name (after 叫 / 名叫 / "named", "called", or "my son Tom") and sex (儿子, 女儿, son, daughter). Both are shown
before the next question and again in the summary before the parent confirms. Consent still comes first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from intake.dialogue.keywords import Command
from intake.models import Sex
from intake.platform.text import simplified

_REPORT_ZH = re.compile(
    r"报失|报案|走失|走丢|丢了|丢失|不见了|失踪|被拐|拐走|拐卖|被抱走|被人抱走|被偷|找不到(?:孩子|儿子|女儿|小孩|娃)|"
    r"寻子|寻女|找孩子|找儿子|找女儿"
)
_REPORT_EN = re.compile(
    r"\b(?:missing|kidnapp\w*|abducted|disappeared|(?:lost|can'?t find|cannot find) (?:my|our) "
    r"(?:child|son|daughter|kid|boy|girl|baby)|report\w*)\b"
)
# A volunteer who found a child ("我发现一个走失的孩子") is no parent reporting one: FOUND is their keyword.
_FOUND = re.compile(r"发现|捡到|遇到|收留|\bfound\b")
_BOOK_ZH = re.compile(r"预约|采血|抽血|采样|约(?:个)?时间|(?:验|做|测)dna|dna(?:检测|鉴定)")
_BOOK_EN = re.compile(r"\b(?:book\w*|appointment|dna test|sampl\w*)\b")
_MALE_ZH, _FEMALE_ZH = re.compile(r"儿子|男孩|男娃|小子"), re.compile(r"女儿|女孩|闺女|女娃")
_MALE_EN, _FEMALE_EN = re.compile(r"\b(?:son|boy)\b"), re.compile(r"\b(?:daughter|girl)\b")
# A name after 叫 ends at punctuation, a digit or a word that starts the next clause ("今年5岁", "在广州走丢了").
_NAME_ZH = re.compile(
    r"(?:名字叫|名字是|名叫|叫做|叫)([\u4e00-\u9fff·]{2,4}?)"
    r"(?=$|[\s，,。.！!？?、；;\d]|今年|现在|已经|在|是|的|走|丢|不见|失踪|被|男|女|岁|，)"
)
_NAME_EN = re.compile(
    r"\b(?:[Nn]amed|[Cc]alled|[Nn]ame is)\s+([A-Za-z][A-Za-z'-]*(?:\s[A-Z][A-Za-z'-]*)?)"
    r"|\b[Mm]y (?:son|daughter|boy|girl|child|kid)\s+([A-Z][a-z'-]+(?:\s[A-Z][a-z'-]+)?)"
)
_NOT_NAMES = frozenset({"is", "was", "has", "went", "got", "and", "missing", "lost", "gone", "has been"})


@dataclass(frozen=True)
class Intent:
    """What a run-on message asks for (REPORT or BOOK), and what it tells of the child."""

    command: Command
    child_name: str | None = None
    sex: Sex | None = None


def _sex(plain: str, lower: str) -> Sex | None:
    male = bool(_MALE_ZH.search(plain) or _MALE_EN.search(lower))
    female = bool(_FEMALE_ZH.search(plain) or _FEMALE_EN.search(lower))
    return Sex.MALE if male and not female else Sex.FEMALE if female and not male else None


def _name(text: str, plain: str) -> str | None:
    m = _NAME_ZH.search(plain.replace(" ", ""))
    if m:
        return m.group(1)
    m = _NAME_EN.search(simplified(text))
    name = (m.group(1) or m.group(2)).strip() if m else None
    return name if name and name.casefold() not in _NOT_NAMES else None


def intent_of(text: str, *, has_case: Callable[[], bool] = lambda: False) -> Intent | None:
    """Return what a message that is no keyword asks for, or None. Both a report and a booking ("孩子丢了，想预约
    采血"): booking if the person has a case already, else the report comes first."""
    plain = simplified(text)
    lower = plain.casefold()
    compact = lower.replace(" ", "")
    report = bool(_REPORT_ZH.search(compact) or _REPORT_EN.search(lower)) and not _FOUND.search(lower)
    book = bool(_BOOK_ZH.search(compact) or _BOOK_EN.search(lower))
    if book and (not report or has_case()):
        return Intent(Command.BOOK)
    if report:
        return Intent(Command.REPORT, _name(text, plain), _sex(plain, lower))
    return None
