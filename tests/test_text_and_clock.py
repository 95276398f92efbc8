"""The one text fold and the one clock every part of the service uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.labs.slots import china_today
from intake.platform import clock
from intake.platform.text import fold, simplified


def test_fold():
    assert fold(" 報失。") == "报失" and fold("刪除！") == "删除" and fold("廣州") == "广州"
    assert fold("ＳＴＯＰ") == "stop" and fold("Bao Shi") == "baoshi" and fold("①") == "1"
    assert fold("?") == "?" and fold("") == ""
    assert simplified("廣州 Road ２") == "广州 Road 2"


def test_pinned_clock_moves_today_in_china_everywhere():
    late = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # already 23 November in China
    with clock.pinned(late):
        assert clock.now() == late
        assert (
            clock.today_in_china().isoformat() == "2026-11-23" and china_today().isoformat() == "2026-11-23"
        )
    assert clock.now() != late


def test_pinning_needs_a_timezone():
    with pytest.raises(ValueError), clock.pinned(datetime(2026, 11, 23)):
        pass
