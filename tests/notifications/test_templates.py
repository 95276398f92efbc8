"""Every template in both languages: translated, and an SMS within two segments even for the longest lab."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import intake
from intake.models import Audience
from intake.outbox.templates import TEMPLATES, render
from intake.platform.i18n import LANGUAGES, translate
from notifications.render import MAX_SMS_SEGMENTS, fit_sms
from sms.segments import segment_count

DEMO_LABS = list(
    csv.DictReader((Path(intake.__file__).parent / "data" / "demo_labs.csv").open(encoding="utf-8"))
)
# A dialogue's reply (the spool) is the dialogue's own text, already translated: no msgid, no lab, sent whole.
TRANSLATED = sorted(k for k, t in TEMPLATES.items() if not t.reply)
FAMILY = sorted(k for k, t in TEMPLATES.items() if t.audience == Audience.FAMILY and not t.reply)


def _params(template: str, lang: str, lab: dict[str, str]) -> dict[str, str]:
    english = lang == "en"
    values = {
        "code": "K7QX-M2PD",
        "day": "2026-11-30",
        "hours": lab["opening_hours"],
        "lab": lab["name_en"] if english else lab["name"],
        "address": f"{lab['address_en']}, {lab['city_en']}" if english else f"{lab['city']}{lab['address']}",
        "reference": "MC-2026-4F7K2Q",
        "name": lab["name_en"] if english else lab["name"],  # match.approved: the lab to call
        "phone": lab["phone"],
        "pin": "042917",
        "channel": "Telegram",
        "role": "mother" if english else "妈妈",  # case.role_joined: the role joined a second time
        "old_reference": "MC-2026-7H3KXV",  # case.merged: the report linked into this case
    }
    return {name: values[name] for name in TEMPLATES[template].params}


def lab_phone(lang: str) -> str:
    return _longest_lab(lang)["phone"]


def _longest_lab(lang: str) -> dict[str, str]:
    key = ("name_en", "address_en") if lang == "en" else ("name", "address")
    return max(DEMO_LABS, key=lambda lab: len(lab[key[0]]) + len(lab[key[1]]))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", TRANSLATED)
def test_every_template_is_translated(template, lang):
    msgid = TEMPLATES[template].msgid
    if lang == "zh_CN":
        assert translate(lang, msgid) != msgid, f"{template}: no zh_CN translation in messages.po"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", FAMILY)
def test_family_sms_fit_in_two_segments_for_every_demo_lab_unshortened(template, lang):
    for lab in DEMO_LABS:
        text = render(template, lang, _params(template, lang, lab))
        assert segment_count(text) <= MAX_SMS_SEGMENTS, (template, lang, lab["name"], len(text))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", FAMILY)
def test_an_overlong_lab_is_shortened_never_the_code(template, lang):
    params = _params(template, lang, _longest_lab(lang))
    for name in ("lab", "address", "name"):
        if name in params:
            params[name] = params[name] * 20
    text = fit_sms(template, lang, params)
    assert segment_count(text) <= MAX_SMS_SEGMENTS
    if "code" in params:
        assert "K7QX-M2PD" in text
    if "pin" in params:
        assert "042917" in text
    if "phone" in params:
        assert lab_phone(lang) in text
    if "lab" in params or "name" in params:
        assert ("..." if lang == "en" else "…") in text


def test_a_template_too_long_even_without_its_lab_ends_the_shortening():
    text = fit_sms("appointment.missed", "en", {"lab": "L", "day": "2026-11-30" * 40, "reference": "MC-1"})
    assert text.count("...") == 1  # the lab was shortened to nothing; the day is never cut


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", FAMILY)
def test_every_family_message_names_its_case_so_a_parent_can_tell_it_from_a_scam(template, lang):
    assert "reference" in TEMPLATES[template].params
    text = render(template, lang, _params(template, lang, DEMO_LABS[0]))
    assert "MC-2026-4F7K2Q" in text
    # and never a genotype: a template shows only the names it declares, none of them genetic
    assert not TEMPLATES[template].params & {"profile", "alleles", "markers", "lr", "genotype", "likelihood"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_dialogue_reply_is_sent_whole_as_the_dialogue_wrote_it(lang):
    text = "请回复数字。100% 免费 %(x)s\n" + "很长的回答" * 80  # far beyond two segments, with % signs
    assert fit_sms("dialogue.reply", lang, {"text": text}) == text
