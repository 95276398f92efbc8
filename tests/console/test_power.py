"""The case page's search power: computed by the worker when a profile arrives, read (and audited) by the page."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

import intake.cases.power as power
from intake.cli.power import make_power_command
from intake.models import AuditEvent, CasePower, DnaProfile, Person, Role, Sample, SampleSource, SampleStatus
from tests.console.factories import add_officer, case_with_profile, lab_in, log_in
from tests.support.factories import IDENTIFILER, genotypes
from tests.support.power import use_small_kit


@pytest.fixture(autouse=True)
def _small_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_kit(monkeypatch)


def _father_typed(session: Session, case_id: int, lab_id: int) -> None:
    father = Person(case_id=case_id, role=Role.FATHER, name="李强")
    session.add(father)
    session.flush()
    sample = Sample(code="FATHER-01", source=SampleSource.REPORTING_PARENT, status=SampleStatus.PROFILED,
                    case_id=case_id, person_id=father.id, lab_id=lab_id)  # fmt: skip
    session.add(sample)
    session.flush()
    session.add(DnaProfile(id="pfather1", sample_id=sample.id, lab_id=lab_id, kit="Identifiler",
                           genotypes=genotypes(IDENTIFILER, 77, "male"), autosomal_markers=15, digest="f" * 64,
                           uploaded_by="test"))  # fmt: skip
    session.commit()


def test_the_worker_computes_the_power_and_the_case_page_shows_which_relative_next(
    client: FlaskClient, session: Session, session_factory: sessionmaker[Session]
) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    add_officer(session, "bj")
    log_in(client, "bj")
    english = {"Accept-Language": "en"}
    page = client.get(f"/console/cases/{ref.reference}", headers=english).get_data(as_text=True)
    assert "being computed" in page  # the page never computes: the worker does

    assert power.worker_task(session_factory) == 1
    assert power.worker_task(session_factory) == 0  # nothing new: not computed again
    page = client.get(f"/console/cases/{ref.reference}", headers=english).get_data(as_text=True)
    assert "Search power: which relative next" in page
    assert "With the child&#39;s father typed too, the true child would reach the candidate band in" in page
    assert "the mother of the child&#39;s father (grandma)" in page
    chinese = client.get(f"/console/cases/{ref.reference}", headers={"Accept-Language": "zh-CN"})
    assert "孩子的爸爸" in chinese.get_data(as_text=True)
    views = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.power_view")).all()
    assert len(views) == 2 and all(v.entity_id == str(ref.case_id) for v in views)
    session.rollback()

    # The father's profile arrives: the figures are computed again, now for the trio, with no father to ask for.
    _father_typed(session, ref.case_id, lab.id)
    assert power.worker_task(session_factory) == 1
    cached = session.get(CasePower, ref.case_id)
    assert cached is not None and cached.figures["typed"] == ["father", "mother"]
    assert "father" not in [a["role"] for a in cached.figures["additions"]]
    session.rollback()
    page = client.get(f"/console/cases/{ref.reference}", headers=english).get_data(as_text=True)
    assert "Typed: father, mother (8 markers)" in page


def test_the_power_command_prints_the_figures_best_relative_first_and_audits_the_read(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    session.rollback()  # SQLite: no transaction of ours stays open while the command writes
    command = make_power_command(lambda: session_factory)
    printed = CliRunner().invoke(command, [ref.reference.lower()])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert lines[0].startswith(
        f"case {ref.reference}: typed mother; 8 markers, 10,000 simulations, 0 children"
    )
    assert (
        lines[2].startswith("today") and lines[3].startswith("+ father") and lines[-1] == "next: the father"
    )
    as_json = json.loads(CliRunner().invoke(command, [ref.reference, "--json"]).output)
    assert as_json["typed"] == ["mother"] and as_json["scenarios"][0]["added"] is None
    today, father = as_json["scenarios"][0], as_json["scenarios"][1]
    assert father["added"] == "father" and father["true_child_in_band"] > today["true_child_in_band"]
    views = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.power_view")).all()
    assert [v.actor for v in views] == ["officer:cli", "officer:cli"]
    session.rollback()
    unknown = CliRunner().invoke(command, ["MC-2026-ZZZZZZ"])
    assert unknown.exit_code != 0 and "There is no case MC-2026-ZZZZZZ" in unknown.output
