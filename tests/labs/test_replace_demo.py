"""The README's "replace the demo directory" steps, end to end: afterwards parents are offered only real labs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.labs import make_labs_group
from intake.labs import appointments
from intake.labs.directory import find_labs, load_demo_labs
from intake.models import Lab, SampleSource
from intake.platform.errors import NotFoundError
from intake.platform.settings import Settings
from intake.runtime import Runtime
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript
from tests.support.factories import TODAY, make_case

REAL = (
    "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity,name_en\n"
    "广州市公安局DNA实验室,广东省,广州,越秀区解放南路1号,23.13,113.26,020-1,1-5,09:00-17:00,20,Guangzhou PSB DNA lab\n"
    "深圳市公安局DNA实验室,广东省,深圳,福田区1号,22.54,114.06,0755-1,1-5,09:00-17:00,20,Shenzhen PSB DNA lab\n"
)


@pytest.fixture
def replaced(session_factory, tmp_path):
    """Start as a fresh service does (demo directory loaded), then follow the README's steps."""
    with session_factory() as session:
        load_demo_labs(session)
        session.commit()
    path = tmp_path / "labs.csv"
    path.write_text(REAL, encoding="utf-8")
    labs = make_labs_group(lambda: session_factory)
    runner = CliRunner()
    for step in (["import", str(path)], ["deactivate", "--demo"]):
        result = runner.invoke(labs, step)
        assert result.exit_code == 0, result.output
    return session_factory


def test_after_replacing_the_demo_directory_the_dialogue_offers_only_real_labs(replaced):
    # A place that only a demo lab served is now a place without labs, and the parent is told what to send.
    run_transcript(
        replaced, t.REPORT_ZH + [("1", ("哪个城市或省份",)), ("北京", ("没找到北京的采血点", "省份"))]
    )
    replies = run_transcript(replaced, [("广东", ("请选采血点",))])
    assert "广州市公安局DNA实验室" in replies[-1] and "深圳市公安局DNA实验室" in replies[-1]
    assert "演示" not in replies[-1]


def test_after_replacing_no_search_offers_a_demo_lab_and_none_can_be_booked(replaced):
    with replaced() as session:
        demo = session.scalars(sa.select(Lab).where(Lab.is_demo.is_(True))).all()
        assert len(demo) == 31 and not any(lab.active for lab in demo)
        for place in ("北京", "广州", "Guangdong", "上海", "廣東"):
            assert not any(o.lab.is_demo for o in find_labs(session, place, today=TODAY))
        beijing = next(lab for lab in demo if lab.city == "北京")
        with pytest.raises(NotFoundError):
            appointments.book(session, case=make_case(session), lab_id=beijing.id, day=TODAY.replace(day=30),
                              source=SampleSource.REPORTING_PARENT, actor="test", today=TODAY)  # fmt: skip


def test_a_restarted_service_does_not_bring_the_demo_directory_back(replaced, tmp_path):
    rt = Runtime(Settings(data_dir=tmp_path, database_url="unused"), replaced.kw["bind"], replaced)
    assert rt.load_demo_labs_if_empty() is False
    with replaced() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Lab).where(Lab.active.is_(True))) == 2
