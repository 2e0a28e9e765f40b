"""The agent console over HTTP (Flask test client on the real app): sign-in, CSRF, sessions, every page."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from frontdoor.calls import CallService
from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.storage.schema import CallbackRequest, CallRecord, HandoffRecord, OutboundMessage, Voicemail
from frontdoor.web import create_app
from frontdoor.console.security import CONTENT_SECURITY_POLICY
from frontdoor.handoff.summary import CallerCard, WarmTransferSummary

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


def second_agent(site) -> FlaskClient:  # type: ignore[no-untyped-def]
    """Another console user, sam, signed in on a client of their own."""
    from frontdoor.console.users import ConsoleUsers

    ConsoleUsers(site.service.database).add("sam", "sam's long password", site.clock())
    client = site.app.test_client()
    page = client.get("/agent/login")
    assert client.post("/agent/login", data={"csrf_token": token(page.text), "name": "sam", "password": "sam's long password"}).status_code == 302
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


SECURITY_LINE = "I clicked a link in a phishing email and now my files are being encrypted"
URGENT_LINE = "payroll for 400 people is due in an hour and the system is down, this is urgent"
FRUSTRATED_LINE = "this is ridiculous, I've called three times and nothing works, I'm so fed up"


def queue_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-call-id="([0-9a-f]+)"', html)


def test_queue_puts_security_emergencies_then_urgent_calls_first_longest_waiting_first(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    arrivals = [
        ("asked", "+15551230004", "agent"),
        ("frustrated", "+15551230002", FRUSTRATED_LINE),
        ("urgent, older", "+15551230003", URGENT_LINE),
        ("security, older", "+15551230001", SECURITY_LINE),
        ("urgent, newer", "+15551230005", URGENT_LINE),
        ("security, newer", "+15551230006", SECURITY_LINE),
    ]
    ids = {}
    for name, number, line in arrivals:
        ids[name] = handed_off_call(console_site, number, line)
        console_site.clock.advance(seconds=30)
    expected = [ids[name] for name in ("security, older", "security, newer", "urgent, older", "urgent, newer", "asked", "frustrated")]

    data = agent.get("/agent/queue.json").json
    assert [item["call_id"] for item in data["handoffs"]] == expected
    labels = [item["label"] for item in data["handoffs"]]
    assert labels == ["Security emergency", "Security emergency", "Urgent", "Urgent", "Asked for a person", "Frustrated caller"]
    assert [item["priority"] for item in data["handoffs"]] == [0, 0, 1, 1, 2, 2]
    security = data["handoffs"][0]
    assert (security["kind"], security["caller"], security["department"]) == ("security", "Dana Whitfield", "Finance")
    assert security["waiting_seconds"] == 30 + 2 * (10 + 30) and security["waiting"] == "1 min 50 s"
    assert "phishing" in security["issue"]
    assert security["link"] == f"/agent/handoffs/{ids['security, older']}" and security["claimed_by"] is None

    page = agent.get("/agent").text
    assert queue_rows(page) == expected
    first_row = page[page.index(f'data-call-id="{expected[0]}"'):page.index(f'data-call-id="{expected[1]}"')]
    assert '<span class="tag reason security">Security emergency</span>' in first_row and "Urgent" not in first_row
    assert "queue.js" in page


def test_a_handoff_is_claimed_once_and_a_second_agent_sees_who_has_it(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(console_site)
    sam = second_agent(console_site)
    assert agent.post(f"/agent/handoffs/{call_id}/claim").status_code == 400
    claimed = agent.post(f"/agent/handoffs/{call_id}/claim", data={"csrf_token": token(agent.get("/agent").text)})
    assert claimed.status_code == 303 and claimed.headers["Location"] == f"/agent/handoffs/{call_id}"
    assert "You have this handoff." in agent.get(claimed.headers["Location"]).text
    claimed_at = console_site.clock()

    console_site.clock.advance(seconds=20)
    refused = sam.post(f"/agent/handoffs/{call_id}/claim", data={"csrf_token": token(sam.get("/agent").text)})
    assert refused.status_code == 409
    assert f"alex has this handoff: claimed at {claimed_at:%H:%M}." in refused.text
    assert 'id="close-form"' not in refused.text
    closing = {"csrf_token": token(refused.text), "outcome": "resolved"}
    assert sam.post(f"/agent/handoffs/{call_id}/close", data=closing).status_code == 409
    again = agent.post(f"/agent/handoffs/{call_id}/claim", data={"csrf_token": token(agent.get("/agent").text)})
    assert again.status_code == 303
    with console_site.service.database.session() as session:
        handoff = session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == call_id))
        assert (handoff.claimed_by, handoff.claimed_at, handoff.closed_at) == ("alex", claimed_at, None)
    entry = sam.get("/agent/queue.json").json["handoffs"][0]
    assert (entry["claimed_by"], entry["mine"]) == ("alex", False)
    assert agent.get("/agent/queue.json").json["handoffs"][0]["mine"] is True
    assert agent.post("/agent/handoffs/no-such-call/claim", data={"csrf_token": token(agent.get("/agent").text)}).status_code == 404


def test_two_agents_claiming_at_the_same_moment_never_both_win(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    calls = [handed_off_call(console_site, number, "agent") for number in ("+15551230001", "+15551230002", "+15551230003", "+15551230005")]
    clients = {"alex": agent, "sam": second_agent(console_site)}
    tokens = {name: token(client.get("/agent").text) for name, client in clients.items()}
    for call_id in calls:
        start = threading.Barrier(len(clients))

        def attempt(name: str) -> int:
            start.wait(timeout=10)
            return clients[name].post(f"/agent/handoffs/{call_id}/claim", data={"csrf_token": tokens[name]}).status_code

        with ThreadPoolExecutor(len(clients)) as pool:
            codes = dict(zip(clients, pool.map(attempt, clients)))
        assert sorted(codes.values()) == [303, 409], codes
        winner = next(name for name, code in codes.items() if code == 303)
        with console_site.service.database.session() as session:
            assert session.scalar(select(HandoffRecord.claimed_by).where(HandoffRecord.call_id == call_id)) == winner


def test_closing_a_handoff_with_an_outcome_takes_it_off_the_queue_and_keeps_its_page(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    kept = handed_off_call(console_site, "+15551230002", "agent")
    call_id = handed_off_call(console_site, "+15551230001", SECURITY_LINE)
    page = agent.get(f"/agent/handoffs/{call_id}").text
    assert 'id="close-form"' in page and 'class="claim"' in page
    form = {"csrf_token": token(page), "outcome": "escalated", "note": "  Passed to the security team; laptop isolated.  "}
    assert agent.post(f"/agent/handoffs/{call_id}/close", data={**form, "csrf_token": ""}).status_code == 400
    wrong = agent.post(f"/agent/handoffs/{call_id}/close", data={**form, "outcome": "fixed"})
    assert wrong.status_code == 400 and "choose how the handoff ended: Resolved, Escalated, Follow-up needed, Caller unreachable" in wrong.text
    long = agent.post(f"/agent/handoffs/{call_id}/close", data={**form, "note": "x" * 2001})
    assert long.status_code == 400 and "the note is too long" in long.text
    assert [item["call_id"] for item in agent.get("/agent/queue.json").json["handoffs"]] == [call_id, kept]

    console_site.clock.advance(minutes=3)
    closed = agent.post(f"/agent/handoffs/{call_id}/close", data=form)
    assert closed.status_code == 303 and closed.headers["Location"] == "/agent"
    queue_page = agent.get("/agent").text
    assert "Closed: Escalated. The handoff has left the queue." in queue_page
    assert queue_rows(queue_page) == [kept]
    assert [item["call_id"] for item in agent.get("/agent/queue.json").json["handoffs"]] == [kept]

    page = agent.get(f"/agent/handoffs/{call_id}")
    assert page.status_code == 200
    assert re.search(r'id="closed">Closed by <strong>alex</strong> at \d\d:\d\d:\s*<span class="tag outcome escalated">Escalated</span>', page.text)
    assert '<p class="note" id="closing-note">Passed to the security team; laptop isolated.</p>' in page.text
    assert 'id="close-form"' not in page.text and "phishing" in page.text
    with console_site.service.database.session() as session:
        handoff = session.scalar(select(HandoffRecord).where(HandoffRecord.call_id == call_id))
        assert (handoff.claimed_by, handoff.closed_by, handoff.close_outcome) == ("alex", "alex", "escalated")
        assert handoff.claimed_at == handoff.closed_at == console_site.clock()

    sam = second_agent(console_site)
    late = sam.post(f"/agent/handoffs/{call_id}/claim", data={"csrf_token": token(sam.get("/agent").text)})
    assert late.status_code == 409 and "This handoff was closed by alex at" in late.text and "Escalated." in late.text
    assert sam.post(f"/agent/handoffs/{call_id}/close", data={"csrf_token": token(late.text), "outcome": "resolved"}).status_code == 409
    with console_site.service.database.session() as session:
        assert session.scalar(select(HandoffRecord.close_outcome).where(HandoffRecord.call_id == call_id)) == "escalated"


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


def desk_handoff(site, number: str | None):  # type: ignore[no-untyped-def]
    """A desk-speaker call through the real service, handed off and handed over by the desk speaker's own code."""
    from frontdoor.voice.desk_handoff import hand_over

    decision = site.service.start_call(channel="desk", caller_number=number)
    site.clock.advance(seconds=10)
    decision = site.service.take_turn(decision.call_id, CallerTurn(text="my laptop will not start, can I talk to a person", confidence=0.9))
    assert decision.action is Action.HANDOFF
    return decision, hand_over(site.service, decision, number)


