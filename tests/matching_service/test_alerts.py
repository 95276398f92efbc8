"""A stored candidate alerts the officers of its cases' province at once, in the transaction that stores it."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from intake.models import Audience, Notification, NotificationChannel, OfficerRole
from intake.models.officers import create_officer
from intake.platform.settings import SETTINGS_INFO_KEY
from intake.platform.settings import Settings as ServiceSettings
from matching.search import SearchSettings
from matching.service import Worker
from matching.service.worker import enqueue_all


def _officer(world, username: str, province: str | None, channel: str | None, address: str | None,
             role: OfficerRole = OfficerRole.OFFICER) -> int:  # fmt: skip
    with world.factory() as session:
        officer = create_officer(session, username=username, display_name=username, role=role, province=province,
                                 password="correct horse battery", actor="test", alert_channel=channel,
                                 alert_address=address)  # fmt: skip
        session.commit()
        return officer.id


def _alerts(world) -> list[Notification]:
    with world.factory() as session:
        query = sa.select(Notification).where(Notification.audience == Audience.OFFICER)
        return list(session.scalars(query.order_by(Notification.id)))


def _run(world, **settings) -> None:
    worker = Worker(
        world.factory, settings=dataclasses.replace(SearchSettings(), **settings) if settings else None
    )
    worker.start()
    assert worker.run_pending().jobs.get("failed", 0) == 0


def test_a_new_candidate_alerts_each_officer_of_the_province_on_their_channel_once(world, tmp_path):
    # the service's settings ride on its sessions, as Runtime.start puts them there: the link is PUBLIC_BASE_URL's
    service = ServiceSettings.from_env(
        {"REUNITE_DATA_DIR": str(tmp_path), "PUBLIC_BASE_URL": "https://reunite.example.org/"}
    )
    world.factory.configure(info={**world.factory.kw.get("info", {}), SETTINGS_INFO_KEY: service})
    mail = _officer(world, "li.wei", "北京市", "email", "li.wei@police.example.cn")
    tg = _officer(world, "zhang", "北京市", "telegram", "4242", OfficerRole.SUPERVISOR)
    _officer(world, "quiet", "北京市", None, None)  # chose no channel: not alerted
    _officer(world, "hu", "上海市", "email", "hu@police.example.cn")  # another province
    _officer(world, "admin", None, "email", "admin@police.example.cn", OfficerRole.ADMIN)  # others cover it
    world.typed_trio()
    _run(world)
    [candidate] = world.candidates()

    alerts = _alerts(world)
    assert [(a.channel, a.address) for a in alerts] == [
        (NotificationChannel.EMAIL, "li.wei@police.example.cn"), (NotificationChannel.TELEGRAM, "4242")
    ]  # fmt: skip
    assert [a.idempotency_key for a in alerts] == [
        f"candidate:{candidate.id}:officer:{o}" for o in (mail, tg)
    ]
    for alert in alerts:
        assert alert.audience is Audience.OFFICER and alert.template == "candidate.stored"
        assert set(alert.params) == {"reference", "band", "province", "url"}  # no genotype, no LR
        assert alert.params["band"] == "candidate" and alert.params["province"] == "北京市"
        assert alert.params["url"] == f"https://reunite.example.org/console/candidates/{candidate.id}"
    with world.factory() as session:
        from intake.models import Case

        refs = [session.get(Case, i).reference for i in (candidate.family_case_id, candidate.child_case_id)]
    assert alerts[0].params["reference"] == " / ".join(refs)

    with world.factory() as session:  # `reunite match --all`: every profile searched again
        enqueue_all(session)
        session.commit()
    _run(world)
    assert len(_alerts(world)) == 2  # the same candidate row: no second alert


def test_an_inconclusive_candidate_alerts_no_one(world):
    _officer(world, "li.wei", "北京市", "email", "li.wei@police.example.cn")
    world.typed_trio()
    _run(world, candidate_lr=1e40, inconclusive_lr=10)
    [candidate] = world.candidates()
    assert candidate.band == "inconclusive"
    assert _alerts(world) == []


def test_without_an_officer_of_the_province_the_national_accounts_are_alerted(world):
    _officer(world, "hu", "上海市", "email", "hu@police.example.cn")
    _officer(world, "admin", None, "sms", "+8613900000000", OfficerRole.ADMIN)
    world.typed_trio()
    _run(world)
    [alert] = _alerts(world)
    assert (alert.channel, alert.address) == (NotificationChannel.SMS, "+8613900000000")
