"""Twilio's inbound SMS webhook: check the signature and the form, then store the delivery in the spool and answer
with an empty TwiML at once (a dialogue worker answers through Twilio's API), or, in the inline mode, hand it to
the intake inbox and answer with the replies in TwiML.

The mode is REUNITE_REPLY_MODE (intake/config.py): `spool`, the default, is used when the service can send SMS
(TWILIO_ACCOUNT_SID and TWILIO_FROM_NUMBER are set, for the notification worker); without them, or with
`inline`, the dialogue runs in the request (docs/architecture.md, "The spool").

Every field is checked before the database sees it, with a 400 and a reason for what cannot be used, so no
delivery ever gets a 500: a MessageSid must be 1-64 letters and digits; From must be a printable SMS sender of
at most 64 characters; NumMedia a number from 0 to 10 with its MediaUrlN. Body is kept as sent, but for NUL
characters, which PostgreSQL cannot store and no phone types: the inbox drops them.

Senders: a number is stored in E.164; a national number without `+` is read in REUNITE_DEFAULT_REGION (CN by
default). `whatsapp:` and other channel prefixes are refused with a 400: those are other channels, each with
its own adapter, and must never be merged into the SMS contact of the same number. Short codes and
alphanumeric sender ids are kept as sent.
"""

from __future__ import annotations

import logging
import re

import phonenumbers
from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from intake import clock, spool
from intake.config import Settings
from intake.dialogue.types import Incoming, Media, Reply
from intake.errors import InputError
from intake.inbox import check_incoming, process, render_plain
from intake.models import MAX_ADDRESS_CHARS, MAX_CONTENT_TYPE_CHARS, MAX_PROVIDER_ID_CHARS, Channel
from intake.web.support import json_error, runtime

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)

MAX_MEDIA = 10  # Twilio sends at most ten media per MMS
MAX_MEDIA_URL_CHARS = 2048
_SID = re.compile(rf"[A-Za-z0-9]{{1,{MAX_PROVIDER_ID_CHARS}}}", re.ASCII)
_NUM_MEDIA = re.compile(r"[0-9]{1,2}", re.ASCII)
_CHANNEL_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _signed_url() -> str:
    """Return the URL Twilio signed: PUBLIC_BASE_URL + path (+ query), else the URL as this server saw it."""
    base = runtime().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def normalise_sender(raw: str, region: str) -> str:
    """Return an SMS sender as E.164 (national numbers read in `region`), or as given when it is no number."""
    sender = raw.strip()
    if not sender:
        raise InputError("From is missing.")
    if len(sender) > MAX_ADDRESS_CHARS or not sender.isprintable():
        raise InputError(
            "From is longer than %(n)s characters or holds control characters.", n=MAX_ADDRESS_CHARS
        )
    if _CHANNEL_PREFIX.match(sender):
        raise InputError("From is not an SMS sender: this endpoint takes SMS only, not %(prefix)s.",
                         prefix=sender.split(":", 1)[0] + ":")  # fmt: skip
    try:
        number = phonenumbers.parse(sender, region)
    except phonenumbers.NumberParseException:
        return sender  # an alphanumeric sender id
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return sender  # a short code (possible only locally) or no phone number at all
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _media(form: dict[str, str]) -> tuple[Media, ...]:
    raw = form.get("NumMedia", "0").strip() or "0"
    if not _NUM_MEDIA.fullmatch(raw) or int(raw) > MAX_MEDIA:
        raise InputError("NumMedia must be a number from 0 to %(n)s.", n=MAX_MEDIA)
    media = []
    for i in range(int(raw)):
        url = form.get(f"MediaUrl{i}", "").strip()
        kind = form.get(f"MediaContentType{i}", "").strip() or "application/octet-stream"
        if (
            not url.startswith(("https://", "http://"))
            or len(url) > MAX_MEDIA_URL_CHARS
            or not url.isprintable()
        ):
            raise InputError("MediaUrl%(i)s is missing or is not a URL of at most %(n)s characters.",
                             i=i, n=MAX_MEDIA_URL_CHARS)  # fmt: skip
        if len(kind) > MAX_CONTENT_TYPE_CHARS or not kind.isprintable():
            raise InputError("MediaContentType%(i)s is not a content type.", i=i)
        media.append(Media(url, kind))
    return tuple(media)


def read_form(form: dict[str, str], region: str) -> Incoming:
    """Turn Twilio's form into an Incoming, or raise InputError saying which field cannot be used."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not _SID.fullmatch(sid):
        raise InputError("MessageSid is missing or malformed.")
    return Incoming(
        channel=Channel.SMS,
        address=normalise_sender(form.get("From", ""), region),
        text=form.get("Body", ""),  # the inbox drops NUL characters
        received_at=clock.now(),
        provider_id=sid,
        media=_media(form),
    )


def twiml(replies: list[Reply]) -> Response:
    """Render replies as a TwiML <Response> with one <Message> per reply."""
    response = MessagingResponse()
    for reply in replies:
        response.message(render_plain(reply))
    return Response(str(response), mimetype="application/xml")


def refuse_unsigned() -> Response | None:
    """Return the error answer for a request Twilio did not sign (503 unconfigured, 403 forged), else None."""
    token = runtime().settings.twilio_auth_token
    if not token:
        return json_error(503, "The SMS channel is not configured: set TWILIO_AUTH_TOKEN.")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return json_error(403, "Missing X-Twilio-Signature header.")
    if not RequestValidator(token).validate(_signed_url(), request.form, signature):
        log.warning("forged or mis-signed request to %s", request.path)
        return json_error(403, "Invalid X-Twilio-Signature for this URL.")
    return None


def spooling(settings: Settings) -> bool:
    """Tell whether deliveries go to the spool: the spool mode, and a way to send the replies (Twilio's API)."""
    return (
        settings.reply_mode == "spool"
        and bool(settings.twilio_account_sid)
        and bool(settings.twilio_from_number)
    )


@bp.post("/inbound")
def inbound() -> Response:
    """Take one inbound SMS from Twilio: store it and answer at once (spool), or answer it in TwiML (inline)."""
    rt = runtime()
    refused = refuse_unsigned()
    if refused is not None:
        return refused
    try:
        incoming = read_form(request.form.to_dict(), rt.settings.default_region)
        check_incoming(incoming)
    except InputError as exc:
        return json_error(400, str(exc), "bad_request")
    if spooling(rt.settings):
        assert incoming.provider_id is not None  # read_form requires a MessageSid
        # one statement; a retry of a delivery still waiting is stored once, and answered the same way
        spool.store(
            rt.engine, Channel.SMS, incoming.provider_id, incoming.address, spool.sms_payload(incoming)
        )
        return twiml([])
    return twiml(process(rt.session_factory, incoming))
