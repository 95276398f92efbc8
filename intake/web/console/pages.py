"""The console's reading pages: dashboard, cases and their timeline, profiles, labs, samples, the audit log.

Every page that shows personal or genetic data writes its audit event (who, what, when) in the same database
transaction as the reads, and commits it before the page is sent.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import aliased

from intake.cases.merge import followed
from intake.models import (
    Attachment,
    AuditEvent,
    Booking,
    Candidate,
    CandidateReview,
    Case,
    CaseKind,
    CaseStatus,
    Consent,
    Contact,
    CustodyEvent,
    Direction,
    DnaProfile,
    FoundChild,
    Lab,
    LabDay,
    Message,
    Officer,
    OfficerRole,
    Person,
    PersonContact,
    Role,
    Sample,
    SampleSource,
    SampleStatus,
    as_utc,
    audit,
)
from intake.places.provinces import provinces_of
from intake.places.scope import cases_clause, in_province, samples_clause
from intake.platform.codes import is_valid_sample_code, normalise_sample_code
from intake.platform.i18n import N_
from intake.platform.photos import CONTENT_TYPE, read_photo
from intake.web.console.access import require_case
from intake.web.console.app import bp, db, label, login_required, officer, render, roles_required, t
from intake.web.console.candidates import combined_lr
from intake.web.console.paging import date_arg, day_end, day_start, page_list, paginate
from intake.web.console.power import expected, percent, power_view
from intake.web.support import runtime

# The values of the enumerations the pages show, translated in the templates with _(value).
ENUM_LABELS = (
    N_("open"), N_("sampling_booked"), N_("sampled"), N_("profiled"), N_("candidate_match"), N_("reunited"),
    N_("closed"), N_("withdrawn"), N_("missing_child"), N_("found_child"), N_("female"), N_("male"),
    N_("unknown"), N_("confirmed_missing_parent"), N_("reporting_parent"), N_("rescued_child"),
    N_("suspected_kidnapped_child"), N_("unknown_identity_child"), N_("awaiting_collection"), N_("collected"),
    N_("rejected"), N_("cancelled"), N_("sms"), N_("telegram"), N_("terminal"), N_("officer"), N_("supervisor"),
    N_("admin"),
)  # fmt: skip


def _kind_filter(query: sa.Select[Case], kind: str) -> sa.Select[Case]:
    found = sa.select(FoundChild.case_id)
    if kind == CaseKind.FOUND_CHILD.value:
        return query.where(Case.id.in_(found))
    if kind == CaseKind.MISSING_CHILD.value:
        return query.where(Case.id.not_in(found))
    return query


def _provinces() -> list[str]:
    return list(db().scalars(sa.select(Lab.province).distinct().order_by(Lab.province)))


@bp.get("/")
@login_required
def dashboard() -> ResponseReturnValue:
    s, me = db(), officer()
    counts = dict(
        s.execute(sa.select(Case.status, sa.func.count()).where(cases_clause(me)).group_by(Case.status)).all()
    )
    recent = list(
        s.scalars(sa.select(Case).where(cases_clause(me)).order_by(Case.created_at.desc()).limit(10))
    )
    audit(s, me.actor, "console.dashboard", "case", None, shown=len(recent))
    s.commit()
    return render(
        "dashboard.html",
        counts=[(status, counts.get(status, 0)) for status in CaseStatus],
        recent=recent,
        reporters=reporters(recent),
        provinces=provinces_of(s, [c.id for c in recent]),
    )


SORTS = {
    "newest": (Case.created_at.desc(), Case.id.desc()),
    "oldest": (Case.created_at.asc(), Case.id.asc()),
    "reference": (Case.reference.asc(),),
    "status": (Case.status.asc(), Case.created_at.desc(), Case.id.desc()),
}
SORT_LABELS = (N_("newest"), N_("oldest"), N_("reference"), N_("status"))
FOUND_SOURCES = {
    SampleSource.RESCUED_CHILD,
    SampleSource.SUSPECTED_KIDNAPPED_CHILD,
    SampleSource.UNKNOWN_IDENTITY_CHILD,
}
PHONE_CHARS = re.compile(r"[\s\-()]")


MAX_SEARCH_HITS = 10_000  # cases one search may find (a name like "王" alone): enough to page through


def search_condition(q: str) -> sa.ColumnElement[bool]:
    """Cases found by `q`: a case reference, a sample code, a phone number, a child's or a person's name.

    The matching case ids are found first, each kind through its own (mostly indexed) lookup, so the page and
    its total then read only those cases.
    """
    s = db()
    q = q.strip()[:64]
    upper = q.upper()
    lookups: list[sa.Select[Any]] = []
    # A name has no digit, or has Chinese characters; references and phones are ASCII with digits.
    if not any(ch.isdigit() for ch in q) or not q.isascii():
        lookups += [
            sa.select(Case.id).where(Case.child_name.contains(q, autoescape=True)),
            sa.select(Person.case_id).where(Person.name.contains(q, autoescape=True)),
        ]
    if is_valid_sample_code(q):  # "K7QX-M2PD", "k7qxm2pd", or all letters: its check character tells
        lookups.append(sa.select(Sample.case_id).where(Sample.code == normalise_sample_code(q)))
    if any(ch.isdigit() for ch in q):
        lookups.append(sa.select(Case.id).where(Case.reference == upper))
        digits = PHONE_CHARS.sub("", q)
        if digits.lstrip("+").isdigit() and len(digits.lstrip("+")) >= 5:
            bare = digits.lstrip("+")
            national = bare[2:] if bare.startswith("86") and len(bare) == 13 else bare
            addresses = {digits, bare, f"+{bare}", f"+86{national}", national}
            contacts = list(s.scalars(sa.select(Contact.id).where(Contact.address.in_(addresses))))
            lookups += [
                sa.select(Case.id).where(Case.reported_by_contact_id.in_(contacts)),
                sa.select(Person.case_id).where(Person.contact_id.in_(contacts)),
                sa.select(Person.case_id).where(
                    Person.role == Role.VOLUNTEER, Person.relation_note.in_(addresses)
                ),
            ]
    ids: set[int] = set()
    for lookup in lookups:
        ids.update(i for i in s.scalars(lookup.limit(MAX_SEARCH_HITS)) if i is not None)
    return Case.id.in_(sorted(ids)[:MAX_SEARCH_HITS])


def case_query(me: Officer) -> tuple[sa.Select[Case], dict[str, str]]:
    """The cases the officer asked for (search, filters) in the order asked; and what was asked."""
    chosen = {
        k: request.args.get(k, "").strip()[:64] for k in ("q", "province", "status", "kind", "source", "sort")
    }
    chosen.update({k: request.args.get(k, "").strip()[:10] for k in ("from", "to")})
    if chosen["status"] and chosen["status"] not in {c.value for c in CaseStatus}:
        abort(400, f"unknown status {chosen['status'][:32]!r}")
    if chosen["kind"] and chosen["kind"] not in {k.value for k in CaseKind}:
        abort(400, f"unknown kind {chosen['kind'][:32]!r}")
    if chosen["source"] and chosen["source"] not in {x.value for x in SampleSource}:
        abort(400, f"unknown source {chosen['source'][:32]!r}")
    if chosen["sort"] and chosen["sort"] not in SORTS:
        abort(400, f"unknown sort {chosen['sort'][:32]!r}")
    query = _kind_filter(sa.select(Case).where(cases_clause(me)), chosen["kind"])
    if chosen["province"]:
        query = query.where(in_province(chosen["province"]))
    if chosen["status"]:
        query = query.where(Case.status == CaseStatus(chosen["status"]))
    if chosen["source"]:
        source = SampleSource(chosen["source"])
        if source in FOUND_SOURCES:
            query = query.where(Case.id.in_(sa.select(FoundChild.case_id).where(FoundChild.source == source)))
        else:
            query = query.where(Case.id.in_(sa.select(Sample.case_id).where(Sample.source == source)))
    start, end = date_arg("from"), date_arg("to")
    if start is not None:
        query = query.where(Case.created_at >= day_start(start))
    if end is not None:
        query = query.where(Case.created_at < day_end(end))
    if chosen["q"]:
        query = query.where(search_condition(chosen["q"]))
    return query.order_by(*SORTS[chosen["sort"] or "newest"]), chosen


def reporters(cases: list[Case]) -> dict[int, str]:
    """The name of the person who reported each case (the person writing from the reporting contact)."""
    wanted = {c.id: c.reported_by_contact_id for c in cases if c.reported_by_contact_id}
    if not wanted:
        return {}
    names: dict[int, str] = {}
    rows = db().execute(
        sa.select(Person.case_id, Person.contact_id, Person.name)
        .where(Person.case_id.in_(list(wanted)), Person.name.is_not(None))
        .order_by(Person.id)
    )
    for case_id, contact_id, name in rows:
        if contact_id == wanted.get(case_id) and case_id not in names:
            names[case_id] = str(name)
    return names


@bp.get("/cases")
@login_required
def cases() -> ResponseReturnValue:
    s, me = db(), officer()
    query, chosen = case_query(me)
    paged = paginate(s, query)
    found = paged.rows
    audit(
        s, me.actor, "case.list", "case", None, shown=len(found), total=paged.total, search=bool(chosen["q"])
    )
    s.commit()
    return render(
        "cases.html",
        cases=found,
        paged=paged,
        reporters=reporters(found),
        provinces=provinces_of(s, [c.id for c in found]),
        all_provinces=_provinces(),
        statuses=list(CaseStatus),
        kinds=list(CaseKind),
        sources=list(SampleSource),
        sorts=list(SORTS),
        chosen=chosen,
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's timeline."""

    at: datetime
    what: str  # a msgid, translated in the template
    detail: str
    link: str | None = None
    translate_detail: bool = False  # the detail is a msgid too


