"""E-mail to officers through an SMTP server (STARTTLS and login when configured): the `email` channel's sender,
registered in `reunite.senders` like the adapters' (see `notifications.providers`)."""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage

from intake.models.outbox import MAX_NOTIFICATION_PROVIDER_ID_CHARS
from intake.platform.settings import EmailSettings, Settings
from notifications.providers import Accepted, Outcome, Outgoing, Permanent, Retry

_MSGID_UNSAFE = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")


class Smtp:
    """E-mail to officers through an SMTP server (STARTTLS and login when configured)."""

    deduplicates = False  # SMTP has none either; the Message-ID lets a mail client hide a second copy

    def __init__(self, settings: EmailSettings, timeout_seconds: float) -> None:
        if not settings.host:
            raise ValueError("set SMTP_HOST to e-mail officers")
        self.settings = settings
        self.timeout_seconds = timeout_seconds

    def send(self, message: Outgoing) -> Outcome:
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.sender, message.address, message.subject
        # The same notification always has the same Message-ID, so a copy sent twice reads as one.
        domain = s.sender.rpartition("@")[2] or "reunite.local"
        message_id = f"<{_MSGID_UNSAFE.sub('.', message.idempotency_key)}@{domain}>"
        if (
            len(message_id) > MAX_NOTIFICATION_PROVIDER_ID_CHARS
        ):  # it is kept as the provider id: hash a long key
            digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:32]
            message_id = f"<reunite.{digest}@{domain[: MAX_NOTIFICATION_PROVIDER_ID_CHARS - 43]}>"
        mail["Message-ID"] = message_id
        mail.set_content(message.text)
        assert s.host is not None
        try:
            with smtplib.SMTP(s.host, s.port, timeout=self.timeout_seconds) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.user and s.password:
                    smtp.login(s.user, s.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Permanent("smtp_refused", f"SMTP refused the recipient: {list(exc.recipients.values())}")
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            return Permanent("smtp_refused", text) if exc.smtp_code >= 500 else Retry(text)
        except (smtplib.SMTPException, OSError) as exc:
            return Retry(f"SMTP unreachable: {type(exc).__name__}")
        return Accepted(mail["Message-ID"])

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Find nothing: SMTP cannot tell what it delivered (the Message-ID hides a copy in the mail client)."""
        return None


def sender(settings: Settings) -> Smtp | None:
    """The `email` entry of `reunite.senders`: SMTP when SMTP_HOST is set, else None."""
    if not settings.email.host:
        return None
    return Smtp(settings.email, settings.notifications.timeout_seconds)
