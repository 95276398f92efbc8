"""Issue 11's "done when", end to end on the embedded default: a mother reports and books by SMS (signed Twilio
webhooks), the lab uploads both parents' profiles and a found child's through its API, `reunite match --pending`
stores one candidate, `reunite worker` alerts the province's officers (fake SMTP and Telegram), an officer
confirms in headless Chromium and a different supervisor approves, and the worker tells the mother in Chinese on
the fake Twilio, exactly once. A second candidate, rejected, tells no one."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.cli.match import make_match_commands
from intake.cli.officers import make_officers_group
from intake.labs.appointments import book, sample_for
from intake.labs.keys import issue_key
from intake.models import (
    Audience,
    Booking,
    Case,
    Channel,
    Consent,
    ConsentScope,
    Contact,
    Lab,
    Notification,
    Person,
    Role,
    Sample,
)
from intake.platform.settings import Settings
from notifications.worker import Worker
from tests.console.test_browser import _log_in, browser  # noqa: F401 - the headless Chromium fixture
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import check_turn
from tests.matching_service.world import World
from tests.notifications.conftest import (  # noqa: F401 - the fake providers
    Mailbox,
    fake_telegram,
    fake_twilio,
    mailbox,
    worker_settings,
)
from tests.support.fake_telegram_send import FakeTelegramSend
from tests.support.fake_twilio import FakeTwilio
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone
from tests.support.webapp import replace_settings, served, web_app, web_settings

pytest.importorskip("playwright.sync_api", reason="the test extra (playwright) is not installed")
from playwright.sync_api import Browser, expect  # noqa: E402

MOTHER = "+8613800138000"
PASSWORDS = {"li.wei": "li.wei's long secret", "zhang": "zhang's long secret"}
REPORT_AND_BOOK = [
    *t.REPORT_ZH,
    ("1", ("哪个城市或省份",)), ("广州", ("请选采血点",)), ("1", ("日期",)), ("1", ("确定预约",)),
    ("1", ("预约成功", "样本编号")),
]  # fmt: skip


@pytest.fixture
def app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    settings = web_settings(tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)
    return web_app(settings, engine, session_factory, demo_labs=True)


def _cli(command: object, args: list[str], stdin: str | None = None) -> str:
    result = CliRunner().invoke(command, args, input=stdin, catch_exceptions=False)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.output


def _match_pending(factory: sessionmaker[Session]) -> None:
    commands = {c.name: c for c in make_match_commands(lambda: factory)}
    _cli(commands["match"], ["--pending", "--no-progress"])


def _sms_report_and_booking(client: FlaskClient) -> None:
    phone = Phone(client, number=MOTHER)
    for number, (text, expected) in enumerate(REPORT_AND_BOOK, 1):
        check_turn(number, text, expected, phone.text(text))


def _father_booked(factory: sessionmaker[Session]) -> tuple[int, int, str, str]:
    """The father joins (consents and a booking at the same lab and day, as the join flow records them)."""
    with factory() as session:
        case = session.scalars(sa.select(Case)).one()
        mother = session.scalars(sa.select(Sample).where(Sample.case_id == case.id)).one()
        lab_day = session.get_one(Booking, mother.booking_id).lab_day
        father = Person(case_id=case.id, role=Role.FATHER)
        session.add(father)
        session.flush()
        for scope in ConsentScope:  # his own consents, as the join flow records them
            session.add(Consent(case_id=case.id, person_id=father.id, scope=scope, granted=True,
                                channel=Channel.SMS, language="zh_CN", text_version="2026-11"))  # fmt: skip
        booking = book(session, case=case, lab_id=lab_day.lab_id, day=lab_day.day, person=father,
                       source=mother.source, actor="test")  # fmt: skip
        sample = sample_for(session, booking)
        assert sample is not None
        found = (case.id, lab_day.lab_id, mother.code, sample.code)
        session.commit()
    return found


def _family_messages(factory: sessionmaker[Session]) -> list[Notification]:
    with factory() as session:
        query = sa.select(Notification).where(Notification.audience == Audience.FAMILY,
                                              Notification.template == "match.approved")  # fmt: skip
        return list(session.scalars(query))


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Notification)) or 0)


def test_the_whole_path_from_an_sms_report_to_the_familys_message(
    browser: Browser,  # noqa: F811
    app: Flask,
    session_factory: sessionmaker[Session],
    worker_settings: Settings,  # noqa: F811
    fake_twilio: FakeTwilio,  # noqa: F811
    fake_telegram: FakeTelegramSend,  # noqa: F811
    mailbox: tuple[Mailbox, int],  # noqa: F811
) -> None:
    client = app.test_client()
    _sms_report_and_booking(client)
    case_id, lab_id, mother_code, father_code = _father_booked(session_factory)
    with session_factory() as session:
        lab = session.get_one(Lab, lab_id)
        province = lab.province
        _key, secret = issue_key(session, lab.id, actor="test", name="e2e key")  # `reunite labs key LAB_ID`
        session.commit()
        case = session.get_one(Case, case_id)
        reference, pin = case.reference, case.pin
    officers = make_officers_group(lambda: session_factory)
    _cli(officers, ["add", "li.wei", "--role", "officer", "--province", province, "--name", "李伟",
                    "--alert-channel", "email", "--alert-address", "li.wei@police.example.cn",
                    "--password-stdin"], PASSWORDS["li.wei"] + "\n")  # fmt: skip
    _cli(officers, ["add", "zhang", "--role", "supervisor", "--province", province, "--alert-channel",
                    "telegram", "--alert-address", "4242", "--password-stdin"], PASSWORDS["zhang"] + "\n")  # fmt: skip

    # The lab: both parents collected and typed, then a found child registered by officers, typed.
    world = World(client, session_factory, lab.id, secret)
    mother, father = world.person("female"), world.person("male")
    for code, profile in ((mother_code, mother), (father_code, father)):
        world.collected(code)
        world.upload(code, profile)
    child = world.found_child()
    world.upload(child["child"], world.child(father, mother))
    _match_pending(session_factory)
    [candidate] = world.candidates()
    assert candidate.band == "candidate" and candidate.family_case_id == case_id

    # `reunite worker`: the officers' alerts reach the fake SMTP server and the fake Telegram.
    worker = Worker(session_factory, replace_settings(worker_settings, notifications_family_hours=(0, 24)))
    worker.run_once()
    box, _port = mailbox
    [mail] = [m for m in box.messages if "li.wei@police.example.cn" in m["To"]]
    assert reference in mail["Subject"] and f"/console/candidates/{candidate.id}" in mail.get_content()
    [alert] = fake_telegram.texts_to("4242")
    assert reference in alert and "D3S1358" not in alert and "candidate" in alert

    # The console, in headless Chromium: the officer confirms, a different supervisor approves.
    with served(app) as url:
        page = browser.new_page(locale="en-US")
        _log_in(page, url, "li.wei", PASSWORDS["li.wei"])
        page.goto(f"{url}/console/candidates")
        page.click(f"a[href='/console/candidates/{candidate.id}']")
        expect(page.locator("h1")).to_be_visible()
        page.click("form:has(input[value=confirm]) button")
        expect(page.locator("#review-state")).to_have_text("confirmed")
        page.click("text=Log out")
        _log_in(page, url, "zhang", PASSWORDS["zhang"])
        page.goto(f"{url}/console/candidates/{candidate.id}")
        page.click("form:has(input[value=approve]) button")
        expect(page.locator("#review-state")).to_have_text("approved: family told")

        def told() -> list[str]:  # the family's earlier messages (sample received, typed) do not show the PIN
            return [body for body in fake_twilio.bodies_to(MOTHER) if pin in body]

        assert told() == []  # queued with the approval, sent by the worker
        worker.run_once()
        worker.run_once()  # a second pass sends nothing again
        [message] = told()
        assert message.startswith("团圆") and reference in message and "请致电" in message
        assert "D3S1358" not in message and "LR" not in message
        assert len(_family_messages(session_factory)) == 1

        # A second candidate (another family's mother and her found child), rejected: no one is told.
        other = world.family(Role.MOTHER)
        other_mother = world.person("female")
        world.upload(other.codes["mother"], other_mother)
        other_child = world.found_child()
        world.upload(other_child["child"], world.child(world.person("male"), other_mother))
        _match_pending(session_factory)
        second = next(c for c in world.candidates() if c.family_case_id == other.case_id)
        worker.run_once()  # the officers' alert of the second candidate, the other family's "typed"
        queued = _count(session_factory)
        page.goto(f"{url}/console/candidates/{second.id}")
        page.fill("#reason", "同一实验室的样本污染")
        page.click("form:has(input[value=reject]) button")
        # A strong candidate: one person's rejection is a proposal a second supervisor must agree to.
        expect(page.locator("#review-state")).to_have_text("rejection proposed: a second person must agree")
    worker.run_once()
    assert len(_family_messages(session_factory)) == 1
    assert _count(session_factory) == queued  # the rejection queued nothing for anyone
    with session_factory() as session:
        other_pin = session.get_one(Case, other.case_id).pin
        other_phone = session.get_one(Contact, other.contact_id).address
    assert not [body for body in fake_twilio.bodies_to(other_phone) if other_pin in body]
    assert len(told()) == 1
