"""The dialogue engine through the inbox under any text: multi-message conversations of random length.

Any text (unicode, emoji, control characters, very long, empty, mixed Chinese/English/pinyin, keywords and
answers in any order): the dialogue never fails (no inbound message parked as FAILED), every message is answered
or the conversation ends cleanly (an opted-out contact is answered nothing), and the stored conversation is
always one the engine can load again (its step known, its data JSON).
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.engine import STEPS, EngineState
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process
from intake.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
from intake.platform import clock
from intake.runtime import Runtime
from tests.support.webapp import web_settings

FUZZ = settings(
    max_examples=80,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_phones = itertools.count(1)
_sids = itertools.count(1)

KEYWORDS = [
    "报失", "REPORT", "report", "baoshi", "BOOK", "预约", "yuyue", "STATUS", "状态", "CANCEL", "取消", "HELP",
    "帮助", "?", "？", "STOP", "退订", "TD", "START", "开始", "DELETE", "删除", "RESTART", "重来", "LANGUAGE",
    "EN", "中文", "FOUND", "发现", "NEXT", "下一个", "CHILDREN", "名单", "JOIN", "JOIN C-0000 1234", "LINK",
    "LINK ABCD-EFGH", "加入 ABC 0000",
]  # fmt: skip
ANSWERS = [
    "1", "2", "3", "9", "0", "YES", "是", "no", "否", "广州", "北京市朝阳区", "Shenzhen, Guangdong", "廣州",
    "2019-05-01", "2019年5月1日", "昨天", "5岁", "male", "男", "女孩", "张小明 Zhang Xiaoming", "13800138000",
    "+86 138 0013 8000", "明天", "12", "-1", "99999999999999999999", "1.5", "１", "是的 yes 1",
]  # fmt: skip
texts = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(ANSWERS),
    st.text(max_size=40),  # any unicode: emoji, control characters, combining marks, right-to-left
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=8),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(KEYWORDS), st.sampled_from(ANSWERS)),
    st.builds(
        lambda s, n: s * n, st.sampled_from(["报失", "A", "😀", "\u200b", "1 "]), st.integers(200, 1600)
    ),
    st.just(""),
)
conversations = st.lists(texts, min_size=1, max_size=10)


@pytest.fixture
def inbox(tmp_path, engine, session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The test database with the demo lab directory, so booking conversations can reach a lab."""
    Runtime(web_settings(tmp_path, engine), engine, session_factory).load_demo_labs_if_empty()
    return session_factory


def _check_conversation(session: Session, address: str) -> None:
    contact = session.scalars(sa.select(Contact).where(Contact.address == address)).one()
    conversation = session.get(Conversation, contact.id)
    if conversation is None:
        return
    assert conversation.step is None or conversation.step in STEPS, conversation.step
    data = dict(conversation.data or {})
    json.dumps(data)  # what is stored is JSON
    EngineState.pop_from(data)  # and the engine reads its state back


@FUZZ
@given(conversations)
def test_any_conversation_is_answered_or_ends_cleanly_and_leaves_a_valid_state(inbox, texts):
    address = f"+86139{next(_phones):08d}"
    now = clock.now()
    for i, text in enumerate(texts):
        incoming = Incoming(Channel.SMS, address, text, now, provider_id=f"SMFUZZ{next(_sids)}")
        replies = process(inbox, incoming, now=now + timedelta(minutes=i))
        with inbox() as session:
            inbound = session.scalars(
                sa.select(Message).where(Message.provider_id == incoming.provider_id)
            ).one()
            assert inbound.status is MessageStatus.PROCESSED, (texts[: i + 1], inbound.error)
            # stored as sent but for NUL; a DELETE erases the contact's messages, its own included
            assert inbound.body in (text.replace("\x00", ""), ""), inbound.body
            contact = session.get_one(Contact, inbound.contact_id)
            if not contact.opted_out:
                assert replies and all(r.text.strip() for r in replies), texts[: i + 1]
            outbound = session.scalar(
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.in_reply_to_id == inbound.id, Message.direction == Direction.OUTBOUND)
            )
            assert outbound == len(replies)
            _check_conversation(session, address)
