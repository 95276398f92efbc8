"""The messages reunite sends: each template's text, the parameters it may show, and who it is for.

A template names the parameters it shows; anything else is refused, so no genetic detail (a profile, a
likelihood ratio, a marker) can ever be put in a message. Every family message names its case reference
(tests/notifications/test_templates.py checks it), so a parent can tell it from a scam.

    render(template, language, params) -> str      render_subject(template, language, params) -> str
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.models.outbox import (
    Audience,
    NotificationStatus,
)
from intake.platform.i18n import N_, normalise_language, translate

St = NotificationStatus


@dataclass(frozen=True)
class Template:
    """A message: its English msgid (translated at send time), the parameters it shows, and who it is for."""

    key: str
    msgid: str
    params: frozenset[str]
    audience: Audience
    subject: str | None = None  # the e-mail subject, for officers' templates
    # A dialogue's reply (the answer to the person's own message, already in their language): sent at any hour
    # and after STOP too (it may be STOP's confirmation, as the TwiML answer was), each contact's in order.
    reply: bool = False


def _template(
    key: str, msgid: str, audience: Audience, subject: str | None = None, *, reply: bool = False
) -> Template:
    names = frozenset(re.findall(r"%\((\w+)\)s", msgid + (subject or "")))
    return Template(key, msgid, names, audience, subject, reply)


REPLY_TEMPLATE = "dialogue.reply"


FAMILY, OFFICER = Audience.FAMILY, Audience.OFFICER
TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        _template(
            "appointment.reminder",
            N_(
                "reunite, case %(reference)s: your DNA sampling appointment is tomorrow, %(day)s %(hours)s, at"
                " %(lab)s, %(address)s. Show sample code %(code)s. Free of charge. Send CANCEL to cancel."
            ),
            FAMILY,
        ),
        _template(
            "appointment.missed",
            N_(
                "reunite, case %(reference)s: we missed you at %(lab)s on %(day)s. Your case is still open: send"
                " BOOK to choose a new day for your DNA sample."
            ),
            FAMILY,
        ),
        _template(
            "sample.received",
            N_(
                "reunite, case %(reference)s: the lab has received your DNA sample %(code)s. We will tell you"
                " when it is tested. Send STATUS to see your case."
            ),
            FAMILY,
        ),
        _template(
            "sample.typed",
            N_(
                "reunite, case %(reference)s: your DNA sample %(code)s is tested and is now compared with found"
                " children. If there is news, police will call you and tell you your case PIN. We never ask for"
                " money."
            ),
            FAMILY,
        ),
        _template(
            "case.pin_resent",
            N_(
                "reunite, case %(reference)s: someone asked for your case PIN (to join the case, link a sample"
                " or delete data). Your PIN is %(pin)s. Give it only to family you trust. We never ask for money."
            ),
            FAMILY,
        ),
        _template(
            "contact.linked",
            N_(
                "reunite: a %(channel)s chat gave the number and PIN of your case %(reference)s and said it is"
                " you; it now sees your case. If this was not you, call the police: someone knows your PIN."
            ),
            FAMILY,
        ),
        _template(
            "case.role_joined",
            N_(
                "reunite: someone gave the number and PIN of your case %(reference)s and joined it as the child's"
                " %(role)s, which the case had already. If you do not know who, call the police: someone knows"
                " your PIN."
            ),
            FAMILY,
        ),
        _template(
            "candidate.stored",
            N_(
                "New candidate match for case %(reference)s (%(band)s), in %(province)s. Review it in the"
                " officers' console: %(url)s"
            ),
            OFFICER,
            subject=N_("reunite: new candidate match for case %(reference)s"),
        ),
        _template(
            "match.approved",
            N_(
                "reunite: news on case %(reference)s. Call %(name)s, %(phone)s. Case PIN %(pin)s: real police"
                " know it. We never ask for money."
            ),
            FAMILY,
        ),
        _template(
            "family.unreachable",
            N_(
                "reunite: a message to the family of case %(reference)s failed for good on %(channel)s"
                " (%(code)s) and they have no other channel. Please reach them another way."
            ),
            OFFICER,
            subject=N_("reunite: the family of case %(reference)s cannot be reached"),
        ),
        _template(
            "case.merged",
            N_(
                "reunite: your report %(old_reference)s and another report of the same child are now one case,"
                " %(reference)s, so the whole family is searched together. Use %(reference)s from now on; your"
                " PIN is unchanged. Send STATUS to see your case."
            ),
            FAMILY,
        ),
        # the text as the dialogue wrote it, in the contact's language: no msgid to translate
        _template(REPLY_TEMPLATE, "%(text)s", FAMILY, reply=True),
    )
}


class TemplateError(ValueError):
    """A notification names an unknown template or parameters its template does not show."""


def check_params(template: str, params: Mapping[str, Any], audience: Audience) -> Template:
    known = TEMPLATES.get(template)
    if known is None:
        raise TemplateError(f"unknown notification template {template!r}")
    if known.audience != audience:
        raise TemplateError(f"template {template!r} is for {known.audience.value}, not {audience.value}")
    if set(params) != known.params:
        raise TemplateError(
            f"template {template!r} shows exactly {sorted(known.params)}, got {sorted(params)}"
        )
    for name, value in params.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise TemplateError(f"parameter {name!r} of {template!r} must be text or a number")
    return known


# A matcher's band is stored as an English word; officers read it in their own language.
BAND_WORDS = {
    "candidate": N_("likelihood ratio 10,000 or more"),
    "inconclusive": N_("inconclusive: more markers or the other parent needed"),
}


def render(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the template's text in `language` with its parameters (a band word translated too)."""
    lang = normalise_language(language)
    values = dict(params)
    if isinstance(band := values.get("band"), str) and band in BAND_WORDS:
        values["band"] = translate(lang, BAND_WORDS[band])
    return translate(lang, TEMPLATES[template].msgid, **values)


def render_subject(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the e-mail subject of an officers' template (its text's first line when it has none)."""
    subject = TEMPLATES[template].subject
    if subject is None:
        return render(template, language, params).splitlines()[0]
    return translate(normalise_language(language), subject, **params)
