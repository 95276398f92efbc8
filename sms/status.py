"""Twilio's status callbacks, `POST /sms/status`: what became of an SMS the notification worker sent.

The worker asks Twilio to post here with `?n=<notification id>`, so a report that arrives before the worker
recorded Twilio's answer still finds its notification (the query is part of the signed URL; without it, the
MessageSid finds it). Signatures are checked as on the inbound webhook (403 when forged). States only move
forward (queued/sent, then delivered, undelivered or failed, and never back), whatever order Twilio's reports
arrive in; a failure after acceptance falls back to the family's other channel. Registered through the
`reunite.webhooks` entry point `sms_status`.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from intake.models import MAX_PROVIDER_ID_CHARS, Notification, NotificationChannel
from intake.outbox.delivery import PROVIDER_STATES, record_provider_status
from intake.platform.db import transaction
from intake.web.support import json_error, runtime
from sms.signature import refuse_unsigned

bp = Blueprint("sms_status", __name__, url_prefix="/sms")
SID = re.compile(rf"[A-Za-z0-9]{{1,{MAX_PROVIDER_ID_CHARS}}}", re.ASCII)  # the SID of a message we sent
_ID = re.compile(r"[0-9]{1,18}", re.ASCII)
_ERROR_CODE = re.compile(r"[0-9]{1,10}", re.ASCII)


@bp.post("/status")
def status() -> Response:
    """Record one status report of an SMS the worker sent."""
    refused = refuse_unsigned()
    if refused is not None:
        return refused
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    if not SID.fullmatch(sid):
        return json_error(400, "MessageSid is missing or malformed.")
    state = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if state not in PROVIDER_STATES:
        return json_error(400, f"MessageStatus must be one of {', '.join(sorted(PROVIDER_STATES))}.")
    error_code = request.form.get("ErrorCode", "").strip() or None
    if error_code is not None and not _ERROR_CODE.fullmatch(error_code):
        return json_error(400, "ErrorCode must be a number.")
    wanted = request.args.get("n", "")
    if wanted and not _ID.fullmatch(wanted):
        return json_error(400, "The notification id in the callback URL is not a number.")
    with transaction(runtime().session_factory) as session:
        query = sa.select(Notification).where(Notification.channel == NotificationChannel.SMS)
        if wanted:
            query = query.where(Notification.id == int(wanted))
        else:
            query = query.where(Notification.provider_id == sid)
        notification = session.scalars(query.with_for_update()).first()
        if notification is None or notification.provider_id not in (None, sid):
            return json_error(404, "No notification was sent as this message.")
        notification.provider_id = sid
        moved = record_provider_status(
            session, notification, state, error_code=f"twilio_{error_code}" if error_code else None
        )
        return jsonify(notification=notification.id, status=notification.status.value, moved=moved)
