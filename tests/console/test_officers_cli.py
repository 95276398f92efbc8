"""`reunite officers add|list`: the first admin from the command line, the password from stdin, refusals."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from intake.cli.officers import make_officers_group
from intake.models import Officer, OfficerRole
from intake.models.officers import LoginOutcome, check_login


def test_add_the_first_admin_and_list(session_factory: sessionmaker[Session]) -> None:
    group = make_officers_group(lambda: session_factory)
    runner = CliRunner()
    result = runner.invoke(
        group, ["add", "Root", "--role", "admin", "--password-stdin"], input="a long secret\n"
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    result = runner.invoke(group, ["add", "li.wei", "--role", "officer", "--province", "北京市", "--name", "李伟"],
                           input="another secret\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    listing = runner.invoke(group, ["list"]).output
    assert "root\tadmin\t-" in listing and "li.wei\tofficer\t北京市\t李伟\tactive" in listing
    with session_factory() as s:
        root = s.scalars(sa.select(Officer).where(Officer.username == "root")).one()
        assert root.role is OfficerRole.ADMIN and root.password_hash.startswith("$argon2")
        assert "a long secret" not in root.password_hash
        assert check_login(s, "ROOT", "a long secret").outcome is LoginOutcome.OK


def test_refusals(session_factory: sessionmaker[Session]) -> None:
    group = make_officers_group(lambda: session_factory)
    runner = CliRunner()
    short = runner.invoke(group, ["add", "root", "--role", "admin"], input="short\n")
    assert short.exit_code == 1 and "10 to 256 characters" in short.output
    no_province = runner.invoke(group, ["add", "li", "--role", "officer"], input="a long secret\n")
    assert no_province.exit_code == 1 and "province" in no_province.output
    assert runner.invoke(group, ["add", "root", "--role", "admin"], input="a long secret\n").exit_code == 0
    taken = runner.invoke(group, ["add", "root", "--role", "admin"], input="a long secret\n")
    assert taken.exit_code == 1 and "taken" in taken.output
