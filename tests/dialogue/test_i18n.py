"""The message catalogs: every msgid in the code is translated into Chinese, placeholders match, and it compiles."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from intake.platform import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "intake/locale/zh_CN/LC_MESSAGES/messages.po"
# The same keywords as babel.cfg's extraction command.
KEYWORDS = {"_": None, "N_": None, "translate": (2,), **{name: None for name in (
    "InputError", "NotFoundError", "ConflictError", "SlotFullError", "ConsentRequiredError", "ReuniteError")}}  # fmt: skip
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog():
    with PO.open("rb") as fp:
        return read_po(fp, locale="zh_CN")


def _code_msgids() -> set[str]:
    method_map = [("intake/**.py", "python"), ("bot/**.py", "python"), ("sms/**.py", "python")]
    found = extract_from_dir(str(ROOT), method_map=method_map, keywords=KEYWORDS, comment_tags=())
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found}


def test_every_msgid_in_the_code_has_a_chinese_translation():
    catalog = _catalog()
    missing = sorted(m for m in _code_msgids() if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], "run the pybabel commands in babel.cfg and translate these"


def test_catalog_is_complete_and_placeholders_match():
    catalog = _catalog()
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert message.string, message.id
        assert "fuzzy" not in message.flags, message.id
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), (
            message.id
        )
        assert not list(message.check(catalog)), message.id


def test_catalog_compiles_and_translates():
    buffer = BytesIO()
    write_mo(buffer, _catalog())
    assert buffer.getvalue()
    assert i18n.translate("zh_CN", "Yes") == "同意"
    assert i18n.translate("en", "Yes") == "Yes"
    assert i18n.translate("zh-CN", "%(age)s years", age=5) == "5岁"
    assert i18n.render("zh_CN", i18n._("Case %(reference)s: %(status)s.", reference="MC-1", status=i18n._("closed"))) \
        == "案件MC-1：已结案。"  # fmt: skip


def test_detect_language():
    assert i18n.detect_language("我的孩子丢了") == "zh_CN"
    assert i18n.detect_language("my child is missing") == "en"
    assert i18n.detect_language("报失 REPORT") == "zh_CN"
    assert i18n.detect_language("１２３") is None and i18n.detect_language("") is None
