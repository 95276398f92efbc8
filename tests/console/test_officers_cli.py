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


def test_disable_enable_unlock_reset_and_set_role_are_audited(session_factory: sessionmaker[Session]) -> None:
    from intake.models import AuditEvent
    from intake.models.officers import MAX_FAILED_ATTEMPTS

    group = make_officers_group(lambda: session_factory)
    runner = CliRunner()
    assert runner.invoke(group, ["add", "li.wei", "--role", "officer", "--province", "北京市"],
                         input="a long secret\n").exit_code == 0  # fmt: skip
    with session_factory() as s:
        for _ in range(MAX_FAILED_ATTEMPTS):
            check_login(s, "li.wei", "wrong password", "10.0.0.9")
        s.commit()
        assert check_login(s, "li.wei", "a long secret", "10.0.0.9").outcome is LoginOutcome.LOCKED
        s.commit()
    assert "locked from 1 address" in runner.invoke(group, ["list"]).output
    unlocked = runner.invoke(group, ["unlock", "li.wei"])
    assert unlocked.exit_code == 0 and "unlocked" in unlocked.output, unlocked.output
    with session_factory() as s:
        assert check_login(s, "li.wei", "a long secret", "10.0.0.9").outcome is LoginOutcome.OK
        s.commit()
    assert runner.invoke(group, ["disable", "li.wei"]).exit_code == 0
    assert "disabled" in runner.invoke(group, ["list"]).output
    with session_factory() as s:
        assert check_login(s, "li.wei", "a long secret", "10.0.0.1").outcome is LoginOutcome.WRONG
        s.commit()
    assert runner.invoke(group, ["enable", "li.wei"]).exit_code == 0
    reset = runner.invoke(
        group, ["reset-password", "li.wei", "--password-stdin"], input="a new long secret\n"
    )
    assert reset.exit_code == 0, reset.output
    role = runner.invoke(group, ["set-role", "li.wei", "--role", "supervisor", "--province", "上海市"])
    assert role.exit_code == 0 and "supervisor, 上海市" in role.output
    assert (
        runner.invoke(group, ["set-role", "li.wei", "--role", "officer"]).exit_code == 1
    )  # needs a province
    assert runner.invoke(group, ["disable", "nobody"]).exit_code == 1
    with session_factory() as s:
        me = s.scalars(sa.select(Officer).where(Officer.username == "li.wei")).one()
        assert (me.role, me.province, me.active) == (OfficerRole.SUPERVISOR, "上海市", True)
        assert check_login(s, "li.wei", "a new long secret", "10.0.0.1").outcome is LoginOutcome.OK
        actions = list(s.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor == "officer:cli")))
        assert actions == ["officer.create", "officer.unlock", "officer.disable", "officer.enable",
                           "officer.reset_password", "officer.set_role"]  # fmt: skip
