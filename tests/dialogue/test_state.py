"""Typed flow state: what a flow keeps is stored as JSON in the conversation and read back with its real types."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from intake.dialogue.bookable import BookingState
from intake.dialogue.casefile import ReportState
from intake.dialogue.state import need
from intake.dialogue.steps import Ctx
from intake.models import Conversation, Role, Sex
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript


def test_report_state_round_trips_through_json():
    st = ReportState(
        consent_dna_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC), child_name="李小明", sex=Sex.MALE,
        birth=date(2019, 3, 2), last_seen=date(2026, 11, 20), role=Role.MOTHER, age_months=8, age_in_months=True,
    )  # fmt: skip
    stored = json.loads(json.dumps(st.dump()))  # what the JSON column gives back
    assert stored["sex"] == "male" and stored["birth"] == "2019-03-02"
    assert ReportState.load(stored) == st


def test_booking_state_keeps_lists_of_days():
    st = BookingState(cases=[3, 4], days=[date(2026, 11, 24), date(2026, 11, 25)], day=date(2026, 11, 25))
    stored = json.loads(json.dumps(st.dump()))
    assert stored["days"] == ["2026-11-24", "2026-11-25"]
    assert BookingState.load(stored) == st


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults():
    assert BookingState.load({"lab_id": 7, "_picking_language": True}) == BookingState(lab_id=7)


def _ctx(data: dict[str, object]) -> Ctx:
    # keep reads and writes the flow data only
    return Ctx(None, None, None, datetime(2026, 11, 23, tzinfo=UTC), data)  # type: ignore[arg-type]


def test_keep_sets_the_fields_named_saves_and_returns_the_state():
    ctx = _ctx({"child_name": "李小明", "sex": "male", "stale": 1})
    st = ReportState.keep(ctx, birth=date(2019, 3, 2), role=Role.MOTHER)
    assert st == ReportState(child_name="李小明", sex=Sex.MALE, birth=date(2019, 3, 2), role=Role.MOTHER)
    assert ctx.data == st.dump() and ctx.data["birth"] == "2019-03-02" and "stale" not in ctx.data


def test_keep_refuses_a_name_that_is_no_field_and_saves_nothing():
    ctx = _ctx({"child_name": "李小明"})
    with pytest.raises(TypeError, match="no field child"):
        ReportState.keep(ctx, child="李小明")
    assert ctx.data == {"child_name": "李小明"}


def test_a_value_an_earlier_step_sets_is_required():
    assert need(0) == 0
    with pytest.raises(RuntimeError):
        need(None)


def test_the_report_flow_stores_typed_answers_in_the_conversation(session):
    run_transcript(session, t.REPORT_ZH[:11])
    st = ReportState.load(session.scalars(sa.select(Conversation.data)).one())
    assert (st.child_name, st.sex, st.age_months, st.place) == ("李小明", Sex.MALE, 60, "广州火车站")
    assert st.last_seen == date(2026, 11, 20) and isinstance(st.consent_data_at, datetime)


def test_a_report_begun_before_the_upgrade_keeps_its_age():
    legacy = {"child_name": "Li Ming", "sex": "male", "birth": None, "age": 5, "last_seen": "2026-11-20"}
    st = ReportState.load(legacy)
    assert (st.age_months, st.sex, st.last_seen) == (60, Sex.MALE, date(2026, 11, 20))
