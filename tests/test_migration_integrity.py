"""Migration 0002_integrity on a database holding messages of the old free-string states, on both databases."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from intake.platform import schema
from intake.platform.db import make_engine
from tests.support.databases import PG_ADMIN_URL, postgres_unavailable_reason

OLD_ROWS = [("in", "replied"), ("out", "queued"), ("in", "failed"), ("in", "received")]


@pytest.fixture
def old_engine(backend, tmp_path):
    """Yield an engine on a fresh database migrated to 0001 only."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    if reason := postgres_unavailable_reason():
        pytest.skip(reason)
    name = f"reunite_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_old_states_become_the_enum_old_replies_are_never_queued_and_actors_lose_their_phone(old_engine):
    schema.upgrade(old_engine, "0001")
    with old_engine.begin() as conn:
        for direction, status in OLD_ROWS:
            conn.execute(
                sa.text(
                    "INSERT INTO messages (channel, direction, body, status, created_at) "
                    "VALUES ('sms', :d, 'x', :s, CURRENT_TIMESTAMP)"
                ),
                {"d": direction, "s": status},
            )
        conn.execute(
            sa.text(
                "INSERT INTO contacts (channel, address, language, language_chosen, opted_out, created_at) "
                "VALUES ('sms', '+8613800138000', 'zh_CN', false, false, CURRENT_TIMESTAMP)"
            )
        )
        for actor in ("sms:+8613800138000", "system"):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (at, actor, action, detail) VALUES (CURRENT_TIMESTAMP, :a, 'x', '{}')"
                ),
                {"a": actor},
            )
    schema.upgrade(old_engine)
    with old_engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status FROM messages ORDER BY id")).scalars().all()
        actors = conn.execute(sa.text("SELECT actor FROM audit_events ORDER BY id")).scalars().all()
    assert statuses == ["processed", "answered_inline", "failed", "received"]
    assert actors == ["contact:1", "system"]  # no phone number left in the audit log


def test_0007_gives_the_cases_already_reported_the_province_of_their_place(old_engine):
    schema.upgrade(old_engine, "0007_ystr")
    places = {"MC-2026-000001": "广州火车站", "MC-2026-000002": "朝阳区", "MC-2026-000003": "somewhere"}
    with old_engine.begin() as conn:
        for reference, place in places.items():
            conn.execute(
                sa.text(
                    "INSERT INTO cases (reference, pin, status, child_sex, last_seen_place, created_at, updated_at)"
                    " VALUES (:r, '123456', 'open', 'male', :p, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"r": reference, "p": place},
            )
    schema.upgrade(old_engine, "0007_console_scope")
    with old_engine.connect() as conn:
        found = dict(conn.execute(sa.text("SELECT reference, place_province FROM cases")).all())
    # One province for a place in one; none for a place in two provinces (朝阳区: Beijing, and Jilin's 朝阳) or none.
    assert found == {"MC-2026-000001": "广东省", "MC-2026-000002": None, "MC-2026-000003": None}
