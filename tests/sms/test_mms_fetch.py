"""MMS photos of a volunteer's registration: fetched from Twilio (a fake over HTTP) by the worker's job, never in
the webhook, with the account's credentials, re-encoded without metadata, linked to the case and shown to
officers; a provider that is down leaves them to retry; links anywhere else are never stored nor fetched."""

from __future__ import annotations

import base64
import io
from collections import namedtuple
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import Engine

from intake.models import Attachment, Case
from intake.platform import clock
from intake.platform.photos import read_photo
from intake.platform.settings import Settings
from sms.media import download, fetch_once
from tests.bot.test_photos import GPS_IFD, photo_with_gps
from tests.console.factories import add_officer, log_in
from tests.dialogue.helpers import NOW
from tests.support.fake_twilio import ACCOUNT_SID, FakeTwilio, media_url
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone
from tests.support.webapp import replace_settings, web_settings

Row = namedtuple("Row", "case_id photo_id fetch_after fetch_error fetch_attempts")
REGISTER = ["发现", "同意", "广州火车站", "昨天", "大约6岁", "男", "他说叫小宝，家在四川"]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(auth_token=AUTH_TOKEN)  # one token signs the webhooks and opens the media, as at Twilio
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def settings(tmp_path: Path, engine: Engine, twilio: FakeTwilio) -> Settings:
    return web_settings(tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
                        twilio_account_sid=ACCOUNT_SID, twilio_api_base_url=twilio.base_url)  # fmt: skip


def _mms(phone: Phone, twilio: FakeTwilio, body: str, *files: bytes) -> tuple[list[str], list[str]]:
    """Text an MMS whose files Twilio keeps (as JPEGs); return the replies and the MediaUrls."""
    sid = "MM" + "%032x" % (len(phone.sent) + 1)
    urls = [media_url(twilio.base_url, sid) for _ in files]
    for url, data in zip(urls, files, strict=True):
        twilio.put_media(url, data)
    extra = {"NumMedia": str(len(files)), "AccountSid": ACCOUNT_SID}
    for i, url in enumerate(urls):
        extra[f"MediaUrl{i}"], extra[f"MediaContentType{i}"] = url, "image/jpeg"
    return phone.text(body, sid=sid, **extra), urls


def _attachments(session):
    rows = session.execute(
        sa.select(Attachment.case_id, Attachment.photo_id, Attachment.fetch_after, Attachment.fetch_error,
                  Attachment.fetch_attempts).order_by(Attachment.id)
    ).all()  # fmt: skip
    session.rollback()
    # SQLite gives the times back without their zone (UTC)
    return [Row(*r[:2], r.fetch_after and r.fetch_after.replace(tzinfo=UTC), *r[3:]) for r in rows]


def _register_with_photo(phone, twilio):
    for text in REGISTER:
        phone.text(text)
    replies, urls = _mms(phone, twilio, "蓝色外套", photo_with_gps())
    assert "照片已收到" in replies[0]
    for text in ("张伟", "救助站", "确认"):
        phone.text(text)
    return urls


def test_a_registrations_mms_photo_is_fetched_cleaned_linked_and_shown_to_officers(
    phone, twilio, settings, session_factory, session, client
):
    with clock.pinned(NOW):
        urls = _register_with_photo(phone, twilio)
        assert twilio.media_requests == []  # nothing was fetched inside the webhook
        [(case_id, photo_id, due, _error, _n)] = _attachments(session)
        assert photo_id is None and due is not None
        assert fetch_once(session_factory, settings) == 1
    case = session.scalars(sa.select(Case)).one()
    [(case_id, photo_id, due, error, attempts)] = _attachments(session)
    assert case_id == case.id and photo_id and due is None and error is None and attempts == 1
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    (api_path, auth), (cdn_path, _auth) = twilio.media_requests
    assert urls[0].endswith(api_path) and auth == expected  # Twilio's API, with the account's credentials
    assert cdn_path.startswith("/cdn/")  # then where Twilio redirected (here its own host)
    kept = read_photo(settings.data_dir, photo_id)
    assert kept is not None and b"PhoneMaker" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG" and not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    add_officer(session, "gz", province="广东省")
    assert log_in(client, "gz") == 302
    attachment_id = session.scalars(sa.select(Attachment.id)).one()
    session.rollback()
    assert f"/console/photos/{attachment_id}" in client.get("/console/volunteers").get_data(as_text=True)
    shown = client.get(f"/console/photos/{attachment_id}")
    assert shown.status_code == 200 and shown.data == kept


