"""The `labs` command group: import a directory file, list labs, retire and bring back labs; one-line errors."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.labs import make_labs_group
from intake.labs.directory import DEMO_LABS
from intake.models import Lab

HEADER = "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity\n"


def _run(session_factory, *args: str):
    return CliRunner().invoke(make_labs_group(lambda: session_factory), list(args))


def test_import_then_list_by_city(session_factory):
    result = _run(session_factory, "import", str(DEMO_LABS), "--demo")
    assert result.exit_code == 0, result.output
    assert "31 labs created, 0 updated" in result.output
    assert "0 labs created, 31 updated" in _run(session_factory, "import", str(DEMO_LABS)).output
    listed = _run(session_factory, "list", "--city", "guangzhou")
    assert listed.exit_code == 0 and "演示采血点（广州）" in listed.output and " DEMO " in listed.output
    assert len(_run(session_factory, "list").output.splitlines()) == 31
    assert "no labs found" in _run(session_factory, "list", "--city", "Atlantis").output


def test_the_list_is_sorted_by_province_city_and_name_and_shows_state(session_factory, tmp_path):
    path = tmp_path / "labs.csv"
    path.write_text(HEADER.strip() + ",active\n" + "".join(
        f"{name},{province},{city},路1号,,,,1-5,09:00-17:00,10,{active}\n"
        for name, province, city, active in [("乙", "广东省", "深圳", "yes"), ("甲", "广东省", "深圳", "no"),
                                             ("丙", "北京市", "北京", ""), ("丁", "广东省", "广州", "")]
    ), encoding="utf-8")  # fmt: skip
    assert _run(session_factory, "import", str(path)).exit_code == 0
    lines = _run(session_factory, "list").output.splitlines()
    assert [line.split()[3:6] for line in lines] == [
        ["北京市", "北京", "丙"], ["广东省", "广州", "丁"], ["广东省", "深圳", "乙"], ["广东省", "深圳", "甲"]
    ]  # fmt: skip
    assert [line.split()[1:3] for line in lines] == [["active", "real"]] * 3 + [["RETIRED", "real"]]
    by_city = _run(session_factory, "list", "--city", "深圳").output.splitlines()
    assert [line.split()[5] for line in by_city] == ["乙", "甲"]  # retired labs are listed too


def test_an_empty_directory_says_how_the_demo_directory_is_loaded(session_factory):
    result = _run(session_factory, "list")
    assert result.exit_code == 0
    assert "empty" in result.output and "`reunite chat` load the DEMO directory" in result.output
    assert "REUNITE_DEMO_LABS=0" in result.output and "reunite labs load-demo" in result.output
    loaded = _run(session_factory, "load-demo")
    assert loaded.exit_code == 0 and "31 demo labs created" in loaded.output
    assert len(_run(session_factory, "list").output.splitlines()) == 31


def test_deactivate_and_activate_labs_by_id_or_all_demo_labs(session_factory, tmp_path):
    _run(session_factory, "load-demo")
    path = tmp_path / "real.csv"
    path.write_text(HEADER + "市局实验室,广东省,广州,路1号,,,,1-5,09:00-17:00,10\n", encoding="utf-8")
    _run(session_factory, "import", str(path))
    retired = _run(session_factory, "deactivate", "--demo")
    assert retired.exit_code == 0, retired.output
    assert (
        "31 labs retired" in retired.output
        and "retired: #1 演示采血点（北京） (北京, demo)" in retired.output
    )
    with session_factory() as session:
        active = session.scalars(sa.select(Lab).where(Lab.active.is_(True))).all()
        assert [lab.name for lab in active] == ["市局实验室"]
        real_id = active[0].id
    last = _run(session_factory, "deactivate", str(real_id))
    assert "1 labs retired" in last.output and "no active lab is left" in last.output
    back = _run(session_factory, "activate", str(real_id), "1")
    assert back.exit_code == 0 and "2 labs brought back" in back.output
    unknown = _run(session_factory, "deactivate", "99999")
    assert unknown.exit_code == 1 and "No lab has the id 99999" in unknown.output
    nothing = _run(session_factory, "deactivate")
    assert nothing.exit_code == 1 and "Name the labs by their id" in nothing.output


def test_a_bad_file_fails_with_its_line_numbers_and_imports_nothing(session_factory, tmp_path):
    bad = tmp_path / "labs.csv"
    bad.write_text(HEADER + "A,广东省,广州,路1号,23.1,113.2,020,Funday,09:00-17:00,10\n", encoding="utf-8")
    result = _run(session_factory, "import", str(bad))
    assert result.exit_code == 1 and "line 2: unknown weekday 'funday'" in result.output
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0


def test_gbk_files_are_imported_and_unreadable_ones_get_one_line(session_factory, tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(
        (HEADER + "市局实验室,广东省,广州,越秀区路1号,,,,周一至周五,09:00-17:00,10\n").encode("gbk")
    )
    result = _run(session_factory, "import", str(gbk))
    assert result.exit_code == 0, result.output
    assert "1 labs created" in result.output and "read as gb18030" in result.output
    binary = tmp_path / "labs.xls"
    binary.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\xff\xfe\x80")
    refused = _run(session_factory, "import", str(binary))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.output.strip().splitlines() == [
        "Error: The lab file is not text in UTF-8, UTF-16 or GBK/GB18030: save it as CSV (UTF-8) and import it again."
    ]


def test_an_over_long_field_is_a_line_error_not_a_database_traceback(session_factory, tmp_path):
    path = tmp_path / "labs.csv"
    path.write_text(HEADER + f"A,广东省,广州,{'路' * 301},,,,1-5,09:00-17:00,10\n", encoding="utf-8")
    result = _run(session_factory, "import", str(path))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "line 2: address is 301 characters long, at most 300 fit" in result.output
    assert "Traceback" not in result.output and "sqlalchemy" not in result.output.lower()
