"""What the SMS webhook is sent, checked before the database sees it: never a 500, and a 400 with a reason for
what cannot be used; senders read as E.164 in the configured region; other channels never merged into SMS."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from intake.models import Contact, Direction, Message
from intake.platform.errors import InputError
from intake.platform.settings import Settings
from sms.webhook import normalise_sender
from tests.support.twilio import message_texts
from tests.support.webapp import replace_settings

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


@pytest.mark.parametrize(
    "sid",
    ["SM\x00abc", "SM abc", "SM/../x", "SM" + "a" * 63, "SM1", "abc", "SM" + "a" * 31, "SM" + "a" * 33,
     "SM" + "g" * 32, "XX" + "0" * 32, "sm" + "0" * 32, "SM" + "a" * 62],
)  # fmt: skip
def test_a_message_sid_not_of_twilios_shape_is_a_400_and_nothing_is_stored(phone, session, sid):
    _refused(phone, phone.params("hi", sid=sid), "MessageSid")
    assert _inbound(session) == [] and _addresses(session) == []


@pytest.mark.parametrize("sid", ["SM" + "0123456789abcdef" * 2, "MM" + "0123456789ABCDEF" * 2])
def test_sms_and_mms_sids_of_twilios_shape_are_accepted(phone, session, sid):
    assert phone.post(phone.params("HELP", sid=sid)).status_code == 200
    assert [sid for _body, sid in _inbound(session)] == [sid]


def test_sms_sid_stands_for_a_missing_message_sid(phone, session):
    params = phone.params("HELP")
    params["SmsSid"] = params.pop("MessageSid")
    assert phone.post(params).status_code == 200
    assert [sid for _body, sid in _inbound(session)] == [params["SmsSid"]]


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
    ],
)
def test_senders_are_read_as_e164_in_the_default_region(raw, region, expected):
    assert normalise_sender(raw, region) == expected


@pytest.mark.parametrize(
    "sender",
    ["hello", "<script>alert(1)</script>", "+" + "1" * 40, "+", "10086", "Twilio", "+86138001380001",
     "+8612345", "1234"],
)  # fmt: skip
def test_a_sender_that_is_no_phone_number_is_a_400_and_nothing_is_stored(phone, session, sender):
    params = phone.params("报失")
    params["From"] = sender
    _refused(phone, params, "From is not a phone number")
    assert _inbound(session) == [] and _addresses(session) == []


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


SID = "MM" + "ab" * 16
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages/{SID}/Media/ME{'0' * 32}"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"}, "MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "x" * 101}, "MediaContentType0"),
    ],
)  # fmt: skip
def test_malformed_media_fields_are_a_400(phone, session, extra, reason):
    _refused(phone, phone.params("hi", sid=SID, **extra), reason)
    assert _inbound(session) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://reunite.example.org/healthz",  # the service itself
        "http://127.0.0.1:8000/healthz",
        "https://evil.example/2010-04-01/Accounts/AC" + "0" * 32 + f"/Messages/{SID}/Media/ME" + "0" * 32,
        "https://api.twilio.com.evil.example/2010-04-01/Accounts/AC"
        + "0" * 32
        + f"/Messages/{SID}/Media/ME"
        + "0" * 32,
        "https://user@api.twilio.com/2010-04-01/Accounts/AC"
        + "0" * 32
        + f"/Messages/{SID}/Media/ME"
        + "0" * 32,
        "http://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + f"/Messages/{SID}/Media/ME" + "0" * 32,
        MEDIA.replace(SID, "MM" + "cd" * 16),  # another message's media
        MEDIA + "?x=1",
        MEDIA.replace("/Media/", "/Media/../../"),
        "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
    ],
)
def test_media_anywhere_but_this_messages_media_on_twilios_api_is_a_400_and_nothing_is_stored(
    phone, session, url
):
    _refused(phone, phone.params("hi", sid=SID, NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg"),
             "MediaUrl0 is not a media file of this message")  # fmt: skip
    assert _inbound(session) == [] and _addresses(session) == []


def test_this_messages_media_on_twilios_api_is_accepted(phone, session):
    params = phone.params("", sid=SID, NumMedia="1", MediaUrl0=MEDIA, MediaContentType0="image/jpeg")
    assert phone.post(params).status_code == 200
    assert [sid for _body, sid in _inbound(session)] == [SID]


def test_media_of_another_twilio_account_is_refused_when_the_account_is_set(app, phone, session):
    rt = app.extensions["reunite"]
    app.extensions["reunite"] = dataclasses.replace(
        rt, settings=replace_settings(rt.settings, twilio_account_sid="AC" + "1" * 32)
    )
    params = phone.params("", sid=SID, NumMedia="1", MediaUrl0=MEDIA, MediaContentType0="image/jpeg")
    _refused(phone, params, "MediaUrl0")


def test_a_huge_body_is_refused_before_anything_is_stored(phone, session):
    response = phone.post(phone.params("x" * 200_000))
    assert response.status_code == 413 and _inbound(session) == []
    assert message_texts(phone.post(phone.params("HELP")))
