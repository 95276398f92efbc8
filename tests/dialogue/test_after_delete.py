"""After DELETE, STATUS, BOOK and MYDATA say the same thing (withdrawn), and MYDATA counts no erased message.

Played through the inbox (`intake.inbound.inbox.process`), which stores every message as an SMS delivery would, so the
messages MYDATA counts are the real rows: those DELETE erased keep their row but nothing in it.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.labs.directory import load_demo_labs
from intake.models import Case, Channel, Message
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import NOW, PHONE, check_turn

FATHER = "+8613900000002"
_ids = itertools.count(1)


def _send(factory, text: str, address: str = PHONE) -> str:
    incoming = Incoming(Channel.SMS, address, text, NOW, provider_id=f"SM{next(_ids):032d}")
    return "\n".join(render_plain(r) for r in process(factory, incoming, now=NOW))


def _play(factory, turns, address: str = PHONE) -> None:
    for number, (text, expected) in enumerate(turns, 1):
        check_turn(number, text, expected, [_send(factory, text, address)])


def _case(factory) -> Case:
    with factory() as session:
        return session.scalars(sa.select(Case)).one()


def test_after_delete_status_book_and_mydata_all_say_withdrawn_and_count_no_erased_message(session_factory):
    with session_factory() as session:
        load_demo_labs(session)
        session.commit()
    _play(session_factory, t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH)
    case = _case(session_factory)
    assert "已删除" in _send(session_factory, f"删除 {case.pin}")
    withdrawn = f"案件{case.reference}：已按您的要求撤销，您的信息已删除。"
    status, book = _send(session_factory, "查询"), _send(session_factory, "预约")
    mydata = _send(session_factory, "我的数据")
    assert withdrawn in status and withdrawn in book and withdrawn in mydata, (status, book, mydata)
    assert "还没有登记案件" not in book and "核对码" not in mydata  # nothing left that a PIN would protect
    with session_factory() as session:
        rows = session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.body != ""))
        erased = session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.body == ""))
    # Kept: the deletion's reply, STATUS and BOOK with their replies, and this MYDATA (its replies came after it).
    assert erased > len(t.REPORT_ZH + t.BOOK_AFTER_REPORT_ZH) and rows - 3 == 6
    assert "保存的消息6条" in mydata, mydata


def test_after_the_reporter_deletes_a_case_the_mother_follows_all_three_say_he_withdrew(session_factory):
    with session_factory() as session:
        load_demo_labs(session)
        session.commit()
    _play(session_factory, [*t.REPORT_EN, ("2", ("BOOK",))])  # the father reports
    case = _case(session_factory)
    _play(session_factory, [(f"JOIN {case.reference} {case.pin}", ("1 Mother",)), ("mother", ("1 Yes",)),
                            ("yes", ("details",)), ("yes", ("Book your own",)), ("later", ("BOOK",))],
          address=FATHER)  # fmt: skip
    assert "stays open for the other family member" in _send(session_factory, f"DELETE {case.pin}")
    left = f"Case {case.reference}: you withdrew from it, your data deleted."
    for keyword in ("STATUS", "BOOK", "MYDATA"):
        assert left in _send(session_factory, keyword), keyword
    assert f"Case {case.reference}: open" in _send(session_factory, "STATUS", FATHER)  # his search goes on
