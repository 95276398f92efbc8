"""The console in real headless Chromium (Debian's `chromium`, driven by Playwright) against a live server thread.

Skipped, with the reason, only where chromium is missing and neither CI nor REUNITE_TEST_REQUIRE_PG is set;
`.ci/run` installs chromium, so in CI these tests always run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from intake.models import Case, OfficerRole
from intake.models.officers import MAX_FAILED_ATTEMPTS
from tests.console.factories import PASSWORD, add_officer, case_with_profile, lab_in, make_candidate
from tests.support.databases import postgres_required
from tests.support.webapp import served

CHROMIUM = os.environ.get("REUNITE_TEST_CHROMIUM", "/usr/bin/chromium")

pytest.importorskip("playwright.sync_api", reason="the test extra (playwright) is not installed")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


def _chromium_or_skip() -> str:
    found = shutil.which(CHROMIUM) or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") or postgres_required():
        pytest.fail(
            f"chromium is not installed ({CHROMIUM}); .ci/run installs it with apt-get install chromium"
        )
    pytest.skip(f"chromium is not installed ({CHROMIUM}): apt-get install chromium to run the browser tests")


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


def _session_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "session")


def test_officer_sees_a_case_registers_a_child_and_a_supervisor_reads_the_audit_log(
    browser: Browser, live_url: str, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    add_officer(session, "li.wei")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    page = browser.new_page(locale="en-US")

    page.goto(f"{live_url}/console/login")
    before = _session_cookie(page)
    _log_in(page, live_url, "li.wei")
    expect(page.locator("h1")).to_have_text("Dashboard")
    assert _session_cookie(page) != before  # a fresh session at login

    page.click("nav >> text=Cases")
    page.click(f"text={ref.reference}")
    expect(page.locator("h1")).to_contain_text(ref.reference)
    expect(page.locator("#timeline")).to_contain_text("Case opened")
    expect(page.locator("#timeline")).to_contain_text("15 markers")
    page.click("text=Open the profile")
    expect(page.locator("table")).to_contain_text("D8S1179")

    page.click("nav >> text=Register a found child")
    page.check("input[value=rescued]")
    page.select_option("#sex", "female")
    page.fill("#age", "7")
    page.fill("#found_place", "广州火车站")
    page.fill("#found_date", "2026-11-20")
    page.select_option("#lab", str(lab.id))
    page.click("button >> text=Register")
    expect(page.locator(".flash")).to_contain_text("Registered FC-")
    fc = session.scalar(sa.select(Case.reference).where(Case.reference.like("FC-%")))
    session.rollback()
    assert fc is not None
    expect(page.locator("h1")).to_contain_text(fc)

    page.click("text=Log out")
    expect(page.locator(".flash")).to_contain_text("logged out")
    page.goto(f"{live_url}/console/")
    expect(page.locator("h1")).to_have_text("Log in")

    _log_in(page, live_url, "boss")
    page.click("nav >> text=Audit log")
    table = page.locator("table")
    for action in ("found_child.register", "case.view", "profile.view", "officer.login", "officer.logout"):
        expect(table).to_contain_text(action)

    page.click("button >> text=中文")
    expect(page.locator("h1")).to_have_text("审计日志")


def test_csrf_and_lockout_hold_in_the_browser(browser: Browser, live_url: str, session: Session) -> None:
    add_officer(session, "li.wei")
    page = browser.new_page(locale="en-US")
    page.goto(f"{live_url}/console/login")
    # A form posted from elsewhere carries the browser's cookies but not the page's token: refused.
    forged = page.request.post(f"{live_url}/console/login", form={"username": "li.wei", "password": PASSWORD})
    assert forged.status == 400
    for _ in range(MAX_FAILED_ATTEMPTS):  # wrong, then locked from here: the same words every time
        _log_in(page, live_url, "li.wei", "not the password")
        expect(page.locator(".error")).to_contain_text("Wrong username or password, or too many attempts")
    _log_in(page, live_url, "li.wei")  # the right password, too late from this address
    expect(page.locator(".error")).to_contain_text("Wrong username or password, or too many attempts")
    page.goto(f"{live_url}/console/")
    expect(page.locator("h1")).to_have_text("Log in")


def test_an_officer_of_another_province_is_refused(
    browser: Browser, live_url: str, session: Session, tmp_path: Path
) -> None:
    ref = case_with_profile(session, lab_in(session, "上海市", "上海"))
    add_officer(session, "li.wei", province="北京市")
    page = browser.new_page(locale="en-US")
    _log_in(page, live_url, "li.wei")
    expect(page.locator("h1")).to_have_text("Dashboard")
    response = page.goto(f"{live_url}/console/cases/{ref.reference}")
    assert response is not None and response.status == 403
    expect(page.locator(".error")).to_have_text("You may not see this page.")


def test_an_officer_confirms_a_candidate_and_a_different_supervisor_approves(
    browser: Browser, live_url: str, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    first = make_candidate(session, lab, log10_lr=8.0, phone="+8613800000001")
    second = make_candidate(session, lab, log10_lr=6.0, phone="+8613800000002")
    add_officer(session, "li.wei")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    add_officer(session, "boss2", role=OfficerRole.SUPERVISOR)
    page = browser.new_page(locale="en-US")

    _log_in(page, live_url, "li.wei")
    page.click("nav >> text=Candidate matches")
    page.click(f"a[href='/console/candidates/{first}']")
    expect(page.locator("svg rect")).to_have_count(15)
    expect(page.locator("dl")).to_contain_text("strongly supports")
    page.click("button >> text=Confirm the match")
    expect(page.locator("#review-state")).to_have_text("confirmed")
    expect(page.locator("button >> text=Approve")).to_have_count(0)  # an officer cannot approve
    page.click("text=Log out")

    _log_in(page, live_url, "boss")
    page.goto(f"{live_url}/console/candidates/{first}")
    page.click("button >> text=Approve")
    expect(page.locator("#review-state")).to_have_text("approved: family told")
    # the supervisor confirms the second candidate and is offered no Approve button for it
    page.goto(f"{live_url}/console/candidates/{second}")
    page.click("button >> text=Confirm the match")
    expect(page.locator("button >> text=Approve")).to_have_count(0)
    expect(page.locator(".note")).to_contain_text("a different supervisor approves it")
    expect(page.locator("#review-state")).to_have_text("confirmed")
    page.click("text=Log out")

    _log_in(page, live_url, "boss2")
    page.goto(f"{live_url}/console/candidates/{second}")
    page.click("button >> text=Approve")
    expect(page.locator("#review-state")).to_have_text("approved: family told")
