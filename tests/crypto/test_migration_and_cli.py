"""Migration 0005_crypto keeps the values stored before it readable; `reunite keys` encrypts and rotates them."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli import main
from intake.models import MatchFlag
from intake.platform import crypto, schema
from intake.platform.db import make_session_factory
from intake.platform.reencrypt import PLAINTEXT, key_usage, reencrypt
from tests.test_migration_integrity import old_engine  # noqa: F401 - a fresh database of each backend

DETAIL = {"genotypes": {"child": ["X"], "mother": ["X"]}, "note": "sex mix-up 13.3"}


def test_plaintext_from_before_still_reads_and_is_encrypted_by_reencrypt(old_engine, tmp_path):  # noqa: F811
    schema.upgrade(old_engine, "0004_identity")
    with old_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO match_flags (kind, profile_ids, case_ids, detail, created_at) "
                "VALUES ('sex_mismatch', 'p1,p2', '[]', :d, CURRENT_TIMESTAMP)"
            ),  # fmt: skip
            {"d": '{"genotypes": {"child": ["X"], "mother": ["X"]}, "note": "sex mix-up 13.3"}'},
        )
    schema.upgrade(old_engine)
    factory = make_session_factory(old_engine)
    with factory() as s:
        assert s.scalars(sa.select(MatchFlag.detail)).one() == DETAIL  # plaintext, as it was
    assert key_usage(factory)["match_flags.detail"] == {PLAINTEXT: 1}
    keyring = crypto.current()
    report = reencrypt(factory, keyring, tmp_path)
    assert report.sealed["match_flags.detail"] == 1
    with old_engine.connect() as conn:
        raw = bytes(conn.execute(sa.text("SELECT detail FROM match_flags")).scalar_one())
    assert crypto.is_sealed(raw) and b"13.3" not in raw and b"genotypes" not in raw
    with factory() as s:
        assert s.scalars(sa.select(MatchFlag.detail)).one() == DETAIL


def test_keys_commands_make_a_key_report_and_reencrypt(tmp_path, monkeypatch):
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "new"])
    assert made.exit_code == 0 and len(made.output.strip()) == 44
    old, new = crypto.new_key(), made.output.strip()
    monkeypatch.setenv("REUNITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("REUNITE_DATA_KEYS", old)
    status = runner.invoke(main, ["keys", "status"])
    assert status.exit_code == 0, status.output
    with make_session_factory(sa.create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}"))() as s:
        s.add(MatchFlag(kind="test", profile_ids="p1", case_ids=[], detail=DETAIL))
        s.commit()
    old_id, new_id = crypto.Keyring.parse(old).newest_id, crypto.Keyring.parse(new).newest_id
    assert f"match_flags.detail: 1 key {old_id}" in runner.invoke(main, ["keys", "status"]).output
    monkeypatch.setenv("REUNITE_DATA_KEYS", f"{new},{old}")
    done = runner.invoke(main, ["keys", "reencrypt"])
    assert done.exit_code == 0, done.output
    assert f"match_flags.detail: 1 encrypted with key {new_id}" in done.output
    assert f"Everything is encrypted with key {new_id}: older keys can now be dropped." in done.output
    monkeypatch.setenv("REUNITE_DATA_KEYS", old)  # the new key forgotten: a one-line error naming it
    refused = runner.invoke(main, ["keys", "reencrypt"])
    assert refused.exit_code == 1 and "cannot re-encrypt: " in refused.output and new_id in refused.output
    assert old not in done.output + status.output and new not in done.output  # keys are never printed
