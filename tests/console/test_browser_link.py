"""Linking two likely duplicate reports in real headless Chromium: a supervisor opens the flag, compares the two
reports, ticks the confirmation and links them; the later report's page then leads to the kept case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from intake.models import OfficerRole
from tests.console.factories import add_officer
from tests.console.test_browser_workload import _log_in, browser, live_url  # noqa: F401 - fixtures
from tests.console.test_case_merge import _two_reports

pytest.importorskip("playwright.sync_api", reason="the test extra (playwright) is not installed")
from playwright.sync_api import Browser, expect  # noqa: E402


@pytest.fixture
def reports(session: Session) -> Iterator[tuple[str, str]]:
    mother, father, _flag = _two_reports(session)
    add_officer(session, "gd.boss", role=OfficerRole.SUPERVISOR, province="广东省")
    session.rollback()  # hold no transaction while the browser's server writes (SQLite)
    yield mother.reference, father.reference


# In the default language; the English words are tested without a browser (test_case_merge).
@pytest.mark.parametrize("locale", ["zh-CN"])
def test_a_supervisor_links_two_reports_in_the_browser(
    browser: Browser,  # noqa: F811 - the fixture
    live_url: str,  # noqa: F811 - the fixture
    reports: tuple[str, str],
    locale: str,
) -> None:
    kept, linked = reports
    page = browser.new_page(locale=locale, viewport={"width": 390, "height": 844})
    _log_in(page, live_url, "gd.boss")
    page.goto(f"{live_url}/console/flags")
    page.click("a.link-pair")
    expect(page.locator("#pair")).to_contain_text(kept)
    expect(page.locator("#pair")).to_contain_text(linked)
    scroll, width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= width, "the comparison scrolls sideways on a phone"
    page.click("form.link button[type=submit]")  # not ticked: the browser asks for the box, nothing is sent
    expect(page.locator("#pair")).to_be_visible()
    page.check("#confirm")
    page.click("form.link button[type=submit]")
    expect(page.locator("h1")).to_contain_text(kept)
    expect(page.locator(".flash")).to_contain_text(linked)
    page.goto(f"{live_url}/console/cases/{linked}")
    expect(page.locator("h1")).to_contain_text(kept)