def test_a_callback_the_desk_speaker_promised_is_listed_with_a_link_to_the_call(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    console_site.twilio_api.fail_next(5, status=500)  # the employee's phone cannot be rung, so the desk promises a call back
    known, told = desk_handoff(console_site, "+15551230001")
    assert not told.bridged and "will call you back shortly" in told.say
    console_site.clock.advance(seconds=30)
    stranger, told = desk_handoff(console_site, None)
    assert "will get back to you shortly" in told.say

    page = agent.get("/agent/follow-ups").text
    assert "2 open" in page
    rows = re.findall(r'<tr id="callback-\d+">.*?</tr>', page, re.S)
    assert len(rows) == 2
    dana, nobody = rows
    assert "Dana Whitfield" in dana and "+15551230001" in dana
    assert "The desk speaker told them a person would call them back." in dana
    assert "laptop will not start" in dana and f'href="/agent/handoffs/{known.call_id}"' in dana
    assert "no number" in nobody and "it had no number for them" in nobody and f'href="/agent/handoffs/{stranger.call_id}"' in nobody
    assert agent.get(f"/agent/handoffs/{known.call_id}").status_code == 200
    with console_site.service.database.session() as session:
        assert session.scalar(select(HandoffRecord.status).where(HandoffRecord.call_id == known.call_id)) == "callback"
        assert session.scalar(select(func.count()).select_from(CallbackRequest)) == 2


def test_callbacks_booked_on_the_phone_line_link_to_their_call_too(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    call_id = handed_off_call(console_site)
    console_site.service.book_callback(call_id, "+15551230001", "Asked for a callback after no agent answered.")
    console_site.service.book_callback(call_id, "+15551230001", "Asked for a callback after no agent answered.")
    page = agent.get("/agent/follow-ups").text
    assert "1 open" in page and f'href="/agent/handoffs/{call_id}"' in page and "email is not working" in page


def test_insight_page_shows_the_figures_and_charts(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    handed_off_call(console_site, "+15551230001", "agent")
    helped = console_site.service.start_call(channel="phone", caller_number="+15551230002").call_id
    console_site.service.end_call(helped, outcome="helped")
    console_site.clock.advance(seconds=5)
    html = agent.get("/agent/insight?days=7").text
    assert re.search(r'id="median"><span class="number">–<', html), "nobody took the handed-off call: no time to a person"
    assert re.search(r'id="reached-person"><span class="number">0%</span><span class="label">of handoffs reached a person \(0 of 1\)', html)
    assert re.search(r'id="without-person"><span class="number">50%<', html)
    assert 'id="wait-chart"' in html and 'id="reasons-chart"' in html and 'id="closings-chart"' in html
    assert re.search(r'<rect class="reason human_request"', html)
    assert "No survey answers in this period." in html
    assert agent.get("/agent/insight?days=13").status_code == 200


def add_call(session, started: datetime, *, ended_after: float | None = None, outcome: str | None = None, helped: bool = False,  # type: ignore[no-untyped-def]
             handoff_after: float | None = None, reason: str = "human_request", security: bool = False,
             connected_after: float | None = None, recorded: float | None = None, closed: str | None = None) -> str:
    """One call row as the channels would have left it (and its handoff, if any)."""
    call_id = uuid.uuid4().hex
    session.add(CallRecord(
        id=call_id, channel="phone", caller_number="+15551230001", started_at=started, state={"helped": helped},
        ended_at=None if ended_after is None else started + timedelta(seconds=ended_after), outcome=outcome, seconds_to_person=recorded,
    ))
    if handoff_after is not None:
        summary = WarmTransferSummary(call_id=call_id, caller=CallerCard("+15551230001", None, None), issue="x", reason=reason, security=security)
        session.add(HandoffRecord(
            call_id=call_id, reason=reason, summary=summary.to_dict(), status="connected" if connected_after is not None else "abandoned",
            created_at=started + timedelta(seconds=handoff_after),
            connected_at=None if connected_after is None else started + timedelta(seconds=connected_after),
            closed_at=None if closed is None else started + timedelta(minutes=30), closed_by=None if closed is None else "alex", close_outcome=closed,
        ))
    return call_id


def test_insight_counts_time_to_a_person_and_calls_without_one_honestly(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    t0 = console_site.clock() - timedelta(hours=2)
    with console_site.service.database.session() as session:
        # five handoffs: three a person took (40 s recorded by the phone line, 100 s from the connection, 20 s), two nobody took
        add_call(session, t0, handoff_after=15, recorded=40, connected_after=40, ended_after=400, outcome="transferred", closed="resolved")
        add_call(session, t0, handoff_after=30, connected_after=100, ended_after=500, outcome="transferred")
        add_call(session, t0, handoff_after=10, ended_after=300, outcome="abandoned", reason="frustration")
        add_call(session, t0, handoff_after=5)
        add_call(session, t0, handoff_after=8, connected_after=20, reason="urgency", security=True, closed="escalated")
        # five calls without a handoff: three helped (one hung up after the answer), two left unhelped
        add_call(session, t0, ended_after=60, outcome="helped", helped=True)
        add_call(session, t0, ended_after=70, outcome="hung_up", helped=True)
        add_call(session, t0, ended_after=90, outcome="helped", helped=True)
        add_call(session, t0, ended_after=25, outcome="hung_up")
        add_call(session, t0, ended_after=30, outcome="ended")
        # neither: a call still with the assistant, and one from before the period
        add_call(session, t0)
        add_call(session, t0 - timedelta(days=40), handoff_after=5, ended_after=6, outcome="hung_up")
    html = agent.get("/agent/insight?days=30").text

    def figure(name: str) -> str:
        found = re.search(rf'id="{name}"><span class="number">([^<]*)</span><span class="label">([^<]*)<', html)
        assert found, name
        return f"{found.group(1)} | {found.group(2)}"

    assert figure("median") == "40 s | median time to a person"
    assert figure("p90") == "1 min 28 s | 90th percentile (3 calls a person took)"  # 40 + (100 - 40) * 0.8
    assert figure("reached-person") == "60% | of handoffs reached a person (3 of 5)"
    assert figure("without-person") == "30% | handled without a person (3 of 10)"
    assert figure("left-without-help") == "20% | hung up before help (2 of 10)"
    assert figure("handoff-count") == "5 | handoffs"
    reasons = re.search(r'<svg class="chart column-chart" id="reasons-chart".*?</svg>', html, re.S).group(0)
    assert reasons.count('<rect class="reason security"') == 1 and reasons.count('<rect class="reason urgency"') == 0
    assert '<span class="key reason security">Security emergency</span>' in html
    closings = re.search(r'<svg class="chart bar-chart" id="closings-chart".*?</svg>', html, re.S).group(0)
    assert [label for label in re.findall(r'<text class="axis"[^>]*>([^<]+)</text>', closings)] == ["Escalated", "Resolved", "still open"]
    assert re.findall(r'<text class="value"[^>]*>([^<]+)</text>', closings) == ["1", "1", "3"]


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
