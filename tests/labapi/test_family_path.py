"""A family's whole path through the lab side: the mother booked, the father joins and walks in, both typed."""

from __future__ import annotations

import sqlalchemy as sa

from intake.cases.family import JoinOutcome, join_case
from intake.labs.walkins import LinkOutcome, link_walk_in
from intake.models import Case, Channel, Contact, CustodyState, Role
from intake.samples.progress import case_sample_progress
from tests.support.factories import HUAXIA_PLATINUM, bearer, booked_sample, genotypes


def test_mother_booked_father_walked_in_both_typed_and_status_shows_it(client, session, lab):
    mother = booked_sample(session, lab[0])
    case = session.get_one(Case, mother.case_id)
    father = Contact(channel=Channel.SMS, address="+8613900000077")
    session.add(father)
    session.flush()
    assert join_case(session, father, case.reference, case.pin, Role.FATHER).outcome is JoinOutcome.JOINED
    reference, father_id = case.reference, father.id
    session.commit()
    walk_in = client.post("/api/v1/samples", json={"source": "reporting_parent", "role": "father", "sex": "male",
                                                   "case": reference}, headers=bearer(lab[1])).get_json()  # fmt: skip
    client.post(f"/api/v1/samples/{mother.code}/events", json={"type": "collected"}, headers=bearer(lab[1]))
    for n, code in enumerate((mother.code, walk_in["code"])):
        body = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, 30 + n)}
        assert (
            client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(lab[1])).status_code
            == 201
        )
    father = session.get_one(Contact, father_id)
    linked = link_walk_in(session, father, walk_in["link_code"])  # he joined the case, so no PIN is asked
    assert linked.outcome is LinkOutcome.LINKED and linked.case_reference == reference
    progress = case_sample_progress(session, session.get_one(Case, mother.case_id))
    assert [(p.role, p.state, p.collected, p.typed) for p in progress] == [
        (Role.MOTHER, CustodyState.TYPED, True, True), (Role.FATHER, CustodyState.TYPED, True, True)]  # fmt: skip
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
