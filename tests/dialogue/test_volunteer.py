"""The volunteers' flow (sample source 5): what it asks, what it stores, the consent basis, NEXT and CHILDREN."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from intake.cases.consent import POLICE_ORDER, has_sample_consent, missing_scopes, record_police_order
from intake.cases.found_children import register_found_child
from intake.dialogue.types import Incoming, Media
from intake.inbound.inbox import process, render_plain
from intake.labs.appointments import book
from intake.labs.directory import load_demo_labs
from intake.models import (
    Attachment,
    Booking,
    Case,
    Channel,
    Consent,
    ConsentScope,
    CustodyEventType,
    FoundChild,
    Lab,
    LabDay,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from intake.platform import clock
from intake.platform.errors import ConsentRequiredError
from intake.samples.custody import append_event
from tests.dialogue.helpers import NOW

PHONE = "+8613800138000"
REGISTER_EN = ["FOUND", "yes", "Guangzhou East station", "yesterday", "6", "boy", "Xiaobao, from Sichuan",
               "blue jacket", "Zhang Wei", "1", "1"]  # fmt: skip
BOOK = ["1", "1", "1"]  # lab, day, confirm


@pytest.fixture
def chat(session_factory):
    """Send messages through the inbox, as a channel does; return the rendered replies of each."""
    with session_factory() as s:
        load_demo_labs(s)
        s.commit()
    sids = iter(range(1, 10_000))

    def send(text: str, *, address: str = PHONE, channel: Channel = Channel.SMS, **kw: object) -> list[str]:
        incoming = Incoming(channel, address, text, clock.now(), provider_id=f"SM{next(sids)}", **kw)  # type: ignore[arg-type]
        with clock.pinned(NOW):
            return [render_plain(r) for r in process(session_factory, incoming)]

    return send


def _all(chat, messages, **kw):
    return [chat(m, **kw) for m in messages]


def test_a_registration_creates_the_case_the_volunteer_and_the_police_order_basis(chat, session_factory):
    replies = _all(chat, REGISTER_EN)
    assert "Registered: case FC-2026-" in replies[-1][0] and "Choose a lab" in replies[-1][-1]
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        found = s.get_one(FoundChild, case.id)
        assert found.source == SampleSource.UNKNOWN_IDENTITY_CHILD and found.found_date == date(2026, 11, 22)
        assert found.found_place == "Guangzhou East station" and found.estimated_age_years == 6
        assert case.child_sex == Sex.MALE and case.reported_by_contact_id is None
        assert "Xiaobao, from Sichuan" in case.description and "blue jacket" in case.description
        assert "Safe with: Police station" in case.description
        persons = {p.role: p for p in s.scalars(sa.select(Person))}
        assert persons[Role.VOLUNTEER].name == "Zhang Wei" and persons[Role.VOLUNTEER].contact_id is not None
        consents = s.scalars(sa.select(Consent).order_by(Consent.id)).all()
        own = [c for c in consents if c.person_id == persons[Role.VOLUNTEER].id]
        assert [(c.scope, c.granted) for c in own] == [(ConsentScope.DATA_PROCESSING, True)]
        basis = [c for c in consents if c.text_version == POLICE_ORDER]
        assert {c.scope for c in basis} == {ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING}
        assert all(c.person_id == persons[Role.CHILD].id and c.contact_id is None for c in basis)
        assert has_sample_consent(s, case)
        code = s.scalars(sa.select(Sample.code)).one()
        assert code in replies[-1][0]


def test_booking_takes_the_child_sample_at_a_lab_of_the_place_found(chat, session_factory):
    _all(chat, REGISTER_EN)
    replies = _all(chat, BOOK)
    assert "Booked for the child" in replies[-1][0] and "Send NEXT" in replies[-1][-1]
    with session_factory() as s:
        sample = s.scalars(sa.select(Sample)).one()  # the code told at registration, not a second sample
        booking = s.scalars(sa.select(Booking)).one()
        lab = s.get_one(Lab, s.get_one(LabDay, booking.lab_day_id).lab_id)
        assert (
            lab.city_en == "Guangzhou" and sample.booking_id == booking.id and sample.code in replies[-1][0]
        )
        child = s.scalars(sa.select(Person).where(Person.role == Role.CHILD)).one()
        assert booking.person_id == child.id and booking.contact_id is None
        assert sample.source == SampleSource.UNKNOWN_IDENTITY_CHILD


def test_a_shared_location_picks_the_nearest_labs(chat, session_factory):
    chat("FOUND", channel=Channel.TELEGRAM, address="42")
    chat("yes", channel=Channel.TELEGRAM, address="42")
    assert (
        "When did you find" in chat("", channel=Channel.TELEGRAM, address="42", location=(23.13, 113.26))[0]
    )
    rest = ["today", "5", "girl", "skip", "skip", "Li Na", "13912345678", "3", "1"]
    replies = _all(chat, rest, channel=Channel.TELEGRAM, address="42")
    assert "Demo sampling point (Guangzhou)" in replies[-1][-1]
    with session_factory() as s:
        assert s.scalars(sa.select(FoundChild.found_place)).one() == "GPS 23.13000,113.26000"
        volunteer = s.scalars(sa.select(Person).where(Person.role == Role.VOLUNTEER)).one()
        assert volunteer.relation_note == "+8613912345678"


def test_a_chat_volunteer_is_asked_a_phone_and_a_wrong_one_is_refused(chat):
    _all(chat, REGISTER_EN[:8], channel=Channel.TERMINAL, address="anna")
    assert "mobile number" in chat("Anna Li", channel=Channel.TERMINAL, address="anna")[0]
    assert "Please write a mobile number" in chat("12345", channel=Channel.TERMINAL, address="anna")[0]
    assert "safe with now" in chat("+86 139 1234 5678", channel=Channel.TERMINAL, address="anna")[0]


def test_invalid_age_and_future_date_are_asked_again_with_the_reason(chat):
    _all(chat, REGISTER_EN[:3])
    assert "in the future" in chat("2026-12-01")[0]
    chat("today")
    assert "Please give the age" in chat("abc")[0]
    assert "only for children under 18" in chat("40")[0]
    assert "boy or a girl" in chat("about 7")[0]


def test_photos_at_the_description_are_linked_to_the_case(chat, session_factory):
    _all(chat, REGISTER_EN[:7])
    media = (
        Media("https://example.org/p1.jpg", "image/jpeg"),
        Media("https://example.org/p2.jpg", "image/jpeg"),
    )
    replies = chat("", media=media)
    assert "received the photo" in replies[0] and "your own full name" in replies[-1]
    _all(chat, REGISTER_EN[8:])
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        assert s.scalars(sa.select(Attachment.case_id)).all() == [case.id, case.id]


def test_opting_out_mid_flow_saves_nothing(chat, session_factory):
    _all(chat, REGISTER_EN[:6])
    assert "no more messages" in chat("STOP")[0]
    assert chat("1") == []
    with session_factory() as s:
        assert s.scalars(sa.select(Case)).all() == [] and s.scalars(sa.select(Consent)).all() == []


def test_refusing_the_volunteer_consent_saves_nothing(chat, session_factory):
    assert "nothing was saved" in _all(chat, ["FOUND", "no"])[-1][0]
    with session_factory() as s:
        assert s.scalars(sa.select(Consent)).all() == []


def test_next_keeps_the_volunteer_and_children_lists_each_sampling_state(chat, session_factory):
    _all(chat, REGISTER_EN + BOOK)
    replies = chat("NEXT")
    assert "We keep your name, Zhang Wei" in replies[0] and "Where did you find" in replies[1]
    for text in ["Beijing Road", "today", "3", "3", "skip", "skip"]:
        replies = chat(text)
    assert "safe with now" in replies[0]  # no name question: kept
    _all(chat, ["with me", "1"])
    chat("CANCEL")  # the second child is registered but not booked
    listing = chat("CHILDREN")[0]
    assert "Children you registered (2):" in listing
    lines = listing.splitlines()[1:]
    assert lines[0].endswith(": booked") and lines[1].endswith(": not booked yet")
    with session_factory() as s:
        assert (
            s.scalars(sa.select(Person.name).where(Person.role == Role.VOLUNTEER)).all() == ["Zhang Wei"] * 2
        )
        sample = s.scalars(sa.select(Sample).where(Sample.booking_id.is_not(None))).one()
        append_event(s, sample, CustodyEventType.COLLECTED, actor="lab", lab_id=sample_lab(s, sample))
        s.commit()
    assert chat("名单")[0].splitlines()[1].endswith("：已采")


def sample_lab(s, sample):
    booking = s.get_one(Booking, sample.booking_id)
    return s.get_one(LabDay, booking.lab_day_id).lab_id


def test_children_without_registrations_says_how_to_start(chat):
    assert "Send FOUND to start" in chat("CHILDREN")[0]


def test_the_police_order_opens_booking_for_source_5_only(session):
    load_demo_labs(session)
    lab = session.scalars(sa.select(Lab).order_by(Lab.id)).first()
    for source in (SampleSource.RESCUED_CHILD, SampleSource.UNKNOWN_IDENTITY_CHILD):
        registered = register_found_child(session, source=source, sex=Sex.MALE, age_years=6, found_place="广州",
                                          found_date=date(2026, 11, 22), actor="test", today=date(2026, 11, 23))  # fmt: skip
        case = registered.case
        child = session.scalars(sa.select(Person).where(Person.case_id == case.id)).one()
        if source is SampleSource.RESCUED_CHILD:
            with pytest.raises(ValueError):
                record_police_order(
                    session, case, person_id=child.id, channel=Channel.SMS, language="en", at=NOW
                )
            # The same rows written by hand still open nothing for another source.
            for scope in (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING):
                session.add(Consent(case_id=case.id, person_id=child.id, scope=scope, granted=True,
                                    channel=Channel.SMS, language="en", text_version=POLICE_ORDER, recorded_at=NOW))  # fmt: skip
            session.flush()
            assert missing_scopes(session, case) == [ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING]
            with pytest.raises(ConsentRequiredError):
                book(session, case=case, lab_id=lab.id, day=date(2026, 11, 24), source=source, actor="t",
                     person=child, today=date(2026, 11, 23))  # fmt: skip
        else:
            assert missing_scopes(session, case) == [ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING]
            record_police_order(session, case, person_id=child.id, channel=Channel.SMS, language="en", at=NOW)
            assert missing_scopes(session, case) == []
            booking = book(session, case=case, lab_id=lab.id, day=date(2026, 11, 24), source=source, actor="t",
                           person=child, today=date(2026, 11, 23))  # fmt: skip
            assert booking.person_id == child.id


def test_a_volunteer_who_deletes_their_data_keeps_the_child_case_and_booking(chat, session_factory):
    _all(chat, REGISTER_EN + BOOK)
    chat("DELETE")
    chat("DELETE")  # confirms
    with session_factory() as s:
        volunteer = s.scalars(sa.select(Person).where(Person.role == Role.VOLUNTEER)).one()
        assert volunteer.name is None  # the volunteer's own details are erased
        case = s.scalars(sa.select(Case)).one()
        assert has_sample_consent(s, case)  # the police-order basis is not the volunteer's to withdraw
        assert s.scalars(sa.select(Booking.status)).one().value == "booked"
        assert s.get_one(FoundChild, case.id).found_place == "Guangzhou East station"


def test_book_later_books_the_found_child_not_the_volunteer(chat, session_factory):
    _all(chat, REGISTER_EN)
    assert "Nothing more was saved" not in chat("STATUS")[0]
    assert "The child stays registered" in chat("CANCEL")[0]  # not now
    labs = chat("BOOK")[0]  # the place found is used again: no second "where?"
    assert "Which city" not in labs and "Choose a lab" in labs and "Demo sampling point (Guangzhou)" in labs
    _all(chat, ["1", "1"])
    assert "Booked for the child" in chat("1")[0]
    with session_factory() as s:
        child = s.scalars(sa.select(Person).where(Person.role == Role.CHILD)).one()
        assert s.scalars(sa.select(Booking.person_id)).one() == child.id
        assert len(s.scalars(sa.select(Sample)).all()) == 1


def test_police_order_rows_on_a_missing_child_case_count_for_nothing(session):
    case = Case(reference="MC-2026-ACL9KQ", pin="180262", child_name="李小明")
    session.add(case)
    session.flush()
    for scope in (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING):
        session.add(Consent(case_id=case.id, scope=scope, granted=True, channel=Channel.SMS, language="zh_CN",
                            text_version=POLICE_ORDER, recorded_at=NOW))  # fmt: skip
    session.flush()
    assert not has_sample_consent(session, case)
    with pytest.raises(ValueError):
        record_police_order(session, case, person_id=1, channel=Channel.SMS, language="zh_CN", at=NOW)


def test_book_later_for_a_child_found_at_a_shared_location_offers_the_labs_nearest_it(chat, session_factory):
    tg = {"channel": Channel.TELEGRAM, "address": "42"}
    _all(chat, ["FOUND", "yes"], **tg)
    chat("", location=(23.13, 113.26), **tg)
    _all(chat, ["today", "5", "girl", "skip", "skip", "Li Na", "13912345678", "3", "1", "CANCEL"], **tg)
    labs = chat("BOOK", **tg)[0]
    assert "Which city" not in labs and "Demo sampling point (Guangzhou)" in labs


def _photo(name: str) -> tuple[Media, ...]:
    return (Media(f"https://api.twilio.com/{name}", "image/jpeg"),)


def _case_photos(session_factory) -> list[int | None]:
    with session_factory() as s:
        return list(s.scalars(sa.select(Attachment.case_id).order_by(Attachment.id)))


def _case_id(session_factory) -> int:
    with session_factory() as s:
        return s.scalars(sa.select(Case.id)).one()


def test_every_photo_of_an_album_is_linked_to_the_case_whatever_step_it_reaches(chat, session_factory):
    _all(chat, REGISTER_EN[:7])  # "Describe the child"
    assert "your own full name" in chat("", media=_photo("1"))[-1]  # the album's first photo: the answer
    replies = chat("", media=_photo("2"))  # its second photo reaches the next question
    assert "received your photo" in replies[0] and "your own full name" in replies[-1]
    _all(chat, REGISTER_EN[8:])  # name, safe with, confirm: registered
    chat("", media=_photo("3"))  # a third, while booking the child's sampling
    case = _case_id(session_factory)
    assert _case_photos(session_factory) == [case, case, case]


def test_a_caption_is_never_the_answer_to_who_the_child_is_safe_with(chat, session_factory):
    _all(chat, REGISTER_EN[:7])
    chat("", media=_photo("1"))
    chat("Zhang Wei")
    replies = chat("1", media=_photo("2"))  # "1" would be "Police station"
    assert "not taken as an answer" in replies[-1] and "safe with now" in replies[-1]
    replies = chat("my neighbour's house", media=_photo("3"))
    assert "safe with now" in replies[-1]
    assert "safe now with: Shelter" in chat("2")[-1]  # the answer on its own is taken
    chat("1")
    with session_factory() as s:
        assert "Safe with: Shelter or children's home" in s.scalars(sa.select(Case.description)).one()
    case = _case_id(session_factory)
    assert _case_photos(session_factory) == [case, case, case]


def test_a_caption_at_the_description_is_the_description(chat, session_factory):
    _all(chat, REGISTER_EN[:7])
    assert "your own full name" in chat("red cap", media=_photo("1"))[-1]
    _all(chat, REGISTER_EN[8:])
    with session_factory() as s:
        assert "Looks: red cap" in s.scalars(sa.select(Case.description)).one()


def test_a_file_that_is_no_photo_gets_a_clear_reply_and_is_not_kept(chat, session_factory):
    _all(chat, REGISTER_EN[:7])
    replies = chat("", media=(Media("https://api.twilio.com/doc", "application/pdf"),))
    assert replies[0].startswith("The file you sent (application/pdf) was not kept")
    assert "Describe the child" in replies[-1] and "empty" not in " ".join(replies)
    assert _case_photos(session_factory) == []


def test_help_lists_the_volunteers_keywords_to_a_volunteer(chat):
    assert not any("FOUND" in r for r in chat("HELP"))  # a parent's HELP is as it was
    chat("FOUND")
    during = chat("HELP")
    assert any("FOUND" in r and "NEXT" in r and "CHILDREN" in r for r in during)
    chat("CANCEL")
    _all(chat, REGISTER_EN)
    after = chat("帮助")
    assert any("发现" in r and "下一个" in r and "名单" in r for r in after)


NEXT_CHILD = ["NEXT", "Beijing Road", "today", "3", "3", "skip", "skip", "with me", "1", "CANCEL"]


def test_children_and_status_say_how_many_more_they_do_not_list(chat):
    _all(chat, REGISTER_EN + ["CANCEL"])
    for _ in range(3):
        _all(chat, NEXT_CHILD)
    status = chat("STATUS")
    assert status[-1] == "And 1 earlier cases, not shown here." and len(status) == 4
    for _ in range(2):
        _all(chat, NEXT_CHILD)
    listing = chat("CHILDREN")[0].splitlines()
    assert listing[0] == "Children you registered (6):" and len(listing) == 1 + 5 + 1
    assert listing[-1] == "And 1 more, registered earlier."
    assert chat("名单")[0].splitlines()[-1] == "另有1个更早登记的孩子未列出。"