def test_a_provider_that_is_down_leaves_the_photo_to_retry_and_nothing_is_lost(
    phone, twilio, settings, session_factory, session
):
    with clock.pinned(NOW):
        _register_with_photo(phone, twilio)
        twilio.down = True
        assert fetch_once(session_factory, settings) == 1
        [(_case, photo_id, due, error, attempts)] = _attachments(session)
        assert photo_id is None and due > NOW and "503" in error and attempts == 1
        assert fetch_once(session_factory, settings) == 0  # not due yet
    twilio.down = False
    with clock.pinned(NOW + timedelta(hours=1)):
        assert fetch_once(session_factory, settings) == 1
    [(_case, photo_id, due, error, attempts)] = _attachments(session)
    assert photo_id and due is None and error is None and attempts == 2


def test_a_claimed_photo_left_by_a_killed_worker_is_taken_again_after_the_lease(
    phone, twilio, settings, session_factory, session
):
    with clock.pinned(NOW):
        _register_with_photo(phone, twilio)

    def killed(_url: str) -> bytes:
        raise KeyboardInterrupt  # the worker dies mid-download: its claim stays

    from intake.inbound.media import LEASE, fetch_pending
    from intake.models import Channel

    with clock.pinned(NOW), pytest.raises(KeyboardInterrupt):
        fetch_pending(session_factory, Channel.SMS, killed, settings.data_dir)
    with clock.pinned(NOW + LEASE / 2):
        assert fetch_once(session_factory, settings) == 0
    with clock.pinned(NOW + LEASE + timedelta(seconds=1)):
        assert fetch_once(session_factory, settings) == 1
    assert _attachments(session)[0].photo_id


def test_a_file_that_is_no_photo_is_given_up_with_its_reason(
    phone, twilio, settings, session_factory, session
):
    with clock.pinned(NOW):
        for text in REGISTER:
            phone.text(text)
        _mms(phone, twilio, "", b"%PDF-1.7 labelled image/jpeg")
        assert fetch_once(session_factory, settings) == 1
    [(_case, photo_id, due, error, _n)] = _attachments(session)
    assert photo_id is None and due is None and "not a photo" in error


@pytest.mark.parametrize("where", ["http://127.0.0.1:9/", "https://mms.twiliocdn.com.evil.example/"])
def test_a_redirect_off_twilios_hosts_is_never_followed(
    where, phone, twilio, settings, session_factory, session
):
    twilio.redirect_to = where
    with clock.pinned(NOW):
        for text in REGISTER:
            phone.text(text)
        _mms(phone, twilio, "", photo_with_gps())
        assert fetch_once(session_factory, settings) == 1
    [(_case, photo_id, due, error, _n)] = _attachments(session)
    assert photo_id is None and due is None and "off Twilio" in error
    assert len(twilio.media_requests) == 1  # only Twilio's API was asked


def test_the_fetcher_asks_only_twilios_api(settings):
    from intake.inbound.media import MediaGone

    sid = "MM" + "1" * 32
    for url in ("http://127.0.0.1:8000/healthz", media_url("https://evil.example", sid),
                media_url(settings.twilio.api_base_url, sid).replace("/Media/", "/Other/")):  # fmt: skip
        with pytest.raises(MediaGone):
            download(url, settings)


def test_without_twilio_credentials_the_photos_wait(phone, twilio, settings, session_factory, session):
    with clock.pinned(NOW):
        _register_with_photo(phone, twilio)
        bare = replace_settings(settings, twilio_account_sid=None)
        assert fetch_once(session_factory, bare) == 1
    [(_case, photo_id, due, error, _n)] = _attachments(session)
    assert photo_id is None and due > NOW and "not set" in error and twilio.media_requests == []