def _timeline(case: Case) -> list[TimelineEntry]:
    s = db()
    entries = [TimelineEntry(case.created_at, N_("Case opened"), case.reference)]
    persons = list(s.scalars(sa.select(Person).where(Person.case_id == case.id)))
    for p in persons:
        entries.append(
            TimelineEntry(p.created_at, N_("Person added"), f"{label(p.role)} {p.name or ''}".strip())
        )
    for c in s.scalars(sa.select(Consent).where(Consent.case_id == case.id)):
        state = "consent_withdrawn" if c.withdrawn_at else ("granted" if c.granted else "refused")
        entries.append(
            TimelineEntry(
                c.recorded_at, N_("Consent"), f"{label(c.scope)}: {label(state)} ({label(c.channel)})"
            )
        )
    bookings = s.execute(
        sa.select(Booking, LabDay, Lab)
        .join(LabDay, LabDay.id == Booking.lab_day_id)
        .join(Lab, Lab.id == LabDay.lab_id)
        .where(Booking.case_id == case.id)
    )
    for b, day, lab in bookings:
        entries.append(
            TimelineEntry(
                b.created_at, N_("Appointment"), f"{day.day.isoformat()} {lab.name}: {label(b.status)}"
            )
        )
    samples = list(s.scalars(sa.select(Sample).where(Sample.case_id == case.id)))
    by_id = {x.id: x for x in samples}
    for x in samples:
        entries.append(
            TimelineEntry(x.created_at, N_("Sample"), f"{x.code} {label(x.source)}: {label(x.status)}")
        )
    events = s.scalars(sa.select(CustodyEvent).where(CustodyEvent.sample_id.in_(list(by_id))))
    for e in events:
        detail = f"{by_id[e.sample_id].code}: {label(e.type)}" + (f" ({e.reason})" if e.reason else "")
        entries.append(TimelineEntry(e.at, N_("Custody"), detail))
    profiles = s.scalars(sa.select(DnaProfile).where(DnaProfile.sample_id.in_(list(by_id))))
    for pr in profiles:
        state = f" ({label('replaced')})" if pr.replaced_at else ""
        entries.append(
            TimelineEntry(
                pr.created_at,
                N_("Profile"),
                t(
                    N_("%(code)s: %(n)s markers, %(kit)s"),
                    code=by_id[pr.sample_id].code,
                    n=pr.autosomal_markers,
                    kit=pr.kit,
                )
                + state,
                f"profiles/{pr.id}",
            )
        )
    entries.extend(_messages(case, persons))
    return sorted(entries, key=lambda e: as_utc(e.at))


