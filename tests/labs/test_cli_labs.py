"""The `labs` command group: import a directory file and list labs."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.labs import make_labs_group
from intake.labs import DEMO_LABS
from intake.models import Lab

HEADER = "name,province,city,address,latitude,longitude,phone,opening_days,opening_hours,daily_capacity\n"


def test_import_then_list_by_city(session_factory, tmp_path):
    labs = make_labs_group(lambda: session_factory)
    runner = CliRunner()
    result = runner.invoke(labs, ["import", str(DEMO_LABS), "--demo"])
    assert result.exit_code == 0, result.output
    assert "31 labs created, 0 updated" in result.output
    assert "0 labs created, 31 updated" in runner.invoke(labs, ["import", str(DEMO_LABS)]).output
    listed = runner.invoke(labs, ["list", "--city", "guangzhou"])
    assert listed.exit_code == 0 and "演示采血点（广州）" in listed.output and "[DEMO]" in listed.output
    assert len(runner.invoke(labs, ["list"]).output.splitlines()) == 31
    assert "no labs found" in runner.invoke(labs, ["list", "--city", "Atlantis"]).output


def test_a_bad_file_fails_with_its_line_numbers_and_imports_nothing(session_factory, tmp_path):
    bad = tmp_path / "labs.csv"
    bad.write_text(HEADER + "A,广东省,广州,路1号,23.1,113.2,020,Funday,09:00-17:00,10\n", encoding="utf-8")
    result = CliRunner().invoke(make_labs_group(lambda: session_factory), ["import", str(bad)])
    assert result.exit_code == 1 and "line 2: unknown weekday 'funday'" in result.output
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0
