"""Translations of every text a person sees, from the Babel catalogs in intake/locale, in Chinese and English.

Code holds English msgids: `_("...", **params)` marks a message and returns a lazy `Msg` rendered later in the
contact's language; `translate(lang, msgid, **params)` translates at once. Extraction: see babel.cfg.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from intake.platform.text import has_han, has_latin

LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "messages"
CHINESE, ENGLISH = "zh_CN", "en"
LANGUAGES = (CHINESE, ENGLISH)
DEFAULT_LANGUAGE = CHINESE


@dataclass(frozen=True)
class Msg:
    """A message not yet translated: an English msgid and its %(name)s parameters (which may be Msgs too)."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)


def _(msgid: str, **params: Any) -> Msg:
    """Mark `msgid` for extraction and return it as a lazy message."""
    return Msg(msgid, params)


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate yet"
    """Mark `msgid` for extraction and return it unchanged."""
    return msgid


def normalise_language(lang: str | None) -> str:
    """Return one of LANGUAGES for a language tag such as "zh-CN", "zh", "en_US" (else the default)."""
    tag = (lang or "").replace("-", "_").lower()
    if tag.startswith("en"):
        return ENGLISH
    return CHINESE


@cache
def translations(lang: str) -> NullTranslations:
    """Return the catalog of `lang`: the compiled .mo if present, else the .po compiled in memory."""
    lang = normalise_language(lang)
    if lang == ENGLISH:
        return NullTranslations()  # msgids are English
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    # A .mo older than its .po is a stale build left in a checkout; the .po is the truth then.
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    # An editable install or a checkout has no build step, so compile the .po on the fly.
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def translate(lang: str, msgid: str, **params: Any) -> str:
    """Return `msgid` translated into `lang`, with its %(name)s parameters filled in (lazy ones translated)."""
    text = translations(lang).gettext(msgid)
    if not params:
        return text
    return text % {key: render(lang, value) for key, value in params.items()}


def render(lang: str, value: Any) -> Any:
    """Return `value` translated if it is a Msg, else unchanged."""
    if isinstance(value, Msg):
        return translate(lang, value.msgid, **value.params)
    return value


def detect_language(text: str) -> str | None:
    """Guess the language of a message: Han characters mean Chinese, Latin letters English, else None."""
    if has_han(text):
        return CHINESE
    if has_latin(text):
        return ENGLISH
    return None
