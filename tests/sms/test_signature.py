"""Twilio's signatures are compared in constant time: `hmac.compare_digest` decides, on the inbound webhook and on
the status callbacks, so a forged signature's first right characters do not make the answer slower."""

from __future__ import annotations

import hmac

import pytest

from sms.signature import signature_valid
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone, new_sid, sign

URL = PUBLIC_BASE_URL + "/sms/inbound"


class Spy:
    """hmac.compare_digest, recording each call and answering `verdict` (None: the real answer)."""

    def __init__(self, verdict: bool | None) -> None:
        self.verdict, self.calls = verdict, 0
        self.real = hmac.compare_digest

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls += 1
        return self.real(a, b) if self.verdict is None else self.verdict


@pytest.mark.parametrize("verdict", [True, False])
def test_compare_digest_is_what_decides_on_the_inbound_webhook(client, monkeypatch, verdict):
    spy = Spy(verdict)
    monkeypatch.setattr(hmac, "compare_digest", spy)
    phone = Phone(client)
    params = phone.params("HELP")
    # a forged signature passes when compare_digest says equal; the right one fails when it says different
    signature = "forged-signature-of-28-chars=" if verdict else sign(URL, params)
    response = phone.post(params, signature=signature)
    assert spy.calls >= 1
    assert response.status_code == (200 if verdict else 403)


def test_the_status_callback_checks_with_compare_digest_too(client, monkeypatch):
    spy = Spy(None)
    monkeypatch.setattr(hmac, "compare_digest", spy)
    form = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    response = client.post("/sms/status", data=form, headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403 and spy.calls >= 1


def test_a_signature_with_or_without_the_port_is_taken_and_nothing_else():
    params = {"Body": "hi", "From": "+8613800138000"}
    assert signature_valid(AUTH_TOKEN, URL, params, sign(URL, params))
    with_port = "https://reunite.example.org:443/sms/inbound"
    assert signature_valid(AUTH_TOKEN, URL, params, sign(with_port, params))
    assert not signature_valid(AUTH_TOKEN, URL, params, sign(URL, {**params, "Body": "ho"}))
    assert not signature_valid(AUTH_TOKEN, URL, params, sign(URL, params, token="another-token"))
    assert not signature_valid(AUTH_TOKEN, URL, params, "签名")  # not ASCII: refused, not an error
