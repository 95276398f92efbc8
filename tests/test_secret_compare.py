"""Secrets, signatures and PINs are compared in constant time (intake.secret_compare, `hmac.compare_digest`): each
test below watches `hmac.compare_digest` and fails if the check were written with `==` or `!=`. The Telegram
webhook secret's test is in tests/bot/test_webhook.py (it needs the bot's fixtures)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from intake.cases.erasure import PinCheck, check_erasure_pin
from intake.cases.family import JoinOutcome, join_case
from intake.labs.errors import ForbiddenError
from intake.labs.keys import authenticate, issue_key, key_hash
from intake.models import Case, Channel, Contact, Role
from intake.platform.secret_compare import same_secret
from sms.signature import signature_valid
from tests.console.factories import lab_in
from tests.support.constant_time import watch_compare_digest


def test_same_secret_compares_text_as_bytes_and_never_raises() -> None:
    assert same_secret("123456", "123456") and not same_secret("123456", "123457")
    assert not same_secret("１２３４５６", "123456")  # full-width digits: a wrong PIN, not a TypeError


def test_a_case_pin_is_compared_in_constant_time(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    case = Case(reference="MC-2026-000001", pin="482913", child_name="小明")
    mother = Contact(channel=Channel.SMS, address="+8613800000001")
    stranger = Contact(channel=Channel.SMS, address="+8613800000002")
    session.add_all([case, mother, stranger])
    session.flush()
    case.reported_by_contact_id = mother.id
    calls = watch_compare_digest(monkeypatch)
    assert (
        join_case(session, stranger, case.reference, "482910", Role.FATHER).outcome is JoinOutcome.WRONG_PIN
    )
    assert (b"482910", b"482913") in calls
    calls.clear()
    assert check_erasure_pin(session, mother, "482913", actor="contact:1") is PinCheck.RIGHT
    assert (b"482913", b"482913") in calls


def test_a_lab_api_key_is_compared_in_constant_time(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = lab_in(session, "北京市", "北京")
    key, secret = issue_key(session, lab.id, actor="test")
    calls = watch_compare_digest(monkeypatch)
    assert authenticate(session, secret).id == key.id
    assert (key_hash(secret).encode(), key.key_hash.encode()) in calls
    with pytest.raises(ForbiddenError):
        authenticate(session, secret + "x")


def test_twilios_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    token, url = "twilio-auth-token", "https://reunite.example.cn/sms/webhook"
    form = MultiDict({"From": "+8613800000001", "Body": "你好", "MessageSid": "SM" + "0" * 32})
    signature = RequestValidator(token).compute_signature(url, form)
    calls = watch_compare_digest(monkeypatch)
    assert signature_valid(token, url, form, signature)
    assert any(given == signature.encode() for given, _expected in calls)
    assert not signature_valid(token, url, form, signature[:-2] + "AA")
    assert not signature_valid(token, url + "?x=1", form, signature)
