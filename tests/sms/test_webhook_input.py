"""What the SMS webhook is sent, checked before the database sees it: never a 500, and a 400 with a reason for
what cannot be used; senders read as E.164 in the configured region; other channels never merged into SMS."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from intake.config import Settings
from intake.errors import InputError
from intake.models import Contact, Direction, Message
from sms.webhook import normalise_sender
from tests.support.twilio import message_texts

APOLOGY = "Sorry, something went wrong"


def _inbound(session):
    query = sa.select(Message.body, Message.provider_id).where(Message.direction == Direction.INBOUND)
    rows = session.execute(query).all()
    session.rollback()  # end the read: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)
    return rows


def _addresses(session):
    addresses = session.scalars(sa.select(Contact.address).order_by(Contact.id)).all()
    session.rollback()
    return addresses


def _refused(phone, params, reason):
    response = phone.post(params)
    assert response.status_code == 400, response.data
    assert reason in response.get_json()["error"]["message"]


@pytest.mark.parametrize("num_media", ["²", "-1", "11", "1e1", "٣", "x"])
def test_a_malformed_num_media_is_a_400(phone, session, num_media):
    _refused(phone, phone.params("hi", NumMedia=num_media), "NumMedia")
    assert _inbound(session) == []


def test_a_nul_in_the_body_is_dropped_and_the_rest_answered(phone, session):
    replies = phone.text("HE\x00LP")
    assert replies and not any(APOLOGY in r for r in replies)
    assert [body for body, _sid in _inbound(session)] == ["HELP"]


@pytest.mark.parametrize("sid", ["SM\x00abc", "SM abc", "SM/../x", "SM" + "a" * 63])
def test_a_nul_odd_character_or_65_character_message_sid_is_a_400(phone, session, sid):
    _refused(phone, phone.params("hi", sid=sid), "MessageSid")
    assert _inbound(session) == []


def test_a_64_character_message_sid_is_accepted(phone, session):
    sid = "SM" + "a" * 62
    assert phone.post(phone.params("HELP", sid=sid)).status_code == 200
    assert [sid for _body, sid in _inbound(session)] == [sid]


@pytest.mark.parametrize("sender", ["+86" + "1" * 300, "+86138\x000138000", "+86138\t00138000"])
def test_an_over_long_or_control_character_sender_is_a_400_and_breaks_nothing(phone, session, sender):
    params = phone.params("HELP")
    params["From"] = sender
    _refused(phone, params, "From")
    assert _inbound(session) == []
    assert not any(APOLOGY in r for r in phone.text("HELP"))  # the next message is answered as usual


def test_white_space_around_a_sender_is_trimmed_not_refused(phone, session):
    phone.number = " +8613800138000\n"
    phone.text("HELP")
    assert _addresses(session) == ["+8613800138000"]


@pytest.mark.parametrize("sender", ["whatsapp:+8613800138000", "messenger:12345", "WhatsApp:+8613800138000"])
def test_other_channels_are_refused_and_never_merged_into_the_sms_contact(phone, session, sender):
    phone.text("HELP")
    params = phone.params("删除")
    params["From"] = sender
    _refused(phone, params, "SMS only")
    assert _addresses(session) == [phone.number]
    assert len(_inbound(session)) == 1


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+8613800138000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", "CN", "+8613800138000"),
        ("13800138000", "CN", "+8613800138000"),
        ("(202) 555-0123", "US", "+12025550123"),
        ("+44 20 7946 0958", "CN", "+442079460958"),
        ("10086", "CN", "10086"),  # a short code is kept as sent
        ("Twilio", "CN", "Twilio"),  # so is an alphanumeric sender id
    ],
)
def test_senders_are_read_as_e164_in_the_default_region(raw, region, expected):
    assert normalise_sender(raw, region) == expected


def test_a_national_number_reaches_the_contact_of_its_e164_form(phone, session):
    phone.text("HELP")
    phone.number = "138 0013 8000"
    phone.text("HELP")
    assert _addresses(session) == ["+8613800138000"]
    assert len(_inbound(session)) == 2


def test_the_default_region_is_configurable(app, phone, session):
    rt = app.extensions["reunite"]
    app.extensions["reunite"] = dataclasses.replace(
        rt, settings=dataclasses.replace(rt.settings, default_region="US")
    )
    phone.number = "202-555-0123"
    phone.text("HELP")
    assert _addresses(session) == ["+12025550123"]


def test_settings_read_the_default_region_from_the_environment(tmp_path):
    env = {"REUNITE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env, load_dotenv_file=False).default_region == "CN"
    env["REUNITE_DEFAULT_REGION"] = "us"
    assert Settings.from_env(env, load_dotenv_file=False).default_region == "US"


def test_a_missing_sender_is_refused_by_the_reader():
    with pytest.raises(InputError):
        normalise_sender("   ", "CN")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x", "MediaContentType0": "x" * 101},
         "MediaContentType0"),
    ],
)  # fmt: skip
def test_malformed_media_fields_are_a_400(phone, session, extra, reason):
    _refused(phone, phone.params("hi", **extra), reason)
    assert _inbound(session) == []


def test_a_huge_body_is_refused_before_anything_is_stored(phone, session):
    response = phone.post(phone.params("x" * 200_000))
    assert response.status_code == 413 and _inbound(session) == []
    assert message_texts(phone.post(phone.params("HELP")))
