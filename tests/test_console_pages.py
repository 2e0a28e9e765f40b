"""The agent console over HTTP (Flask test client on the real app): sign-in, CSRF, sessions, every page."""

from __future__ import annotations

import logging
import re
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from frontdoor.calls import CallService
from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.storage.schema import CallbackRequest, OutboundMessage, Voicemail
from frontdoor.web import create_app
from frontdoor.console.security import CONTENT_SECURITY_POLICY

PAGES = ("/agent", "/agent/", "/agent/incidents", "/agent/follow-ups", "/agent/insight", "/agent/handoffs/some-call", "/agent/no-such-page")


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: FlaskClient, site, password: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get("/agent/login")
    return client.post(
        "/agent/login", data={"csrf_token": token(page.text), "name": site.user, "password": password or site.password}
    )


@pytest.fixture
def client(console_site) -> FlaskClient:  # type: ignore[no-untyped-def]
    return console_site.app.test_client()


@pytest.fixture
def agent(console_site, client: FlaskClient) -> FlaskClient:  # type: ignore[no-untyped-def]
    response = sign_in(client, console_site)
    assert response.status_code == 302 and response.headers["Location"] == "/agent"
    return client


def handed_off_call(site, number: str = "+15551230001", *lines: str) -> str:  # type: ignore[no-untyped-def]
    call_id = site.service.start_call(channel="phone", caller_number=number).call_id
    decision = None
    for line in lines or ("my email is not working", "I need to talk to a real person"):
        site.clock.advance(seconds=10)
        decision = site.service.take_turn(call_id, CallerTurn(text=line, confidence=0.9))
    assert decision is not None and decision.action is Action.HANDOFF
    return call_id


# --- without a secret key


