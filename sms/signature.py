"""Twilio's request signatures, checked on every request Twilio makes to us (the inbound SMS webhook and the
status callbacks): `X-Twilio-Signature` must be the HMAC Twilio computes with the account's auth token over the
URL it called and the form it posted (https://www.twilio.com/docs/usage/webhooks/webhooks-security).

The URL is PUBLIC_BASE_URL + path (+ query) when it is set, else the URL as this server saw it (behind
REUNITE_TRUST_PROXY_HOPS proxies, as they forwarded it). twilio's RequestValidator computes the expected
signatures (with and without the port, since Twilio signs either); this module compares them with
`same_secret` (intake/platform/secret_compare.py: `hmac.compare_digest`), so the time a comparison takes says
nothing about how much of a forged signature was right.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from flask import Response, request
from twilio.request_validator import RequestValidator, add_port, remove_port

from intake.platform.secret_compare import same_secret
from intake.web.support import json_error, runtime

log = logging.getLogger(__name__)
HEADER = "X-Twilio-Signature"


def signature_valid(auth_token: str, url: str, form: Mapping[str, Any], signature: str) -> bool:
    """Tell whether `signature` is Twilio's for `url` (with or without its port) and `form`, in constant time."""
    validator = RequestValidator(auth_token)
    parsed = urlparse(url)
    expected = [validator.compute_signature(u, form) for u in (remove_port(parsed), add_port(parsed))]
    matches = [same_secret(signature, str(e)) for e in expected]  # both compared, whichever matches
    return any(matches)


def signed_url() -> str:
    """Return the URL Twilio signed: PUBLIC_BASE_URL + path (+ query), else the URL as this server saw it."""
    base = runtime().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def refuse_unsigned() -> Response | None:
    """Return the error answer for a request Twilio did not sign (503 unconfigured, 403 forged), else None."""
    token = runtime().settings.twilio.auth_token
    if not token:
        return json_error(503, "The SMS channel is not configured: set TWILIO_AUTH_TOKEN.")
    signature = request.headers.get(HEADER, "")
    if not signature:
        return json_error(403, f"Missing {HEADER} header.")
    if not signature_valid(token, signed_url(), request.form, signature):
        log.warning("forged or mis-signed request to %s", request.path)
        return json_error(403, f"Invalid {HEADER} for this URL.")
    return None
