"""Labs nearest a shared location: every demo capital has coordinates, the nearest comes first, retired never."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.labs.directory import distance_km, load_demo_labs, nearest_labs, set_active
from intake.models import Lab
from intake.platform.errors import InputError

GUANGZHOU_STATION = (23.1494, 113.2577)


def test_every_demo_lab_has_coordinates_in_china(session):
    load_demo_labs(session)
    labs = session.scalars(sa.select(Lab)).all()
    assert len(labs) == 31
    assert all(lab.latitude is not None and lab.longitude is not None for lab in labs)
    assert all(18 < (lab.latitude or 0) < 54 and 73 < (lab.longitude or 0) < 135 for lab in labs)


def test_nearest_labs_are_sorted_by_distance(session):
    load_demo_labs(session)
    near = nearest_labs(session, *GUANGZHOU_STATION, limit=3)
    assert [n.lab.city for n in near] == ["广州", "海口", "南宁"]
    assert near[0].distance_km < 10
    assert near[0].distance_km < near[1].distance_km < near[2].distance_km


def test_retired_labs_and_labs_without_coordinates_are_never_offered(session):
    load_demo_labs(session)
    guangzhou = session.scalars(sa.select(Lab).where(Lab.city == "广州")).one()
    set_active(session, [guangzhou.id], active=False, actor="test")
    nanning = session.scalars(sa.select(Lab).where(Lab.city == "南宁")).one()
    nanning.latitude = None
    session.flush()
    cities = [n.lab.city for n in nearest_labs(session, *GUANGZHOU_STATION, limit=2)]
    assert "广州" not in cities and "南宁" not in cities


@pytest.mark.parametrize("point", [(91.0, 0.0), (0.0, 181.0), (float("nan"), 0.0), (0.0, float("inf"))])
def test_a_point_off_the_earth_is_refused(session, point):
    with pytest.raises(InputError):
        nearest_labs(session, *point)


def test_distance_beijing_shanghai_is_about_1070_km():
    assert 1050 < distance_km(39.9042, 116.4074, 31.2304, 121.4737) < 1090
