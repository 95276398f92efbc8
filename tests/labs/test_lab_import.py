"""Importing the directory: updates keep what the file does not say, `active` retires labs, files in any encoding."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from intake.labs.directory import DEMO_LABS, import_labs, load_demo_labs
from intake.labs.directory_import import set_active
from intake.models import AuditEvent, Lab
from intake.platform.errors import InputError
from tests.labs.helpers import import_errors

HEADER = "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity"
ROW = "A实验室,广东省,广州,路1号,23.1,113.2,020-1,1-5,09:00-17:00,10"


def _lab(session) -> Lab:
    session.expire_all()
    return session.scalars(sa.select(Lab)).one()


def test_an_update_without_the_optional_columns_keeps_the_demo_flag_and_english_names(session):
    load_demo_labs(session)
    beijing = session.scalars(sa.select(Lab).where(Lab.city == "北京")).one()
    row = f"{beijing.name},北京市,北京,东城区新路2号,,,,1-5,09:00-17:00,20"
    report = import_labs(session, io.StringIO(f"{HEADER}\n{row}\n"))
    assert (report.created, report.updated, report.notes) == (0, 1, ())
    session.expire_all()
    assert beijing.address == "东城区新路2号"  # what the file says is changed
    assert (
        beijing.is_demo and beijing.name_en == "Demo sampling point (Beijing)"
    )  # what it does not say is kept
    assert beijing.latitude == pytest.approx(39.9042) and beijing.phone == "010-0000-0001"


def test_a_lab_changes_between_demo_and_real_only_when_the_file_says_so_and_the_report_names_it(session):
    import_labs(session, io.StringIO(f"{HEADER},demo\n{ROW},yes\n"))
    assert _lab(session).is_demo
    report = import_labs(session, io.StringIO(f"{HEADER},demo\n{ROW},\n"))  # an empty cell says nothing
    assert _lab(session).is_demo and report.notes == ()
    report = import_labs(session, io.StringIO(f"{HEADER},demo\n{ROW},no\n"))
    assert not _lab(session).is_demo
    assert len(report.notes) == 1 and "was demo data, is now real data" in report.notes[0]
    assert "A实验室" in report.notes[0]
    report = import_labs(session, io.StringIO(f"{HEADER}\n{ROW}\n"), demo=True)
    assert _lab(session).is_demo and "was real data, is now demo data" in report.notes[0]
    event = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.detail["notes"] == list(report.notes)


def test_the_active_column_retires_and_brings_back_labs(session):
    report = import_labs(
        session, io.StringIO(f"{HEADER},active\n{ROW},no\nB,广东省,广州,路2号,,,,1-5,09:00-17:00,5,\n")
    )
    labs = {lab.name: lab for lab in session.scalars(sa.select(Lab))}
    assert (
        report.created == 2 and not labs["A实验室"].active and labs["B"].active
    )  # empty: a new lab is active
    report = import_labs(session, io.StringIO(f"{HEADER},active\n{ROW},是\n"))
    assert labs["A实验室"].active and "brought back" in report.notes[0]
    report = import_labs(session, io.StringIO(f"{HEADER},active\n{ROW},false\n"))
    assert not labs["A实验室"].active and "retired" in report.notes[0]
    with pytest.raises(InputError, match="line 2: active 'maybe' must be yes or no"):
        import_labs(session, io.StringIO(f"{HEADER},active\n{ROW},maybe\n"))


def test_set_active_retires_labs_by_id_or_every_demo_lab(session):
    load_demo_labs(session)
    import_labs(session, io.StringIO(f"{HEADER}\n{ROW}\n"))
    real = session.scalars(sa.select(Lab).where(Lab.is_demo.is_(False))).one()
    report = set_active(session, [], active=False, demo=True)
    assert len(report.changed) == 31 and all(lab.is_demo and not lab.active for lab in report.changed)
    assert real.active
    again = set_active(session, [], active=False, demo=True)
    assert again.changed == [] and len(again.unchanged) == 31
    set_active(session, [real.id], active=False)
    assert not real.active
    set_active(session, [real.id], active=True)
    assert real.active
    with pytest.raises(InputError):
        set_active(session, [], active=False)
    with pytest.raises(Exception, match="No lab has the id 99999"):
        set_active(session, [real.id, 99999], active=False)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gbk", "gb18030"]
)
def test_files_saved_in_the_encodings_spreadsheets_use_are_read(session, tmp_path, encoding):
    path = tmp_path / "labs.csv"
    path.write_bytes(f"{HEADER},name_en\n{ROW},Lab Á\n".encode(encoding, errors="strict") if "gb" not in encoding
                     else f"{HEADER}\n{ROW}\n".encode(encoding))  # fmt: skip
    report = import_labs(session, path)
    assert report.created == 1 and _lab(session).name == "A实验室" and _lab(session).province == "广东省"
    assert report.encoding in (encoding, "gb18030", "utf-16")


def test_a_file_that_is_not_text_is_refused_in_one_clear_sentence(session, tmp_path):
    path = tmp_path / "labs.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe\x80\x81")
    with pytest.raises(InputError, match="not text in UTF-8, UTF-16 or GBK/GB18030: save it as CSV"):
        import_labs(session, path)
    assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0


def test_fields_longer_than_their_columns_or_with_control_characters_are_refused_by_line(session):
    long_name = "实" * 201
    rows = [ROW.replace("A实验室", long_name), ROW.replace("路1号", "路\x001号"), ROW.replace("020-1", "0" * 41),
            ROW.replace("10", "²")]  # fmt: skip
    message = import_errors(session, HEADER + "\n" + "\n".join(rows) + "\n")
    assert "line 2: name is 201 characters long, at most 200 fit" in message
    assert "line 3: address contains a control character" in message
    assert "line 4: phone is 41 characters long, at most 40 fit" in message
    assert "line 5: daily_capacity '²' must be a whole number" in message


def test_a_field_beyond_the_csv_limit_is_a_line_error(session):
    with pytest.raises(InputError, match="line 2"):
        import_labs(session, io.StringIO(f'{HEADER}\n"{"x" * 200_000}",a\n'))


def test_the_demo_file_is_plain_utf8(session):
    DEMO_LABS.read_bytes().decode("utf-8")
