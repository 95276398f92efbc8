"""`reunite sms try TEXT`: text a running service's SMS webhook as Twilio would, and print what it answers.

The request is signed with twilio's own RequestValidator and TWILIO_AUTH_TOKEN, against the URL the server checks
(PUBLIC_BASE_URL + /sms/inbound when it is set, else --url + /sms/inbound), so the whole webhook path is tried
locally without a phone or a Twilio account. Registered in the `reunite.commands` entry-point group.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from urllib.parse import urlencode
from xml.etree import ElementTree

import click
from twilio.request_validator import RequestValidator

from intake.cli.support import settings_from_env
from sms.webhook import bp

INBOUND_PATH = f"{bp.url_prefix}/inbound"
EXAMPLE_ACCOUNT_SID = "AC" + "0" * 32
EXAMPLE_TO_NUMBER = "+8610690000000"
TIMEOUT_SECONDS = 30


def _post(url: str, params: dict[str, str], signature: str) -> str:
    """POST the form to `url` with its signature and return the TwiML answer, or fail in one line."""
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"the server answered {exc.code}: {_reason(exc.read())}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(f"cannot reach {url}: {reason} (is `reunite serve` running?)") from None


def _reason(body: bytes) -> str:
    """Return the message of a JSON error body, else the body's first line."""
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip()
        return text.splitlines()[0] if text else "no reason given"


@click.group("sms")
def sms() -> None:
    """Try the SMS channel of a running service."""


@sms.command("try")
@click.argument("text")
@click.option(
    "--from", "sender", default="+8613800000000", show_default=True, help="The phone number that texts."
)
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Where `reunite serve` runs.")
def try_text(text: str, sender: str, url: str) -> None:
    """Send TEXT to the SMS webhook, signed as Twilio signs it (with TWILIO_AUTH_TOKEN), and print the replies."""
    settings = settings_from_env()
    if not settings.twilio.auth_token:
        raise click.ClickException(
            "set TWILIO_AUTH_TOKEN to the token the server uses (for a local try any value will do, on both sides)"
        )
    target = url.rstrip("/") + INBOUND_PATH
    signed_url = settings.public_base_url.rstrip("/") + INBOUND_PATH if settings.public_base_url else target
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio.account_sid or EXAMPLE_ACCOUNT_SID,
        "From": sender,
        "To": settings.twilio.from_number or EXAMPLE_TO_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(settings.twilio.auth_token).compute_signature(signed_url, params)
    twiml = _post(target, params, str(signature))
    try:
        messages = [message.text or "" for message in ElementTree.fromstring(twiml).iter("Message")]
    except ElementTree.ParseError:
        raise click.ClickException(f"{target} did not answer TwiML: is it a reunite service?") from None
    if not messages:  # the spool mode: stored, answered later through Twilio's API
        click.echo("(accepted; the replies go out through Twilio's API: REUNITE_REPLY_MODE=spool)")
        return
    click.echo("\n\n".join(messages))