def test_without_a_secret_key_the_console_answers_503_and_says_why(settings_for, database_url: str, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(f'[database]\nurl = "{database_url}"\n')
    with caplog.at_level(logging.ERROR, logger="frontdoor.console.app"):
        app = create_app(settings, CallService.from_settings(settings))
    assert any("FRONTDOOR_SECRET_KEY" in record.getMessage() for record in caplog.records)
    client = app.test_client()
    for path in ("/agent", "/agent/login", "/agent/handoffs/x", "/agent/static/console.css"):
        response = client.get(path)
        assert response.status_code == 503
        assert "FRONTDOOR_SECRET_KEY" in response.text
    assert client.post("/agent/login", data={"name": "alex", "password": "correct horse battery"}).status_code == 503
    assert app.secret_key is None


# --- signed out


def test_every_page_sends_a_stranger_to_sign_in(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/agent/login?next="), path


def test_live_queue_data_is_refused_without_a_session(client: FlaskClient) -> None:
    response = client.get("/agent/queue.json")
    assert response.status_code == 401
    assert response.json["login"] == "/agent/login"


def test_posts_are_refused_without_a_session(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/agent/incidents/INC-1042/resolve")
    assert response.status_code == 302 and response.headers["Location"].startswith("/agent/login")
    assert console_site.service.board.get("INC-1042").status != "resolved"


def test_login_page_and_static_files_need_no_session(client: FlaskClient) -> None:
    page = client.get("/agent/login")
    assert page.status_code == 200 and "Sign in" in page.text
    assert client.get("/agent/static/console.css").status_code == 200
    assert client.get("/agent/static/queue.js").status_code == 200


# --- signing in


def test_wrong_password_and_unknown_user_are_refused(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    refused = sign_in(client, console_site, password="correct horse batterz")
    assert refused.status_code == 401
    assert "Wrong name or password." in refused.text
    assert client.get("/agent").status_code == 302
    page = client.get("/agent/login")
    stranger = client.post("/agent/login", data={"csrf_token": token(page.text), "name": "mallory", "password": console_site.password})
    assert stranger.status_code == 401
    assert client.get("/agent/insight").status_code == 302


def test_sign_in_without_the_csrf_token_is_refused(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    client.get("/agent/login")
    response = client.post("/agent/login", data={"name": console_site.user, "password": console_site.password})
    assert response.status_code == 400
    response = client.post("/agent/login", data={"csrf_token": "forged", "name": console_site.user, "password": console_site.password})
    assert response.status_code == 400
    assert client.get("/agent").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/agent/insight?days=7")
    assert first.headers["Location"] == "/agent/login?next=/agent/insight?days%3D7"
    page = client.get(first.headers["Location"])
    done = client.post("/agent/login", data={"csrf_token": token(page.text), "name": console_site.user, "password": console_site.password, "next": "/agent/insight?days=7"})
    assert done.headers["Location"] == "/agent/insight?days=7"
    for target in ("https://evil.example/agent", "//evil.example/agent", "/\\evil.example", "/twilio/voice"):
        client.post("/agent/logout", data={"csrf_token": token(client.get("/agent").text)})
        page = client.get("/agent/login")
        done = client.post("/agent/login", data={"csrf_token": token(page.text), "name": console_site.user, "password": console_site.password, "next": target})
        assert done.headers["Location"] == "/agent", target


def test_session_cookie_and_headers(agent: FlaskClient) -> None:
    response = agent.get("/agent")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = agent.get_cookie("frontdoor_console", path="/agent")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not re.search(r"""(src|href)=["']https?://""", response.text), "no external resources"


def test_sign_out_ends_the_session_and_needs_the_token(agent: FlaskClient) -> None:
    assert agent.post("/agent/logout").status_code == 400
    assert agent.get("/agent").status_code == 200
    response = agent.post("/agent/logout", data={"csrf_token": token(agent.get("/agent").text)})
    assert response.headers["Location"] == "/agent/login"
    assert agent.get("/agent").status_code == 302


def test_an_expired_session_goes_back_to_sign_in(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    console_site.clock.advance(minutes=29)
    assert agent.get("/agent/incidents").status_code == 200
    console_site.clock.advance(minutes=2)
    response = agent.get("/agent/incidents")
    assert response.status_code == 302
    assert "expired=1" in response.headers["Location"]
    assert "Your session has ended" in agent.get(response.headers["Location"]).text
    assert agent.get("/agent/queue.json").status_code == 401


def test_a_new_password_ends_existing_sessions(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    from frontdoor.console.users import ConsoleUsers

    ConsoleUsers(console_site.service.database).add(console_site.user, "a brand new password", console_site.clock(), replace=True)
    assert agent.get("/agent").status_code == 302


def test_a_post_without_the_csrf_token_changes_nothing(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    response = agent.post("/agent/incidents/INC-1042/resolve")
    assert response.status_code == 400
    response = agent.post("/agent/incidents/INC-1042/resolve", data={"csrf_token": "x" * 43})
    assert response.status_code == 400
    assert console_site.service.board.get("INC-1042").status == "identified"


# --- the pages


def test_queue_lists_handoffs_newest_first_with_caller_reason_wait_and_issue(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    first = handed_off_call(console_site, "+15551230001", "my email is not working", "I need to talk to a real person")
    console_site.clock.advance(seconds=30)
    second = handed_off_call(console_site, "+15551230004", "agent")
    console_site.clock.advance(seconds=15)
    data = agent.get("/agent/queue.json").json
    assert [item["call_id"] for item in data["handoffs"]] == [second, first]
    newest, oldest = data["handoffs"]
    assert (newest["caller"], newest["vip"], newest["reason"]) == ("Elena Kowalczyk", True, "human_request")
    assert newest["waiting_seconds"] == 15 and newest["waiting"] == "15 s"
    assert (oldest["caller"], oldest["department"]) == ("Dana Whitfield", "Finance")
    assert oldest["waiting_seconds"] == 55
    assert "email is not working" in oldest["issue"]
    assert oldest["link"] == f"/agent/handoffs/{first}"
    page = agent.get("/agent").text
    assert page.index("Elena Kowalczyk") < page.index("Dana Whitfield")
    assert "queue.js" in page


def test_handoff_page_shows_summary_pathway_evidence_chart_and_incident(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(
        console_site, "+15551230001",
        "my email has not worked since this morning", "this is ridiculous, it keeps happening", "get me a real person now",
    )
    page = agent.get(f"/agent/handoffs/{call_id}")
    assert page.status_code == 200
    html = page.text
    assert "Warm-transfer summary" in html and "Dana Whitfield" in html
    assert "my email has not worked since this morning" in html
    assert html.count('class="step"') == 3
    assert html.count('<div class="line caller">') == 3
    assert 'class="evidence"' in html
    chart = re.search(r'<svg class="chart line-chart" id="score-chart".*?</svg>', html, re.S)
    assert chart
    assert chart.group(0).count('<circle class="point frustration"') == 3
    assert chart.group(0).count('<circle class="point urgency"') == 3
    assert "INC-1042" in html and "Email delivery delayed" in html
    assert agent.get("/agent/handoffs/not-a-call").status_code == 404


def test_incidents_add_update_and_refuse_bad_input(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    page = agent.get("/agent/incidents")
    assert "INC-1042" in page.text and "Email delivery delayed" in page.text
    form = {"csrf_token": token(page.text), "id": "INC-2001", "title": "Printers offline on floor 3", "services": "printer, printing",
            "status": "investigating", "impact": "minor", "eta": "2030-01-01T12:00", "workaround": ""}
    assert agent.post("/agent/incidents", data=form).status_code == 302
    added = console_site.service.board.get("INC-2001")
    assert added is not None and added.services == ("printer", "printing") and added.source == "database"
    again = agent.post("/agent/incidents", data=form)
    assert again.status_code == 400 and "already exists" in again.text
    bad = agent.post("/agent/incidents", data={**form, "id": "INC-2002", "eta": "half past"})
    assert bad.status_code == 400 and "is not a time" in bad.text
    assert console_site.service.board.get("INC-2002") is None
    update = {**form, "title": "Printers offline on floors 3 and 4", "status": "identified"}
    assert agent.post("/agent/incidents/INC-2001", data=update).status_code == 302
    changed = console_site.service.board.get("INC-2001")
    assert (changed.title, changed.status, changed.services) == ("Printers offline on floors 3 and 4", "identified", ("printer", "printing"))
    assert "Updated INC-2001: status, title." in agent.get("/agent/incidents").text


def test_resolving_an_incident_texts_its_subscribers_in_the_background(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    console_site.service.incidents.subscribe("INC-1042", "+15551230002", None)
    console_site.service.incidents.subscribe("INC-1042", "+15551230003", None)
    page = agent.get("/agent/incidents")
    response = agent.post("/agent/incidents/INC-1042/resolve", data={"csrf_token": token(page.text)})
    assert response.status_code == 302
    assert "Resolved INC-1042; 2 &#34;it&#39;s fixed&#34; texts on the way." in agent.get("/agent/incidents").text
    assert console_site.service.board.get("INC-1042").status == "resolved"
    deadline = time.monotonic() + 10
    while len(console_site.twilio_api.messages()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    texts = console_site.twilio_api.messages()
    assert sorted(text["To"] for text in texts) == ["+15551230002", "+15551230003"]
    assert all("INC-1042" in text["Body"] and text["Body"].startswith("Fixed:") for text in texts)
    with console_site.service.database.session() as session:
        assert sorted(session.scalars(select(OutboundMessage.status))) == ["sent", "sent"]


def test_follow_ups_are_listed_and_marked_done_by_the_agent(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(console_site)
    now = console_site.clock()
    with console_site.service.database.session() as session:
        session.add(CallbackRequest(call_id=call_id, phone_number="+15551230001", note="Call back about the mailbox", created_at=now))
        session.add(Voicemail(call_id=call_id, recording_sid="RE" + "1" * 32, recording_url="https://api.twilio.com/rec/RE1", duration_seconds=42, created_at=now))
    page = agent.get("/agent/follow-ups").text
    assert "Call back about the mailbox" in page and "42 s" in page and "1 open" in page
    callback_id = int(re.search(r'id="callback-(\d+)"', page).group(1))
    voicemail_id = int(re.search(r'id="voicemail-(\d+)"', page).group(1))
    assert agent.post(f"/agent/follow-ups/callback/{callback_id}/done").status_code == 400
    assert agent.post(f"/agent/follow-ups/callback/{callback_id}/done", data={"csrf_token": token(page)}).status_code == 302
    assert agent.post(f"/agent/follow-ups/voicemail/{voicemail_id}/done", data={"csrf_token": token(page)}).status_code == 302
    assert agent.post("/agent/follow-ups/voicemail/999/done", data={"csrf_token": token(page)}).status_code == 404
    with console_site.service.database.session() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert (callback.done_by, callback.done_at) == ("alex", now)
        assert session.get(Voicemail, voicemail_id).done_by == "alex"
    page = agent.get("/agent/follow-ups").text
    assert "No callbacks waiting." in page and "No voicemails waiting." in page


def test_insight_page_shows_the_figures_and_charts(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    handed_off_call(console_site, "+15551230001", "agent")
    helped = console_site.service.start_call(channel="phone", caller_number="+15551230002").call_id
    console_site.service.end_call(helped, outcome="helped")
    console_site.clock.advance(seconds=5)
    html = agent.get("/agent/insight?days=7").text
    assert re.search(r'id="median"><span class="number">10 s<', html)
    assert re.search(r'id="without-person"><span class="number">50%<', html)
    assert 'id="wait-chart"' in html and 'id="reasons-chart"' in html
    assert re.search(r'<rect class="reason human_request"', html)
    assert "No survey answers in this period." in html
    assert agent.get("/agent/insight?days=13").status_code == 200


def test_a_stored_recording_url_that_is_not_twilios_is_not_a_link(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(console_site)
    now = console_site.clock()
    good = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 31 + "1/Recordings/RE" + "2" * 32
    with console_site.service.database.session() as session:
        session.add(Voicemail(call_id=call_id, recording_sid="RE" + "1" * 32, recording_url="javascript:alert(document.cookie)", duration_seconds=9, created_at=now))
        session.add(Voicemail(call_id=call_id, recording_sid="RE" + "2" * 32, recording_url=good, duration_seconds=12, created_at=now))
    page = agent.get("/agent/follow-ups").text
    assert "javascript:" not in page and "not a Twilio recording" in page
    assert f'<a href="{good}"' in page
