"""The outbox's core: queued in the event's transaction, once per key, never to an opted-out contact, never with
genetic detail; custody events tell the family in their language; officers are e-mailed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.models import (
    Audience,
    Case,
    CustodyEventType,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Sample,
    utcnow,
)
from intake.outbox.queue import OfficerAddress, enqueue, notify_family, notify_officers
from intake.outbox.templates import TemplateError, render
from intake.samples.custody import append_event
from tests.notifications.conftest import PHONE, at
from tests.notifications.helpers import contact_of, notifications, queue_received

St = NotificationStatus


def _custody(session, family, *types):
    sample = session.get_one(Sample, family.id)
    for event in types:
        append_event(session, sample, event, actor="labkey:1", lab_id=None, at=utcnow())
    return sample


def test_a_rolled_back_event_queues_and_sends_nothing(session, family, make_worker, fake_twilio):
    _custody(session, family, CustodyEventType.COLLECTED, CustodyEventType.RECEIVED)
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1  # in the transaction ...
    session.rollback()  # ... which fails
    assert notifications(session) == []
    make_worker().run_once()
    assert fake_twilio.requests == 0


def test_received_and_typed_reach_the_family_in_their_language(session, family, make_worker, fake_twilio):
    contact_of(session, PHONE).language = "en"
    _custody(session, family, CustodyEventType.COLLECTED, CustodyEventType.RECEIVED, CustodyEventType.TYPED)
    session.commit()
    make_worker().run_once()
    received, typed = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert received == (
        f"reunite, case {reference}: the lab has received your DNA sample {family.code}. We will tell you when"
        " it is tested. Send STATUS to see your case."
    )
    assert (
        typed.startswith(f"reunite, case {reference}: your DNA sample {family.code} is tested")
        and "never ask for money" in typed
    )
    assert [n.idempotency_key for n in notifications(session)] == [
        f"sample:{family.id}:received",
        f"sample:{family.id}:typed",
    ]


def test_collected_tells_no_one_and_typed_in_chinese(session, family, make_worker, fake_twilio):
    _custody(session, family, CustodyEventType.COLLECTED)
    session.commit()
    assert notifications(session) == []
    _custody(session, family, CustodyEventType.TYPED)
    session.commit()
    make_worker().run_once()
    (typed,) = fake_twilio.bodies_to(PHONE)
    reference = session.get_one(Case, family.case_id).reference
    assert (
        typed.startswith(f"团圆（案件{reference}）：您的DNA样本{family.code}已检测完成")
        and "从不收费" in typed
    )


def test_the_same_key_queues_one_notification(session, family):
    queue_received(session, family)
    queue_received(session, family)
    assert len(notifications(session)) == 1


def test_an_opted_out_contact_gets_nothing(session, family, make_worker, fake_twilio):
    contact_of(session, PHONE).opted_out = True
    session.commit()
    queue_received(session, family)
    (n,) = notifications(session)
    assert (n.status, n.error_code) == (St.CANCELLED, "opted_out")
    make_worker().run_once()
    assert fake_twilio.requests == 0


def test_a_contact_who_opts_out_after_queuing_gets_nothing(session, family, make_worker, fake_twilio):
    queue_received(session, family)
    contact_of(session, PHONE).opted_out = True  # STOP arrived before the worker ran
    session.commit()
    make_worker().run_once()
    assert fake_twilio.requests == 0
    (n,) = notifications(session)
    assert (n.status, n.error_code) == (St.CANCELLED, "opted_out")


def test_a_family_that_deleted_their_data_gets_nothing(session, family, make_worker, fake_twilio):
    from intake.cases.erasure import erase_contact

    queue_received(session, family)
    erase_contact(session, contact_of(session, PHONE), actor="test", now=utcnow())
    session.commit()
    make_worker().run_once()
    assert fake_twilio.requests == 0
    (n,) = notifications(session)
    assert (n.status, n.error_code, n.params) == (St.CANCELLED, "erased", {})


@pytest.mark.parametrize(
    "params",
    [
        {"code": "X", "lr": 1e9},
        {"code": "X", "genotypes": "D3S1358 15,16"},
        {},
        {"code": {"D3S1358": [15, 16]}},
    ],
)
def test_no_parameter_but_the_templates_own_can_be_queued(session, family, params):
    with pytest.raises(TemplateError):
        notify_family(session, contact=contact_of(session, PHONE), key="k", template="sample.received",
                      params=params, case_id=family.case_id)  # fmt: skip


def test_unknown_template_and_wrong_audience_are_refused(session, family):
    contact = contact_of(session, PHONE)
    with pytest.raises(TemplateError):
        notify_family(session, contact=contact, key="k", template="nope", params={})
    with pytest.raises(TemplateError):
        enqueue(session, key="k", template="sample.received", params={"code": "X"}, audience=Audience.OFFICER,
                channel=NotificationChannel.EMAIL, language="en", address="a@b.c")  # fmt: skip


CANDIDATE = {"reference": "C-2026-000123", "band": "strong", "province": "广东省",
             "url": "https://reunite.example.org/console/candidates/9"}  # fmt: skip


def test_officers_are_emailed_a_new_candidate_once_each(session, family, make_worker, mailbox):
    box, _port = mailbox
    officers = [
        OfficerAddress(1, NotificationChannel.EMAIL, "li.wei@police.example.cn", "zh_CN"),
        OfficerAddress(2, NotificationChannel.EMAIL, "chen.jing@police.example.cn", "en"),
    ]
    for _ in range(2):  # the same candidate stored twice (a retried job) alerts once
        notify_officers(session, recipients=officers, key="candidate:9", template="candidate.stored",
                        params=CANDIDATE, case_id=family.case_id)  # fmt: skip
    session.commit()
    make_worker().run_once()
    # two officers, sent at once (the worker's send threads): in either order, each once, each in their language
    assert sorted(box.recipients) == [["chen.jing@police.example.cn"], ["li.wei@police.example.cn"]]
    by_address = {str(m["To"]): m for m in box.messages}
    chinese, english = by_address["li.wei@police.example.cn"], by_address["chen.jing@police.example.cn"]
    assert chinese["Subject"] == "团圆：案件C-2026-000123有新的候选比中"
    assert "民警工作台" in chinese.get_content() and CANDIDATE["url"] in chinese.get_content()
    assert english["Subject"] == "reunite: new candidate match for case C-2026-000123"
    assert english["From"] == "alerts@reunite.example.org"
    assert english["Message-ID"] == "<reunite-notification-candidate.9.officer.2@reunite.example.org>"
    assert {n.status for n in notifications(session)} == {St.SENT}


def test_a_mail_server_that_refuses_the_officer_stops(session, family, make_worker, mailbox):
    box, port = mailbox
    officers = [OfficerAddress(1, NotificationChannel.EMAIL, "nobody@police.example.cn")]
    notify_officers(session, recipients=officers, key="candidate:10", template="candidate.stored",
                    params=CANDIDATE, case_id=family.case_id)  # fmt: skip
    session.commit()

    async def refuse(server, session_, envelope, address, rcpt_options):  # noqa: ARG001
        return "550 5.1.1 No such user"

    box.handle_RCPT = refuse  # type: ignore[attr-defined]
    make_worker().run_once()
    with at(3600):
        make_worker().run_once()
    (n,) = notifications(session)
    assert (n.status, n.error_code) == (St.FAILED, "smtp_refused") and box.messages == []


def test_officers_on_telegram_get_the_alert_there(session, family, make_worker, fake_telegram):
    officers = [OfficerAddress("7", NotificationChannel.TELEGRAM, "555", "en")]
    notify_officers(session, recipients=officers, key="candidate:11", template="candidate.stored",
                    params=CANDIDATE, case_id=family.case_id)  # fmt: skip
    session.commit()
    make_worker().run_once()
    (text,) = fake_telegram.texts_to("555")
    assert text.startswith("New candidate match for case C-2026-000123 (strong)")


def test_a_notification_of_a_template_no_longer_known_is_cancelled_not_sent(
    session, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    session.get_one(Notification, nid).template = "retired.template"
    session.commit()
    make_worker().run_once()
    assert fake_twilio.requests == 0
    (n,) = notifications(session)
    assert (n.status, n.error_code) == (St.CANCELLED, "unknown_template")


@pytest.mark.parametrize(
    ("language", "shown"), [("zh-CN", "似然比不低于10,000"), ("en", "likelihood ratio 10,000 or more")]
)
def test_an_officers_alert_names_the_band_in_the_officers_language(language, shown):
    text = render("candidate.stored", language, {**CANDIDATE, "band": "candidate"})
    assert shown in text and "(candidate)" not in text and "（candidate）" not in text


def test_a_message_queued_before_it_named_the_case_is_sent_with_the_case(
    session, family, make_worker, fake_twilio
):
    # A row an older release queued (params without the reference) is completed from its case, not dropped.
    contact = contact_of(session, PHONE)
    session.add(Notification(idempotency_key="old:1", audience=Audience.FAMILY, channel=NotificationChannel.SMS,
                             contact_id=contact.id, case_id=family.case_id, template="sample.received",
                             params={"code": family.code}, language="zh_CN", next_attempt_at=utcnow()))  # fmt: skip
    session.commit()
    make_worker().run_once()
    (text,) = fake_twilio.bodies_to(PHONE)
    assert text.startswith(f"团圆（案件{session.get_one(Case, family.case_id).reference}）：实验室已收到")
