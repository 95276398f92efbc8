"""Lab API routes for samples: a walk-in sample, a sample's custody, custody events and the profile upload."""

from __future__ import annotations

import json as jsonlib
from typing import Any

from flask import request
from spectree import Response

from intake.cases.found_children import find_case
from intake.labs.errors import ForbiddenError, ProfileRejectedError
from intake.labs.profiles import read_profile, store_profile
from intake.labs.walkins import register_walk_in
from intake.models import CustodyEventType, DnaProfile, Lab, Role, Sample, as_utc
from intake.platform.errors import InputError, NotFoundError
from intake.platform.i18n import N_
from intake.samples.custody import (
    append_event,
    custodian_lab_id,
    custody_events,
    derive_state,
    find_sample,
    require_lab,
)
from intake.samples.fit import Notice
from intake.web.labapi.api import bp, spec
from intake.web.labapi.context import actor, lab_key, render, session, setting
from intake.web.labapi.schemas import (
    ErrorDetail,
    ErrorOut,
    EventIn,
    EventOut,
    ProfileIn,
    ProfileOut,
    SampleOut,
    WalkInIn,
    WalkInOut,
)

REFUSALS: dict[str, Any] = {f"HTTP_{s}": ErrorOut for s in (400, 401, 403, 404, 409, 413, 422, 429)}
CODE = {"code": "The sample code, e.g. K7QX-M2PD."}


def _profile_out(
    sample: Sample, profile: DnaProfile, outcome: str | None = None, notices: tuple[Notice, ...] = ()
) -> ProfileOut:
    return ProfileOut(
        profile=profile.id, sample=sample.code, kit=profile.kit, markers=profile.autosomal_markers,
        outcome=outcome, genotypes=profile.genotypes,  # type: ignore[arg-type]
        notices=[ErrorDetail(code=n.code, message=render(n.message, n.params)) for n in notices],
    )  # fmt: skip


def _sample_out(sample: Sample) -> SampleOut:
    s = session()
    events = custody_events(s, sample)
    profile = read_profile(s, sample, lab_id=lab_key().lab_id, actor=actor())
    return SampleOut(
        code=sample.code, source=sample.source, sex=sample.sex, state=derive_state(sample, events),
        lab=custodian_lab_id(s, sample), linked=sample.person_id is not None,
        events=[
            EventOut(type=e.type, at=as_utc(e.at), recorded_at=as_utc(e.recorded_at), lab=e.lab_id,
                     to_lab=e.to_lab_id, by=e.by, reason=e.reason, profile=e.profile_id)  # fmt: skip
            for e in events
        ],
        profile=_profile_out(sample, profile) if profile else None,
    )  # fmt: skip


@bp.post("/samples")
@spec.validate(json=WalkInIn, resp=Response(HTTP_201=WalkInOut, **REFUSALS), tags=["samples"])
def create_walk_in(json: WalkInIn) -> tuple[WalkInOut, int]:
    """Register a sample taken at your lab from a person who walked in; hand them the link code."""
    if json.role in (Role.VOLUNTEER, Role.OFFICER):
        raise InputError(
            N_("A sample is taken from a parent, a relative or a child, not a %(role)s."), role=json.role
        )
    s = session()
    case = find_case(s, json.case) if json.case else None
    sample, link_code = register_walk_in(
        s, lab_id=lab_key().lab_id, actor=actor(), source=json.source, role=json.role, sex=json.sex, case=case,
        by=json.by,
    )  # fmt: skip
    s.commit()
    return WalkInOut(code=sample.code, link_code=link_code), 201


@bp.get("/samples/<code>")
@spec.validate(
    resp=Response(HTTP_200=SampleOut, **REFUSALS), tags=["samples"], path_parameter_descriptions=CODE
)
def get_sample(code: str) -> tuple[SampleOut, int]:
    """Return a sample's state and custody events (and its profile if your lab typed it); never a name."""
    s = session()
    sample = find_sample(s, code)
    lab_id = lab_key().lab_id
    held = {e.lab_id for e in custody_events(s, sample)} | {e.to_lab_id for e in custody_events(s, sample)}
    if custodian_lab_id(s, sample) not in (None, lab_id) and lab_id not in held:
        raise ForbiddenError("other_lab", N_("Sample %(code)s is held by another lab; your key cannot act on it."),
                             code=sample.code)  # fmt: skip
    out = _sample_out(sample)
    s.commit()  # the audit of a profile read, and a booked event written on first sight
    return out, 200


@bp.post("/samples/<code>/events")
@spec.validate(
    json=EventIn, resp=Response(HTTP_200=SampleOut, HTTP_201=SampleOut, **REFUSALS), tags=["samples"],
    path_parameter_descriptions=CODE,
)  # fmt: skip
def post_event(code: str, json: EventIn) -> tuple[SampleOut, int]:
    """Record that the sample was collected, received, destroyed, or transferred to another lab."""
    s = session()
    sample = find_sample(s, code)
    lab_id = lab_key().lab_id
    require_lab(s, sample, lab_id)
    if json.type == "transferred":
        if json.to_lab is None:
            raise InputError(N_("A transfer needs to_lab: the id of another active lab."))
        target = s.get(Lab, json.to_lab)
        if target is None or not target.active or target.id == lab_id:
            raise NotFoundError(N_("A transfer needs to_lab: the id of another active lab."))
    elif json.to_lab is not None:
        raise InputError(N_("to_lab is only for a transfer."))
    before = len(custody_events(s, sample))
    append_event(
        s, sample, CustodyEventType(json.type), actor=actor(), lab_id=lab_id, at=json.at, by=json.by,
        to_lab_id=json.to_lab, reason=json.reason,
    )  # fmt: skip
    out = _sample_out(sample)
    s.commit()
    return out, 201 if len(out.events) > before else 200


def duplicate_marker() -> str | None:
    """Return a marker (or locus) a JSON body names twice: parsers keep the last, so it must not pass unnoticed."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _v in items]
        found.extend(k for k in keys if keys.count(k) > 1)
        return dict(items)

    try:
        jsonlib.loads(request.get_data(), object_pairs_hook=pairs)
    except ValueError:
        return None
    return found[0] if found else None


@bp.put("/samples/<code>/profile")
@spec.validate(
    json=ProfileIn, resp=Response(HTTP_200=ProfileOut, HTTP_201=ProfileOut, **REFUSALS), tags=["profiles"],
    path_parameter_descriptions=CODE,
)  # fmt: skip
def put_profile(code: str, json: ProfileIn) -> tuple[ProfileOut, int]:
    """Store the sample's STR profile: 201 when new, 200 for the same profile again, 409 for a different one."""
    twice = duplicate_marker()
    if twice is not None:
        raise ProfileRejectedError("marker_twice", N_("Marker %(marker)s is typed twice."), marker=twice)
    s = session()
    sample = find_sample(s, code)
    stored = store_profile(
        s, sample, lab_id=lab_key().lab_id, actor=actor(), kit=json.kit, genotypes=json.genotypes,
        replace=json.replace, reason=json.reason, min_markers=int(setting("LAB_API_MIN_MARKERS")),
    )  # fmt: skip
    s.commit()
    out = _profile_out(sample, stored.profile, stored.outcome, stored.notices)
    return out, 200 if stored.outcome == "unchanged" else 201
