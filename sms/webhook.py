"""Twilio's inbound SMS webhook: check the signature, hand the text to the intake inbox, answer with TwiML."""

from __future__ import annotations

import logging

import phonenumbers
from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from intake import clock
from intake.dialogue.types import Incoming, Reply
from intake.inbox import process, render_plain
from intake.models import Channel
from intake.web.support import json_error, runtime

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)

MAX_SID_CHARS = 64


def _signed_url() -> str:
    """Return the URL Twilio signed: PUBLIC_BASE_URL + path (+ query), else the URL as this server saw it."""
    base = runtime().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def _normalise_address(raw: str) -> str:
    """Return the sender as E.164 when it parses as a phone number, else as given (short codes, aliases)."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return raw.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def twiml(replies: list[Reply]) -> Response:
    """Render replies as a TwiML <Response> with one <Message> per reply."""
    response = MessagingResponse()
    for reply in replies:
        response.message(render_plain(reply))
    return Response(str(response), mimetype="application/xml")


@bp.post("/inbound")
def inbound() -> Response:
    """Take one inbound SMS from Twilio and answer it in TwiML."""
    token = runtime().settings.twilio_auth_token
    if not token:
        return json_error(503, "The SMS channel is not configured: set TWILIO_AUTH_TOKEN.")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return json_error(403, "Missing X-Twilio-Signature header.")
    if not RequestValidator(token).validate(_signed_url(), request.form, signature):
        log.warning("forged or mis-signed request to %s", request.path)
        return json_error(403, "Invalid X-Twilio-Signature for this URL.")

    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    sender = request.form.get("From", "")
    if not sid or len(sid) > MAX_SID_CHARS:
        return json_error(400, "MessageSid is missing or malformed.")
    if not sender.strip():
        return json_error(400, "From is missing.")
    body = request.form.get("Body", "")
    num_media = request.form.get("NumMedia", "0")
    count = int(num_media) if num_media.isdigit() else 0
    media = tuple(
        request.form[f"MediaUrl{i}"] for i in range(min(count, 10)) if f"MediaUrl{i}" in request.form
    )
    incoming = Incoming(
        channel=Channel.SMS,
        address=_normalise_address(sender),
        text=body,
        received_at=clock.now(),
        provider_id=sid,
        media_urls=media,
    )
    replies = process(runtime().session_factory, incoming)
    return twiml(replies)
