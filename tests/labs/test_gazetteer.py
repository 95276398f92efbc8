"""The gazetteer of Chinese divisions: any city, district or county, in Chinese or pinyin, placed in its city and
province; a foreign place or a point at sea or abroad is told apart."""

from __future__ import annotations

import pytest

from intake.places.gazetteer import CITY, COUNTY, PROVINCE, locate, off_china, outside_china, short_name


@pytest.mark.parametrize(
    ("text", "name", "level", "province", "city"),
    [
        ("深圳", "深圳市", CITY, "广东省", "深圳市"),
        ("shenzhen", "深圳市", CITY, "广东省", "深圳市"),
        ("ShenZhen City", "深圳市", CITY, "广东省", "深圳市"),
        ("广东省深圳市宝安区", "宝安区", COUNTY, "广东省", "深圳市"),
        ("宝安", "宝安区", COUNTY, "广东省", "深圳市"),
        ("兰考县", "兰考县", COUNTY, "河南省", "开封市"),
        ("兰考", "兰考县", COUNTY, "河南省", "开封市"),
        ("Lankao County", "兰考县", COUNTY, "河南省", "开封市"),
        ("河南开封兰考县城关镇", "兰考县", COUNTY, "河南省", "开封市"),
        ("蘭考縣", "兰考县", COUNTY, "河南省", "开封市"),  # Traditional
        ("黔南", "黔南布依族苗族自治州", CITY, "贵州省", "黔南布依族苗族自治州"),
        ("延边州", "延边朝鲜族自治州", CITY, "吉林省", "延边朝鲜族自治州"),
        ("义乌市", "义乌市", COUNTY, "浙江省", "金华市"),
        ("广西", "广西壮族自治区", PROVINCE, "广西壮族自治区", None),
        ("xinjiang", "新疆维吾尔自治区", PROVINCE, "新疆维吾尔自治区", None),
        ("广州东站", "广州市", CITY, "广东省", "广州市"),  # a place inside a city
    ],
)
def test_a_place_is_placed_in_its_city_and_province(text, name, level, province, city):
    first = locate(text)[0]
    assert (first.name, first.level, first.province, first.city) == (name, level, province, city)


def test_a_province_written_chooses_among_same_named_places():
    assert {d.province for d in locate("朝阳区")} == {"北京市", "吉林省"}
    assert {d.province for d in locate("吉林省朝阳区")} == {"吉林省"}
    assert {d.name for d in locate("taizhou")} == {"泰州市", "台州市"}


@pytest.mark.parametrize("text", ["火车站附近", "", "😀", "xyz", "Mars"])
def test_what_is_no_place_locates_nothing(text):
    assert locate(text) == []


def test_short_names_drop_the_suffix_and_the_peoples_of_an_autonomous_area():
    assert [short_name(n) for n in ("深圳市", "兰考县", "内蒙古自治区", "黔南布依族苗族自治州", "长阳土家族自治县")] == [
        "深圳", "兰考", "内蒙古", "黔南", "长阳",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "country"),
    [("越南河内", "越南"), ("缅甸", "缅甸"), ("Bangkok, Thailand", "thailand"), ("Hanoi Vietnam", "vietnam"),
     ("云南与缅甸交界", None), ("广州东站", None), ("火车站附近", None), ("香港", None), ("Taiwan", None)],
)  # fmt: skip
def test_a_foreign_place_is_told_apart_unless_a_chinese_division_is_named(text, country):
    assert outside_china(text) == country


@pytest.mark.parametrize(
    ("latitude", "longitude", "off"),
    [(23.13, 113.26, False), (31.23, 121.47, False), (43.8, 87.6, False), (22.3, 114.17, False),
     (25.03, 121.56, False), (18.25, 109.5, False), (30.0, 122.2, False),  # Zhoushan, near the coarse coast
     (30.0, 125.5, True), (15.0, 115.0, True), (21.0, 105.8, True), (35.7, 139.7, True), (51.5, -0.1, True)],
)  # fmt: skip
def test_a_point_at_sea_or_abroad_is_told_apart(latitude, longitude, off):
    assert off_china(latitude, longitude) is off
