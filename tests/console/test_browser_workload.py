"""Issue 19's done-when, in real headless Chromium: with 1,000 synthetic cases an officer finds a case by its
reporter's name from the dashboard in two actions; a supervisor pages through candidates and the audit log; an
admin disables and unlocks an account; a flag is resolved. And at 390 px wide no page scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from intake.models import Candidate, MatchFlag, OfficerRole, Person
from intake.models.officers import MAX_FAILED_ATTEMPTS
from intake.synthetic import populate
from matching.synthetic import Config
from tests.console.factories import PASSWORD, add_officer, case_with_profile, lab_in, make_candidate
from tests.console.test_browser import _chromium_or_skip
from tests.support.webapp import served

pytest.importorskip("playwright.sync_api", reason="the test extra (playwright) is not installed")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = _chromium_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--headless", "--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


def _log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit] >> text=/Log in|登录/")


def _log_out(page: Page) -> None:
    page.click("text=/Log out|退出/")


def test_an_officers_year_of_work_in_the_browser(
    browser: Browser, live_url: str, session: Session, engine: Engine, tmp_path: Path
) -> None:
    populate(engine, Config(families=1000, children=50), seed=19, truth_path=tmp_path / "truth.json")
    lab = lab_in(session, "北京市", "北京")
    wanted = case_with_profile(session, lab, phone="+8613911112222")
    session.execute(sa.update(Person).where(Person.case_id == wanted.case_id).values(name="欧阳晓燕"))
    candidates = [
        make_candidate(session, lab, phone=f"+86139000000{i:02d}", log10_lr=6 + i) for i in range(3)
    ]
    child_case = session.scalar(sa.select(Candidate.child_case_id).where(Candidate.id == candidates[0]))
    session.add(
        MatchFlag(kind="likely_duplicate_report", profile_ids="x1,x2", case_ids=[child_case], detail={})
    )
    session.commit()
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    add_officer(session, "li.wei")
    page = browser.new_page(locale="en-US")

    # An admin finds the case among more than 1,000 by the reporter's name: type it, press Enter.
    _log_in(page, live_url, "admin")
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.fill("#q", "欧阳晓燕")  # action 1
    page.press("#q", "Enter")  # action 2
    expect(page.locator(f"a[href='/console/cases/{wanted.reference}']")).to_have_count(1)
    expect(page.locator(".pager").first).to_contain_text("1–1 of 1")
    page.goto(f"{live_url}/console/cases")
    expect(page.locator(".pager").first).to_contain_text("of 1,05")  # 1,000 families, 50 children, ours
    page.click(".pager >> nth=0 >> a[rel=next]")
    expect(page.locator(".pager").first).to_contain_text("51–100 of")

    # The admin disables li.wei and unlocks them after a stranger's guesses.
    page.goto(f"{live_url}/console/officers")
    page.click("#account-li\\.wei button[value=disable]")
    expect(page.locator(".flash")).to_contain_text("li.wei is disabled")
    page.click("#account-li\\.wei button[value=enable]")
    expect(page.locator(".flash")).to_contain_text("li.wei is enabled")
    _log_out(page)
    for _ in range(MAX_FAILED_ATTEMPTS):
        _log_in(page, live_url, "li.wei", "a stranger's guess")
    _log_in(page, live_url, "li.wei")
    expect(page.locator(".error")).to_contain_text("too many attempts")
    _log_in(page, live_url, "admin")
    page.goto(f"{live_url}/console/officers")
    expect(page.locator("#account-li\\.wei")).to_contain_text("logins locked from 1 addresses")
    page.click("#account-li\\.wei button[value=unlock]")
    expect(page.locator(".flash")).to_contain_text("can log in again")
    _log_out(page)
    _log_in(page, live_url, "li.wei")
    expect(page.locator("h1")).to_have_text("Dashboard")

    # The officer resolves the likely duplicate report with a note.
    page.click("nav >> text=Flags")
    expect(page.locator("table")).to_contain_text("likely duplicate report")
    page.fill("input[name=note]", "the father reported the same child: one family")
    page.click("button >> text=Resolve")
    expect(page.locator(".flash")).to_contain_text("is resolved")
    expect(page.locator("table")).to_contain_text("the father reported the same child")
    _log_out(page)

    # A supervisor pages through the candidates and the audit log.
    _log_in(page, live_url, "boss")
    page.goto(f"{live_url}/console/candidates?size=2")
    expect(page.locator(".pager").first).to_contain_text("1–2 of 3")
    page.click(".pager >> nth=0 >> a[rel=next]")
    expect(page.locator(".pager").first).to_contain_text("3–3 of 3")
    expect(page.locator(f"a[href='/console/candidates/{candidates[0]}']")).to_have_count(
        1
    )  # the weakest, last
    page.click("nav >> text=Audit log")
    expect(page.locator(".pager").first).to_contain_text("1–")
    page.goto(f"{live_url}/console/audit?size=20")
    expect(page.locator(".pager").first).to_contain_text("1–20 of")
    page.click(".pager >> nth=0 >> a[rel=next]")
    expect(page.locator(".pager").first).to_contain_text("21–40 of")
    for action in ("officer.disable", "officer.unlock", "match_flag.resolve"):
        page.goto(f"{live_url}/console/audit?action={action}")
        expect(page.locator("table")).to_contain_text(action)


PAGES = [
    "/console/", "/console/cases", "/console/cases?q=王芳", "/console/candidates", "/console/flags",
    "/console/children/new", "/console/volunteers", "/console/samples", "/console/labs", "/console/audit",
    "/console/officers", "/console/password",
]  # fmt: skip


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_no_page_scrolls_sideways_on_a_phone(
    browser: Browser, live_url: str, session: Session, tmp_path: Path, locale: str
) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    cid = make_candidate(session, lab, phone="+8613900000099")
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    page = browser.new_page(locale=locale, viewport={"width": 390, "height": 844})
    _log_in(page, live_url, "admin")
    for path in [*PAGES, f"/console/cases/{ref.reference}", f"/console/candidates/{cid}",
                 f"/console/profiles/{ref.profile_id}"]:  # fmt: skip
        page.goto(f"{live_url}{path}")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
            " document.querySelector('header').getBoundingClientRect().height]"
        )
        scroll_width, client_width, header = widths
        assert scroll_width <= client_width, f"{path} scrolls sideways: {scroll_width} > {client_width}"
        assert header < 200, f"{path}: the header is {header} px tall"
        page.screenshot(path=str(tmp_path / f"{locale}{path.replace('/', '_').replace('?', '_')}.png"))