PIN_LIKE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def case_contacts(case: Case, persons: list[Person]) -> set[int]:
    """Return the contacts who write about `case`: its reporter, its persons' own and linked contacts."""
    contacts = {p.contact_id for p in persons if p.contact_id}
    if case.reported_by_contact_id:
        contacts.add(case.reported_by_contact_id)
    if persons:
        linked = sa.select(PersonContact.contact_id).where(
            PersonContact.person_id.in_([p.id for p in persons])
        )
        contacts |= set(db().scalars(linked))
    return contacts


def cases_of_contacts(contact_ids: set[int]) -> dict[int, set[int]]:
    """Return, for each contact, every case it reported, is a person of, or is linked to."""
    s = db()
    found: dict[int, set[int]] = {c: set() for c in contact_ids}
    if not contact_ids:
        return found
    ids = list(contact_ids)
    rows = [
        *s.execute(
            sa.select(Case.reported_by_contact_id, Case.id).where(Case.reported_by_contact_id.in_(ids))
        ),
        *s.execute(sa.select(Person.contact_id, Person.case_id).where(Person.contact_id.in_(ids))),
        *s.execute(
            sa.select(PersonContact.contact_id, Person.case_id)
            .join(Person, Person.id == PersonContact.person_id)
            .where(PersonContact.contact_id.in_(ids))
        ),
    ]
    for contact_id, case_id in rows:
        if contact_id is not None:
            found[int(contact_id)].add(int(case_id))
    return found


