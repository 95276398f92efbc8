"""MMS photos: downloaded from Twilio by `reunite worker`, never inside the webhook (`intake.inbound.media`).

Registered as the worker task `sms_media` (`reunite.worker_tasks`): each pass downloads the due MMS media with
the account's credentials (HTTP basic auth, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; without them nothing is
fetched and the rows wait). Only Twilio is ever asked: the media URL must be on TWILIO_API_BASE_URL
(https://api.twilio.com) with Twilio's media path (the webhook stored nothing else), and the one redirect Twilio
answers with is followed only to its media CDN (mms.twiliocdn.com, media.twiliocdn.com, or the media.twiliocdn.com
bucket on s3-external-1.amazonaws.com for media stored without HTTP auth), without the credentials, or back to
the API's own host. Anything else is given up, never fetched.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests
from sqlalchemy.orm import Session, sessionmaker

from intake.inbound.media import MediaGone, MediaUnavailable, fetch_pending
from intake.models import Channel
from intake.platform.photos import MAX_PHOTO_BYTES, too_large
from intake.platform.settings import Settings

CDN_HOSTS = frozenset({"mms.twiliocdn.com", "media.twiliocdn.com"})  # where Twilio redirects a media request
S3_HOST, S3_BUCKET = "s3-external-1.amazonaws.com", "/media.twiliocdn.com/"  # media kept without HTTP auth
MAX_REDIRECTS = 3
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Messages/(?:SM|MM)[0-9a-fA-F]{32}/Media/ME[0-9a-fA-F]{32}"
)


def _on_api(url: str, settings: Settings) -> bool:
    parts, base = urlsplit(url), urlsplit(settings.twilio.api_base_url)
    return (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())


def _on_cdn(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or parts.port not in (None, 443):
        return False
    return host in CDN_HOSTS or (host == S3_HOST and parts.path.startswith(S3_BUCKET))


def download(url: str, settings: Settings, http: requests.Session | None = None) -> bytes:
    """Return the bytes of one MMS media file from Twilio; raise MediaUnavailable (retry), MediaGone or PhotoError."""
    path = urlsplit(url).path.removeprefix(urlsplit(settings.twilio.api_base_url).path.rstrip("/"))
    if not _on_api(url, settings) or not _MEDIA_PATH.fullmatch(path):
        raise MediaGone("not a media URL of Twilio's API")
    if not (settings.twilio.account_sid and settings.twilio.auth_token):
        raise MediaUnavailable("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    if http is None:
        with requests.Session() as own:
            return download(url, settings, own)
    auth = (settings.twilio.account_sid, settings.twilio.auth_token)
    for _hop in range(MAX_REDIRECTS + 1):
        on_api = _on_api(url, settings)
        try:
            response = http.get(url, auth=auth if on_api else None, timeout=TIMEOUT, allow_redirects=False,
                                stream=True)  # fmt: skip
        except requests.RequestException as exc:
            raise MediaUnavailable(type(exc).__name__) from None
        with response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                url = urljoin(url, response.headers.get("Location", ""))
                if not (_on_api(url, settings) or _on_cdn(url)):
                    raise MediaGone("redirected off Twilio's hosts")
                continue
            if status == 200:
                return _body(response)
            if status in (401, 403):
                raise MediaUnavailable(f"HTTP {status}: Twilio refused the credentials")
            if status == 429 or status >= 500:
                raise MediaUnavailable(f"HTTP {status}")
            raise MediaGone(f"HTTP {status}")
    raise MediaGone("too many redirects")


def _body(response: requests.Response) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_PHOTO_BYTES:
        raise too_large()
    data = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            data += chunk
            if len(data) > MAX_PHOTO_BYTES:
                raise too_large()
    except requests.RequestException as exc:
        raise MediaUnavailable(type(exc).__name__) from None
    return bytes(data)


def fetch_once(
    factory: sessionmaker[Session], settings: Settings, http: requests.Session | None = None
) -> int:
    """Download the due MMS media (one batch); return how many were handled."""
    return fetch_pending(factory, Channel.SMS, lambda url: download(url, settings, http), settings.data_dir)


def worker_task(session_factory: sessionmaker[Session], settings: Settings) -> int:
    """The `reunite worker` pass for MMS media (entry point `sms_media`); nothing without Twilio's credentials."""
    if not (settings.twilio.account_sid and settings.twilio.auth_token):
        return 0
    return fetch_once(session_factory, settings)
