"""English SMS stay in GSM-7's 160 characters: no Chinese character in any English text, and HELP in one segment.

One Han character (or a full-width mark) turns a whole SMS into UCS-2, where a segment holds 70 characters, so an
English reply with "like 广州" costs two or three times as much and arrives cut in parts. Every msgid of the code
that reaches an SMS (intake/ and sms/; bot/ only speaks to Telegram) is the English text itself, so each is
checked here, and a walk through the flows in English checks what the dialogue builds around them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir

from intake.dialogue import menu
from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Case
from intake.outbox.templates import TEMPLATES
from intake.platform.i18n import render
from sms.segments import segment_count
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import say
from tests.dialogue.test_i18n import KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
# Han characters, kana, CJK and full-width punctuation: any of them makes an SMS UCS-2.
CJK = re.compile(
    r"[\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
# Texts allowed to show Chinese in English, and why. Keep it empty: a keyword is shown in English (REPORT), and
# 中文 is offered as "Chinese" (the Chinese word still works as an answer).
ALLOWED: frozenset[str] = frozenset()


def _sms_msgids() -> set[str]:
    found: set[str] = set()
    for folder in ("intake", "sms"):
        method_map = [("**.py", "python")]
        for _f, _l, message, _c, _x in extract_from_dir(
            str(ROOT / folder), method_map=method_map, keywords=KEYWORDS, comment_tags=()
        ):
            found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_no_english_text_of_an_sms_has_a_chinese_character():
    msgids = _sms_msgids()
    assert len(msgids) > 300  # the extraction found the code's texts
    assert sorted(m for m in msgids if CJK.search(m) and m not in ALLOWED) == []


def test_every_family_template_in_english_has_no_chinese_character():
    for template in TEMPLATES.values():
        assert not CJK.search(template.msgid), template.key


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_help_fits_one_sms_segment(lang):
    text = render(lang, menu.HELP)
    assert segment_count(text) == 1, (len(text), text)
    assert ("REPORT" in text) == (lang == "en") and ("报失" in text) == (lang == "zh_CN")


ENGLISH_WALK = [
    *t.REPORT_EN,
    *t.BOOK_AFTER_REPORT_EN,
    ("HELP", ("REPORT",)),
    ("LANGUAGE", ("1 Chinese", "2 English")),
    ("2", ("reunite",)),
    ("BOOK", ("Your appointment:",)),
    ("1", ("Which city or province",)),
    ("Mars", ("No lab found",)),
    ("3", ("No lab found",)),
    ("CANCEL", ("appointment was not changed",)),
    ("STATUS", ("Case MC-",)),
    ("MYDATA", ("What reunite keeps about you",)),
    ("DELETE", ("6-digit PIN",)),
    ("NO", ("nothing was deleted",)),
]


def test_a_walk_through_the_flows_in_english_gets_no_chinese_character(session):
    load_demo_labs(session)
    session.flush()
    for number, (text, expected) in enumerate(ENGLISH_WALK, 1):
        replies = "\n".join(render_plain(r) for r in say(session, text))
        for part in expected or ():
            assert part in replies, (number, text, replies)
        assert not CJK.search(replies), (number, text, replies)
    case = session.scalars(sa.select(Case)).one()
    assert not CJK.search("\n".join(render_plain(r) for r in say(session, f"DELETE {case.pin}")))