def without_pins(text: str, pins: set[str]) -> str:
    """Hide every case PIN in a message (those of the contact's cases, and anything shaped like one)."""
    for pin in pins:
        if pin:
            text = text.replace(pin, "••••••")
    return PIN_LIKE.sub("••••••", text)


def _messages(case: Case, persons: list[Person]) -> list[TimelineEntry]:
    """The messages that belong to this case, without PINs.

    Messages carry no case, only their contact: a contact's messages are shown only when every case the contact
    is tied to is this one. A phone that also writes about another case (a volunteer who reported their own
    child, a parent of two cases) has its messages left out, with one line saying so: they may be about a case
    the reader may not see.
    """
    s = db()
    contacts = case_contacts(case, persons)
    tied = cases_of_contacts(contacts)
    own = sorted(c for c in contacts if tied.get(c, set()) <= {case.id})
    entries = []
    if len(own) < len(contacts):
        entries.append(
            TimelineEntry(case.created_at, N_("Messages not shown"),
                  N_("A contact of this case also writes about another case: its messages are not shown here."),
                  translate_detail=True)
        )  # fmt: skip
    if not own:
        return entries
    pins = set(
        s.scalars(
            sa.select(Case.pin).where(Case.id.in_({i for c in own for i in tied.get(c, set())} | {case.id}))
        )
    )
    messages = s.scalars(
        sa.select(Message).where(Message.contact_id.in_(own)).order_by(Message.id).limit(200)
    )
    for m in messages:
        what = N_("Message received") if m.direction is Direction.INBOUND else N_("Message sent")
        entries.append(TimelineEntry(m.created_at, what, without_pins(m.body, pins)))
    return entries


@dataclass(frozen=True)
class Registrant:
    """Who registered a found child and how to reach them."""

    name: str
    phone: str | None = None
    channel: str | None = None  # the channel and address they wrote from (an officer: their username)
    address: str | None = None


def registrants(found: list[FoundChild]) -> dict[int, Registrant]:
    """Name the volunteer (or officer) who registered each found child, with how to reach them."""
    s = db()
    case_ids = [f.case_id for f in found]
    volunteers: dict[int, Person] = {}
    for p in s.scalars(
        sa.select(Person)
        .where(Person.case_id.in_(case_ids), Person.role == Role.VOLUNTEER)
        .order_by(Person.id)
    ):
        volunteers.setdefault(p.case_id, p)
    contact_ids = {p.contact_id for p in volunteers.values() if p.contact_id}
    contacts = {c.id: c for c in s.scalars(sa.select(Contact).where(Contact.id.in_(contact_ids)))}
    officer_ids = {int(f.registered_by.split(":", 1)[1]) for f in found
                   if f.registered_by.startswith("officer:") and f.registered_by.split(":", 1)[1].isdigit()}  # fmt: skip
    officers = {o.id: o for o in s.scalars(sa.select(Officer).where(Officer.id.in_(officer_ids)))}
    named: dict[int, Registrant] = {}
    for f in found:
        volunteer = volunteers.get(f.case_id)
        kind, _sep, ident = f.registered_by.partition(":")
        if volunteer is not None:
            contact = contacts.get(volunteer.contact_id or 0)
            named[f.case_id] = Registrant(
                volunteer.name or "–",
                volunteer.relation_note,
                contact.channel.value if contact is not None else None,
                contact.address if contact is not None else None,
            )
        elif kind == "officer" and ident.isdigit() and int(ident) in officers:
            o = officers[int(ident)]
            named[f.case_id] = Registrant(o.display_name, None, N_("console account"), o.username)
        else:
            named[f.case_id] = Registrant(f.registered_by)
    return named


