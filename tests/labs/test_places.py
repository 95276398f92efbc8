"""Places as parents write them: province before city, districts, suffixes, English order, Traditional Chinese."""

from __future__ import annotations

import io

import pytest

from intake.labs.directory import (
    find_labs,
    free_days,
    import_labs,
    load_demo_labs,
    matching_labs,
    no_labs_reason,
)
from intake.models import Lab
from intake.platform.errors import InputError
from tests.support.factories import TODAY

HEADER = (
    "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity,city_en\n"
)
SHENZHEN = HEADER + (
    "深圳市公安局DNA实验室,广东省,深圳,福田区1号,22.54,114.06,0755-1,1-5,09:00-17:00,10,Shenzhen\n"
    "辽宁朝阳采血点,辽宁省,朝阳,双塔区1号,41.57,120.45,0421-1,1-5,09:00-17:00,10,Chaoyang\n"
)


@pytest.fixture
def directory(session):
    load_demo_labs(session)
    import_labs(session, io.StringIO(SHENZHEN))
    return session


def _cities(session, query):
    return [o.lab.city for o in find_labs(session, query, today=TODAY)]


@pytest.mark.parametrize(
    ("query", "cities"),
    [("广东深圳", ["深圳"]), ("深圳市", ["深圳"]), ("广东省深圳市", ["深圳"]), ("广东省深圳市福田区", ["深圳"]),
     ("深圳宝安", ["深圳"]), ("Shenzhen, Guangdong", ["深圳"]), ("shenzhen guangdong", ["深圳"]),
     ("北京市朝阳区", ["北京"]), ("北京 朝阳区", ["北京"]), ("Chaoyang District, Beijing", ["北京"]),
     ("辽宁朝阳", ["朝阳"]), ("guangzhou", ["广州"]), ("GuangZhou", ["广州"]), ("内蒙", ["呼和浩特"]),
     ("内蒙古", ["呼和浩特"]), ("内蒙古自治区", ["呼和浩特"]), ("廣州", ["广州"]), ("廣東省廣州市", ["广州"]),
     ("烏魯木齊", ["乌鲁木齐"]), ("Hohhot, Inner Mongolia", ["呼和浩特"]), ("广西南宁", ["南宁"]),
     ("新疆乌鲁木齐市天山区", ["乌鲁木齐"])],
)  # fmt: skip
def test_places_written_with_province_district_or_in_traditional_chinese_are_found(directory, query, cities):
    assert _cities(directory, query) == cities


def test_a_province_with_a_city_that_has_no_lab_offers_the_province_labs(session):
    load_demo_labs(session)
    # The demo directory has no lab in Shenzhen or Dalian: the province's labs (in its capital) are offered.
    assert _cities(session, "广东深圳") == ["广州"]
    assert _cities(session, "Shenzhen, Guangdong") == ["广州"]
    assert _cities(session, "辽宁省大连市") == ["沈阳"]


def test_a_province_alone_offers_all_its_labs(directory):
    assert sorted(_cities(directory, "广东")) == ["广州", "深圳"]
    assert sorted(_cities(directory, "廣東省")) == ["广州", "深圳"]


def test_a_district_never_beats_the_city_written_before_it(directory):
    # 朝阳 is also a city in 辽宁 (with a lab); 北京市朝阳区 is a district of Beijing.
    assert _cities(directory, "北京市朝阳区") == ["北京"]
    assert _cities(directory, "朝阳区") == ["朝阳"]  # alone, the only 朝阳 with a lab


def test_retired_labs_are_never_found_unless_asked_for(directory):
    shenzhen = [lab for lab in matching_labs(directory, "深圳")]
    assert len(shenzhen) == 1
    shenzhen[0].active = False
    directory.flush()
    # the gazetteer places 深圳 in 广东, whose active lab is offered
    assert _cities(directory, "深圳") == ["广州"]
    assert _cities(directory, "广东") == ["广州"]
    assert [lab.city for lab in matching_labs(directory, "深圳", include_inactive=True)] == ["深圳"]
    assert free_days(directory, shenzhen[0], today=TODAY) == []  # nor are its days, asked for directly


def test_a_place_without_labs_gets_a_reason_and_what_to_send(session):
    load_demo_labs(session)
    assert _cities(session, "火星基地") == []
    reason = no_labs_reason(session, "火星基地", today=TODAY)
    assert isinstance(reason, InputError)
    assert "No lab found in 火星基地" in str(reason) and "province (like Guangdong)" in str(reason)
    assert reason.params["place"] == "火星基地"


@pytest.mark.parametrize(
    ("query", "cities"),
    [("深圳", ["广州"]), ("shenzhen", ["广州"]), ("Shenzhen", ["广州"]), ("深圳市", ["广州"]),
     ("广东省深圳市宝安区", ["广州"]), ("宝安区", ["广州"]), ("兰考县", ["郑州"]), ("兰考", ["郑州"]),
     ("Lankao", ["郑州"]), ("lankao county", ["郑州"]), ("河南省开封市兰考县", ["郑州"]), ("开封", ["郑州"]),
     ("义乌", ["杭州"]), ("kunshan", ["南京"]), ("昆山市", ["南京"]), ("黔南", ["贵阳"]), ("喀什", ["乌鲁木齐"]),
     ("延边", ["长春"]), ("東莞", ["广州"]), ("dongguan", ["广州"]), ("大理", ["昆明"]), ("三亚", ["海口"])],
)  # fmt: skip
def test_any_city_district_or_county_is_placed_in_its_province_by_the_gazetteer(session, query, cities):
    load_demo_labs(session)  # one lab per provincial capital: a place elsewhere gets its province's lab
    assert _cities(session, query) == cities


def test_a_place_in_two_provinces_offers_the_labs_of_both(session):
    load_demo_labs(session)
    # taizhou is 泰州 (江苏) and 台州 (浙江): both provinces' labs, never none
    assert sorted(_cities(session, "taizhou")) == ["南京", "杭州"]


def test_a_place_of_no_letters_is_asked_to_be_written(session):
    load_demo_labs(session)
    for text in ("😀", "。。", "  "):
        assert "write the name of a city or province" in str(no_labs_reason(session, text, today=TODAY))


def test_a_long_place_is_shortened_in_the_reason(session):
    load_demo_labs(session)
    reason = no_labs_reason(session, "火星" * 40, today=TODAY)
    assert len(reason.params["place"]) == 20 and reason.params["place"].endswith("…")


def test_labs_with_no_free_day_in_the_horizon_are_explained(session):
    session.info["booking_horizon_days"] = 5
    import_labs(session, io.StringIO(SHENZHEN))
    lab = matching_labs(session, "深圳")[0]
    lab.opening_days = "7"  # TODAY is a Friday: no Sunday within 1 day ahead
    session.flush()
    assert find_labs(session, "深圳", today=TODAY, horizon_days=1) == []
    reason = no_labs_reason(session, "深圳", today=TODAY, horizon_days=1)
    assert "no free day in the next 1 days" in str(reason)
    assert no_labs_reason(session, "深圳", today=TODAY).params["days"] == 5
    assert isinstance(lab, Lab)
