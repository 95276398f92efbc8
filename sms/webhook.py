"""Twilio's inbound SMS webhook: check the signature and the form, then store the delivery in the spool and answer
with an empty TwiML at once (a dialogue worker answers through Twilio's API), or, in the inline mode, hand it to
the intake inbox and answer with the replies in TwiML.

The mode is REUNITE_REPLY_MODE (intake/platform/settings): `spool`, the default, is used when the service can send SMS
(TWILIO_ACCOUNT_SID and TWILIO_FROM_NUMBER are set, for the notification worker); without them, or with
`inline`, the dialogue runs in the request (docs/architecture.md, "The spool").

Every field is checked before the database sees it (`read_form`), with a 400 and a reason for what cannot be
used, so no delivery ever gets a 500 and nothing of a refused one is stored:

* MessageSid (or SmsSid) has Twilio's documented shape: `SM` or `MM` and 32 hexadecimal digits;
* From is a valid phone number (the `phonenumbers` library), stored in E.164; a national number without `+` is
  read in REUNITE_DEFAULT_REGION (CN by default). Names, short codes, alphanumeric sender ids and numbers no
  country issues are refused: nobody can be answered there. `whatsapp:` and other channel prefixes are refused
  too: those are other channels, each with its own adapter, and must never be merged into the SMS contact of
  the same number;
* NumMedia is a number from 0 to 10 with its MediaUrlN, and each MediaUrlN is a media resource of this very
  message on Twilio's API (`<TWILIO_API_BASE_URL>/2010-04-01/Accounts/AC…/Messages/<MessageSid>/Media/ME…`,
  https://api.twilio.com by default; of TWILIO_ACCOUNT_SID's account when that is set): a link anywhere else is
  never stored, so the fetch job (`sms.media`) only ever asks Twilio.

Body is kept as sent, but for NUL characters, which PostgreSQL cannot store and no phone types: the inbox drops
them.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from intake.dialogue.types import Incoming, Media, Reply
from intake.inbound import spool
from intake.inbound.inbox import check_incoming, process, render_plain
from intake.models import MAX_ADDRESS_CHARS, MAX_CONTENT_TYPE_CHARS, Channel
from intake.platform import clock
from intake.platform.errors import InputError
from intake.platform.settings import Settings
from intake.web.support import json_error, runtime
from sms.signature import refuse_unsigned

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)

MAX_MEDIA = 10  # Twilio sends at most ten media per MMS
MAX_MEDIA_URL_CHARS = 2048
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}", re.ASCII)  # Twilio's shape of an inbound message's SID
_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages/((?:SM|MM)[0-9a-fA-F]{32})/Media/ME[0-9a-fA-F]{32}",
    re.ASCII,
)
_NUM_MEDIA = re.compile(r"[0-9]{1,2}", re.ASCII)
_CHANNEL_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@lru_cache(maxsize=65_536)
def normalise_sender(raw: str, region: str) -> str:
    """Return an SMS sender as E.164 (national numbers read in `region`); refuse what is no valid phone number.

    Cached: a parent's number comes back with each message of a conversation, and parsing it is a good part of
    the spooling webhook's own time (a refusal raises, so it is never cached)."""
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
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InputError(
            "From is not a phone number: it must be a valid number in E.164, like +8613800138000."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def media_url_allowed(url: str, message_sid: str, settings: Settings) -> bool:
    """Tell whether `url` is a media resource of this message on Twilio's API (and of our account, if known)."""
    parts, base = urlsplit(url), urlsplit(settings.twilio.api_base_url)
    if (
        (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower())
        or parts.query
        or parts.fragment
    ):
        return False
    path = parts.path.removeprefix(base.path.rstrip("/"))
    match = _MEDIA_PATH.fullmatch(path)
    if match is None or match.group(2) != message_sid:
        return False
    return settings.twilio.account_sid is None or match.group(1) == settings.twilio.account_sid


def _media(form: dict[str, str], sid: str, settings: Settings) -> tuple[Media, ...]:
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
        if not media_url_allowed(url, sid, settings):
            raise InputError("MediaUrl%(i)s is not a media file of this message on Twilio's API (%(base)s).",
                             i=i, base=settings.twilio.api_base_url)  # fmt: skip
        if len(kind) > MAX_CONTENT_TYPE_CHARS or not kind.isprintable():
            raise InputError("MediaContentType%(i)s is not a content type.", i=i)
        media.append(Media(url, kind))
    return tuple(media)


def read_form(form: dict[str, str], settings: Settings) -> Incoming:
    """Turn Twilio's form into an Incoming, or raise InputError saying which field cannot be used."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not MESSAGE_SID.fullmatch(sid):
        raise InputError(
            "MessageSid is missing or malformed: Twilio's are SM or MM and 32 hexadecimal digits."
        )
    return Incoming(
        channel=Channel.SMS,
        address=normalise_sender(form.get("From", ""), settings.default_region),
        text=form.get("Body", ""),  # the inbox drops NUL characters
        received_at=clock.now(),
        provider_id=sid,
        media=_media(form, sid, settings),
    )


EMPTY_TWIML = str(MessagingResponse())  # the spool's answer: the replies go through Twilio's API


def twiml(replies: list[Reply]) -> Response:
    """Render replies as a TwiML <Response> with one <Message> per reply."""
    if not replies:
        return Response(EMPTY_TWIML, mimetype="application/xml")
    response = MessagingResponse()
    for reply in replies:
        response.message(render_plain(reply))
    return Response(str(response), mimetype="application/xml")


def spooling(settings: Settings) -> bool:
    """Tell whether deliveries go to the spool: the spool mode, and a way to send the replies (Twilio's API)."""
    return (
        settings.reply_mode == "spool"
        and bool(settings.twilio.account_sid)
        and bool(settings.twilio.from_number)
    )


@bp.post("/inbound")
def inbound() -> Response:
    """Take one inbound SMS from Twilio: store it and answer at once (spool), or answer it in TwiML (inline)."""
    rt = runtime()
    refused = refuse_unsigned()
    if refused is not None:
        return refused
    try:
        incoming = read_form(request.form.to_dict(), rt.settings)
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