@bp.get("/cases/<reference>")
@login_required
def case_page(reference: str) -> ResponseReturnValue:
    s, me = db(), officer()
    case = s.scalars(sa.select(Case).where(Case.reference == reference[:24].upper())).first()
    if case is None:
        abort(404)
    if case.merged_into_id is not None:  # a linked report: its family and province are the kept case's
        kept = followed(s, case)
        require_case(s, me, kept)
        flash(t(N_("Case %(other)s was linked into case %(keep)s as one family."), other=case.reference,
                keep=kept.reference))  # fmt: skip
        return redirect(url_for("console.case_page", reference=kept.reference))
    require_case(s, me, case)
    found = s.get(FoundChild, case.id)
    timeline = page_list(_timeline(case))
    people = _people(case)
    candidates = list(
        s.execute(
            sa.select(Candidate, CandidateReview.state)
            .outerjoin(CandidateReview, CandidateReview.candidate_id == Candidate.id)
            .where(sa.or_(Candidate.child_case_id == case.id, Candidate.family_case_id == case.id))
            .order_by(Candidate.log10_lr.desc().nulls_last(), Candidate.id)
        ).all()
    )
    audit(s, me.actor, "case.view", "case", case.id)
    power = power_view(s, case, me.actor)
    s.commit()
    return render(
        "case.html",
        power=power,
        percent=percent,
        expected=expected,
        case=case,
        found=found,
        registrant=registrants([found]).get(case.id) if found else None,
        timeline=timeline.rows,
        paged=timeline,
        people=people,
        candidates=candidates,
        lr=combined_lr,
        provinces=provinces_of(s, [case.id]).get(case.id, []),
    )


@dataclass(frozen=True)
class Member:
    """A person of the case for the summary: who, their samples, how to reach them."""

    person: Person
    samples: list[Sample]
    reach: list[tuple[str, str]]  # (channel, address)


def _people(case: Case) -> list[Member]:
    s = db()
    persons = list(s.scalars(sa.select(Person).where(Person.case_id == case.id).order_by(Person.id)))
    samples: dict[int, list[Sample]] = {}
    for x in s.scalars(sa.select(Sample).where(Sample.case_id == case.id).order_by(Sample.id)):
        samples.setdefault(x.person_id or 0, []).append(x)
    linked = sa.select(PersonContact.person_id, PersonContact.contact_id).where(
        PersonContact.person_id.in_([p.id for p in persons])
    )
    contact_ids: dict[int, list[int]] = {p.id: [p.contact_id] if p.contact_id else [] for p in persons}
    for person_id, contact_id in s.execute(linked):
        contact_ids[person_id].append(contact_id)
    wanted = {c for ids in contact_ids.values() for c in ids}
    contacts = {c.id: c for c in s.scalars(sa.select(Contact).where(Contact.id.in_(wanted)))}
    members = []
    for p in persons:
        reach = [(contacts[c].channel.value, contacts[c].address) for c in contact_ids[p.id] if c in contacts]
        if p.relation_note and any(ch.isdigit() for ch in p.relation_note) and p.role is Role.VOLUNTEER:
            reach.append(("phone", p.relation_note))
        members.append(Member(p, samples.get(p.id, []), reach))
    return members


@bp.get("/profiles/<profile_id>")
@login_required
def profile_page(profile_id: str) -> ResponseReturnValue:
    s, me = db(), officer()
    profile = s.get(DnaProfile, profile_id[:32])
    if profile is None:
        abort(404)
    sample = s.get(Sample, profile.sample_id)
    case = s.get(Case, sample.case_id) if sample and sample.case_id else None
    if case is None:
        abort(404)  # a walk-in sample not yet linked belongs to no case an officer reviews
    require_case(s, me, case)
    audit(s, me.actor, "profile.view", "profile", profile.id, case=case.id)
    s.commit()
    return render("profile.html", profile=profile, sample=sample, case=case)


@bp.get("/labs")
@login_required
def labs() -> ResponseReturnValue:
    s = db()
    rows = s.execute(
        sa.select(Lab, sa.func.count(Sample.id))
        .outerjoin(Sample, Sample.lab_id == Lab.id)
        .group_by(Lab.id)
        .order_by(Lab.province, Lab.city, Lab.name)
    ).all()
    return render("labs.html", labs=rows)


