"""SMS segment counting: GSM-7 text in 160/153 characters, Chinese (UCS-2) in 70/67."""

from sms.segments import is_gsm7, segment_count


def test_latin_text_is_gsm7_and_counts_160_then_153():
    assert is_gsm7("Reply 1 to book")
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3


def test_extended_characters_count_twice():
    assert segment_count("[" * 80) == 1
    assert segment_count("[" * 81) == 2


def test_chinese_counts_70_then_67():
    assert not is_gsm7("你好")
    assert segment_count("好" * 70) == 1
    assert segment_count("好" * 71) == 2
    assert segment_count("好" * 134) == 2
    assert segment_count("好" * 135) == 3


def test_one_chinese_character_turns_latin_text_into_ucs2():
    assert segment_count("a" * 69 + "好") == 1
    assert segment_count("a" * 70 + "好") == 2
