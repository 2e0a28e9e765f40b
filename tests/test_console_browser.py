"""The agent console in real headless Chromium (Debian ``chromium`` driven by Playwright), served by the real app.

Set ``FRONTDOOR_README_SCREENSHOT=docs/handoff-page.png`` to also write the README's screenshot of the
handoff page (see ``test_handoff_page_of_a_realistic_call``).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from frontdoor.conversation.model import Action, CallerTurn

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FRONTDOOR_TEST_CHROMIUM", "/usr/bin/chromium")
README_SCREENSHOT = os.environ.get("FRONTDOOR_README_SCREENSHOT")  # read before the environment is isolated
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = ("/agent", "/agent/incidents", "/agent/follow-ups", "/agent/insight", "/agent/handoffs/any-call")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests run on SQLite only: the pages' queries are covered on both backends in test_console_pages."""
    return f"sqlite:///{tmp_path / 'frontdoor.db'}"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}")
        pytest.skip(f"chromium not found at {CHROMIUM} (set FRONTDOOR_TEST_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def base_url(console_site) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, console_site.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.outside_requests = requests  # type: ignore[attr-defined]
    yield tab
    context.close()
    assert all(url.startswith(base_url) for url in requests), "the console loaded something from outside"


def sign_in(page, site, password: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto("/agent/login")
    page.fill("input[name=name]", site.user)
    page.fill("input[name=password]", password or site.password)
    page.click("button[type=submit]")


def call(site, number: str, *lines: str, pause: float = 20) -> str:  # type: ignore[no-untyped-def]
    """A simulated call through the real service; returns its id once handed off."""
    call_id = site.service.start_call(channel="phone", caller_number=number).call_id
    decision = None
    for line in lines:
        site.clock.advance(seconds=pause)
        decision = site.service.take_turn(call_id, CallerTurn(text=line, confidence=0.91))
    assert decision is not None and decision.action is Action.HANDOFF
    return call_id


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_an_agent_sees_a_handoff_arrive_opens_its_pathway_and_resolves_an_incident(console_site, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, console_site)
    page.wait_for_url("**/agent")
    assert page.is_visible("#queue-empty")
    page.evaluate("window.stillTheSamePage = true")

    call_id = call(console_site, "+15551230001", "I need to talk to a real person")
    row = page.wait_for_selector(f'tr[data-call-id="{call_id}"]')
    assert page.evaluate("window.stillTheSamePage") is True, "the queue reloaded the page"
    assert "Dana Whitfield" in row.inner_text() and "Asked for a person" in row.inner_text()
    assert page.is_hidden("#queue-empty")
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    page.click(f'tr[data-call-id="{call_id}"] a')
    page.wait_for_url(f"**/agent/handoffs/{call_id}")
    assert "I need to talk to a real person" in page.inner_text("#pathway")
    assert page.locator("#score-chart").is_visible()
    assert page.locator("#score-chart circle.point.frustration").count() == 1
    assert page.locator("#score-chart polyline.series.urgency").count() == 1
    page.screenshot(path=str(tmp_path / "handoff.png"), full_page=True)

    console_site.service.incidents.subscribe("INC-1042", "+15551230002", call_id)
    page.click("text=Incidents")
    page.wait_for_url("**/agent/incidents")
    page.click('button.resolve[data-incident="INC-1042"]')
    page.wait_for_selector("text=Resolved INC-1042; 1 \"it's fixed\" text on the way.")
    assert "resolved" in page.inner_text("#incident-INC-1042")
    assert wait_for(lambda: len(console_site.twilio_api.messages()) == 1)
    text = console_site.twilio_api.messages()[0]
    assert text["To"] == "+15551230002" and text["Body"].startswith("Fixed: Email delivery delayed (INC-1042)")
    page.screenshot(path=str(tmp_path / "incidents.png"), full_page=True)

    page.click("text=Insight")
    page.wait_for_url("**/agent/insight")
    assert page.inner_text("#median .number") == "–", "nobody took the call yet: no time to a person"
    assert "(0 of 1)" in page.inner_text("#reached-person")
    assert page.locator("#reasons-chart rect.human_request").count() == 1
    page.screenshot(path=str(tmp_path / "insight.png"), full_page=True)
    assert (tmp_path / "queue.png").stat().st_size > 10_000


def test_an_agent_claims_the_security_emergency_at_the_top_and_closes_it(console_site, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, console_site)
    page.wait_for_url("**/agent")
    asked = call(console_site, "+15551230002", "agent")
    emergency = call(console_site, "+15551230001", "I clicked a link in a phishing email and now my files are being encrypted")
    page.wait_for_selector(f'tr[data-call-id="{emergency}"]')
    page.wait_for_selector(f'tr[data-call-id="{asked}"]')
    rows = page.locator("#queue-rows tr")
    assert [rows.nth(index).get_attribute("data-call-id") for index in range(rows.count())] == [emergency, asked]
    assert rows.nth(0).locator(".tag.reason").inner_text() == "Security emergency"
    page.screenshot(path=str(tmp_path / "queue-ordered.png"), full_page=True)

    page.click(f'tr[data-call-id="{emergency}"] button.claim')  # a row the live queue drew, with its CSRF token
    page.wait_for_url(f"**/agent/handoffs/{emergency}")
    assert "You have this handoff." in page.inner_text(".flash")
    assert "You have this handoff" in page.inner_text("#claimed")
    page.select_option("#close-form select[name=outcome]", "escalated")
    page.fill("#close-form textarea[name=note]", "Passed to the security team.")
    page.screenshot(path=str(tmp_path / "closing.png"), full_page=True)
    page.click("#close-form button.close")
    page.wait_for_url("**/agent")
    assert "Closed: Escalated." in page.inner_text(".flash")
    assert page.locator(f'tr[data-call-id="{emergency}"]').count() == 0
    page.evaluate("window.stillTheSamePage = true")
    handoffs = lambda: page.evaluate("fetch('/agent/queue.json').then(r => r.json()).then(d => d.handoffs.map(h => h.call_id))")  # noqa: E731
    assert handoffs() == [asked]
    with page.expect_response(lambda response: response.url.endswith("/agent/queue.json"), timeout=10_000):
        pass  # the live queue's next poll
    page.wait_for_timeout(200)
    assert page.locator(f'tr[data-call-id="{emergency}"]').count() == 0 and page.locator(f'tr[data-call-id="{asked}"]').count() == 1
    assert page.evaluate("window.stillTheSamePage") is True

    page.goto(f"/agent/handoffs/{emergency}")
    assert "Closed by alex" in page.inner_text("#closed") and "Escalated" in page.inner_text("#closed")
    assert page.inner_text("#closing-note") == "Passed to the security team."
    assert page.locator("#close-form").count() == 0


def test_wrong_password_missing_csrf_and_expired_session_are_refused(console_site, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, console_site, password="not the password at all")
    assert page.inner_text("#error") == "Wrong name or password."
    page.screenshot(path=str(tmp_path / "wrong-password.png"))
    page.goto("/agent/incidents")
    assert "/agent/login" in page.url

    sign_in(page, console_site)
    page.wait_for_url("**/agent")
    status = page.evaluate("fetch('/agent/incidents/INC-1043/resolve', {method: 'POST'}).then(r => r.status)")
    assert status == 400
    assert console_site.service.board.get("INC-1043").active

    console_site.clock.advance(minutes=31)
    page.goto("/agent/insight")
    assert "/agent/login" in page.url
    assert "Your session has ended" in page.inner_text("#notice")
    page.screenshot(path=str(tmp_path / "expired.png"))


def test_every_page_sends_a_signed_out_browser_to_sign_in(page) -> None:  # type: ignore[no-untyped-def]
    for path in PAGES:
        page.goto(path)
        assert page.url.split("?")[0].endswith("/agent/login"), path
        assert page.is_visible("input[name=password]")


def test_handoff_page_of_a_realistic_call(console_site, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    call_id = call(
        console_site, "+15551230001",
        "my outlook hasn't shown any new email since this morning",
        "yes please text me",
        "but outlook on the web won't load either, and this is the third time I've called, I have a payroll deadline at noon",
        pause=25,
    )
    console_site.clock.advance(seconds=40)
    sign_in(page, console_site)
    page.goto(f"/agent/handoffs/{call_id}")
    assert page.locator("#score-chart circle").count() == 6
    assert "INC-1042" in page.inner_text("#incident")
    assert "payroll deadline" in page.inner_text("#pathway")
    shot = tmp_path / "handoff-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if README_SCREENSHOT:
        shutil.copyfile(shot, README_SCREENSHOT)