@bp.get("/samples")
@login_required
def samples() -> ResponseReturnValue:
    """The province's samples, newest first, including family samples booked but not yet taken (their lab is the
    appointment's)."""
    s, me = db(), officer()
    chosen = {k: request.args.get(k, "").strip()[:32] for k in ("q", "status")}
    if chosen["status"] and chosen["status"] not in {x.value for x in SampleStatus}:
        abort(400, f"unknown status {chosen['status'][:32]!r}")
    booked_lab = aliased(Lab)
    query = (
        sa.select(Sample, Lab, Case, booked_lab)
        .outerjoin(Lab, Lab.id == Sample.lab_id)
        .outerjoin(Case, Case.id == Sample.case_id)
        .outerjoin(Booking, Booking.id == Sample.booking_id)
        .outerjoin(LabDay, LabDay.id == Booking.lab_day_id)
        .outerjoin(booked_lab, booked_lab.id == LabDay.lab_id)
        .order_by(Sample.created_at.desc(), Sample.id.desc())
    )
    query = query.where(samples_clause(me))
    if chosen["status"]:
        query = query.where(Sample.status == SampleStatus(chosen["status"]))
    if chosen["q"]:
        query = query.where(Sample.code.startswith(chosen["q"].upper(), autoescape=True))
    paged = paginate(s, query, scalars=False)
    audit(s, me.actor, "sample.list", "sample", None, shown=len(paged.rows), total=paged.total)
    s.commit()
    return render("samples.html", rows=paged.rows, paged=paged, chosen=chosen, statuses=list(SampleStatus))


@bp.get("/volunteers")
@login_required
def volunteers() -> ResponseReturnValue:
    s, me = db(), officer()
    query = (
        sa.select(Case)
        .where(cases_clause(me))
        .where(
            Case.id.in_(
                sa.select(FoundChild.case_id).where(FoundChild.source == SampleSource.UNKNOWN_IDENTITY_CHILD)
            )
        )
    )
    paged = paginate(s, query.order_by(Case.created_at.desc(), Case.id.desc()))
    found = paged.rows
    photos: dict[int, list[int]] = {}
    rows = s.execute(
        sa.select(Attachment.case_id, Attachment.id)
        .where(Attachment.case_id.in_([c.id for c in found]), Attachment.photo_id.is_not(None))
        .order_by(Attachment.id)
    )
    for case_id, attachment_id in rows:
        if case_id is not None:
            photos.setdefault(case_id, []).append(attachment_id)
    details = {
        f.case_id: f
        for f in s.scalars(sa.select(FoundChild).where(FoundChild.case_id.in_([c.id for c in found])))
    }
    audit(s, me.actor, "volunteer_registration.list", "case", None, shown=len(found))
    s.commit()
    return render(
        "volunteers.html",
        cases=found,
        details=details,
        photos=photos,
        by=registrants(list(details.values())),
        paged=paged,
    )


@bp.get("/photos/<int:attachment_id>")
@login_required
def photo(attachment_id: int) -> ResponseReturnValue:
    """Send a stored photo to a logged-in officer who may see its case; audited, never cached."""
    s, me = db(), officer()
    attachment = s.get(Attachment, attachment_id)
    if attachment is None or attachment.photo_id is None or attachment.case_id is None:
        abort(404)
    case = s.get(Case, attachment.case_id)
    if case is None:
        abort(404)
    require_case(s, me, case)
    data = read_photo(runtime().settings.data_dir, attachment.photo_id)  # decrypted (intake.platform.crypto)
    if data is None:
        abort(404)
    audit(s, me.actor, "photo.view", "attachment", attachment.id, case=case.id)
    s.commit()
    return send_file(io.BytesIO(data), mimetype=CONTENT_TYPE, max_age=0, etag=False, conditional=False)


@bp.get("/audit")
@roles_required(OfficerRole.SUPERVISOR, OfficerRole.ADMIN)
def audit_log() -> ResponseReturnValue:
    s, me = db(), officer()
    chosen = {k: request.args.get(k, "").strip()[:120] for k in ("actor", "action")}
    chosen.update({k: request.args.get(k, "").strip()[:10] for k in ("from", "to")})
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if chosen["actor"]:
        query = query.where(AuditEvent.actor == chosen["actor"])
    if chosen["action"]:
        query = query.where(AuditEvent.action == chosen["action"][:64])
    start, end = date_arg("from"), date_arg("to")
    if start is not None:
        query = query.where(AuditEvent.at >= day_start(start))
    if end is not None:
        query = query.where(AuditEvent.at < day_end(end))
    paged = paginate(s, query, default_size=100)
    audit(s, me.actor, "audit.view", None, None, shown=len(paged.rows), total=paged.total)
    s.commit()
    return render("audit.html", events=paged.rows, paged=paged, chosen=chosen)
