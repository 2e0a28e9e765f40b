"""The incident board: file, database and feed sources, matching, spoken replies, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from frontdoor.errors import ConfigError, InputError, NotFoundError
from frontdoor.incidents.board import IncidentBoard
from frontdoor.incidents.feed import FeedError, StatuspageFeed, parse_summary
from frontdoor.incidents.files import load_incident_file
from frontdoor.incidents.matching import is_problem_report, match_incidents, mentioned_service
from frontdoor.incidents.model import Incident
from frontdoor.incidents.speech import describe_incident, headline, spoken_time
from frontdoor.incidents.store import IncidentStore
from frontdoor.storage.database import Database
from frontdoor.storage.schema import OutboundMessage

UTC = timezone.utc
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EMAIL = Incident(
    "INC-1042", "Email delivery delayed", ("email", "outlook", "exchange"), "identified", "major",
    datetime(2026, 11, 22, 9, 10, tzinfo=UTC), datetime(2026, 11, 22, 14, 30, tzinfo=UTC), "Use Outlook on the web while we fix it.",
)
VPN = Incident("INC-1043", "VPN dropping", ("vpn", "globalprotect"), "investigating", "minor")
WIFI = Incident("INC-1045", "Wi-Fi outage", ("wi-fi", "wireless"), "identified", "minor")
WORKDAY = Incident("INC-1044", "Workday slow", ("workday",), "monitoring", "minor")
OLD = Incident("INC-0999", "Printer outage", ("printer",), "resolved", "minor")
ALL = [EMAIL, VPN, WIFI, WORKDAY, OLD]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("my out look hasn't updated since this morning", "INC-1042"),
        ("is e mail down", "INC-1042"),
        ("the v p n keeps kicking me off", "INC-1043"),
        ("no wi fi in the meeting room", "INC-1045"),
        ("work day won't load my time sheet", "INC-1044"),
        ("THE VPN!!! is broken", "INC-1043"),
        ("global protect says disconnected", "INC-1043"),
    ],
)
def test_matching_tolerates_recogniser_slips(said: str, expected: str) -> None:
    assert [m.incident.id for m in match_incidents(said, ALL)][:1] == [expected]


@pytest.mark.parametrize("said", ["my printer is jammed", "how do I reset my password", "the outlet by my desk is dead", "I work daily on reports"])
def test_matching_ignores_unrelated_words_and_resolved_incidents(said: str) -> None:
    assert match_incidents(said, ALL) == []


def test_problem_reports_and_service_names() -> None:
    assert is_problem_report("my laptop won't turn on")
    assert is_problem_report("the printer is broken again")
    assert not is_problem_report("how do I set up my voicemail")
    assert mentioned_service("the v p n is down") == "the VPN"
    assert mentioned_service("something is wrong") is None


def test_times_are_spoken_naturally_in_the_configured_zone() -> None:
    zone = ZoneInfo("America/New_York")
    eta = datetime(2026, 11, 22, 19, 30, tzinfo=UTC)
    assert spoken_time(eta, zone, NOON) == "2:30 PM"
    assert spoken_time(datetime(2026, 11, 22, 14, 0, tzinfo=UTC), ZoneInfo("UTC"), NOON) == "2 PM"
    assert spoken_time(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), ZoneInfo("UTC"), NOON) == "tomorrow at 9 AM"
    assert spoken_time(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), ZoneInfo("UTC"), NOON) == "Wednesday at 9 AM"
    assert spoken_time(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), ZoneInfo("UTC"), NOON) == "December 3 at 9 AM"


def test_description_gives_status_eta_and_workaround_in_two_short_sentences() -> None:
    said = describe_incident(EMAIL, ZoneInfo("UTC"), NOON)
    assert "found the cause" in said and "by 2:30 PM" in said and "Outlook on the web" in said
    assert said.count(". ") <= 2 and len(said.split()) < 45
    late = describe_incident(EMAIL, ZoneInfo("UTC"), NOON + timedelta(hours=4))
    assert "taking longer" in late and "still on it" in late
    assert headline(EMAIL, ZoneInfo("UTC"), NOON) == "Email delivery delayed right now, fix expected by 2:30 PM."


def test_shipped_incident_file_loads(tmp_path: Path) -> None:
    from frontdoor import CONFIG_DIR

    incidents = load_incident_file(CONFIG_DIR / "incidents.yaml", ZoneInfo("UTC"), datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
    email = next(i for i in incidents if i.id == "INC-1042")
    assert email.impact == "major" and "outlook" in email.services and email.eta is not None
    assert email.eta.date() == date(2026, 11, 22)


def test_a_time_of_day_in_the_file_means_the_last_start_and_the_next_fix_at_any_hour() -> None:
    from frontdoor import CONFIG_DIR

    at_night = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
    incidents = {i.id: i for i in load_incident_file(CONFIG_DIR / "incidents.yaml", ZoneInfo("UTC"), at_night)}
    email, teams = incidents["INC-1042"], incidents["MNT-0301"]
    assert (email.started, email.eta) == (datetime(2026, 11, 21, 9, 10, tzinfo=timezone.utc), datetime(2026, 11, 21, 14, 30, tzinfo=timezone.utc))
    assert incidents["INC-1044"].eta == datetime(2026, 11, 21, 23, 0, tzinfo=timezone.utc), "the fix time after its start, not before"
    assert teams.started == datetime(2026, 11, 22, 23, 50, tzinfo=timezone.utc), "planned maintenance lies ahead"
    in_the_afternoon = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
    email = next(i for i in load_incident_file(CONFIG_DIR / "incidents.yaml", ZoneInfo("UTC"), in_the_afternoon) if i.id == "INC-1042")
    assert email.started == datetime(2026, 11, 22, 9, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incidents: [{id: A, title: T}]", "incidents[0].services"),
        ("incidents: [{id: A, title: T, services: [x], status: broken}]", "incidents[0].status: 'broken' is not one of"),
        ("incidents: [{id: A, title: T, services: [x], eta: soon}]", "incidents[0].eta: 'soon' is not a time"),
        ("incidents: [{id: A, title: T, services: [x]}, {id: A, title: U, services: [y]}]", "'A' appears twice"),
        ("incidents: {id: A}", "incidents: expected a list"),
        ("incidents: [\n  - broken", "invalid YAML"),
    ],
)
def test_bad_incident_files_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "incidents.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_incident_file(path, ZoneInfo("UTC"), datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
    assert message in str(raised.value) and str(path) in str(raised.value)


def _board(tmp_path: Path, store: IncidentStore | None = None, feed: StatuspageFeed | None = None) -> IncidentBoard:
    path = tmp_path / "incidents.yaml"
    if not path.exists():
        path.write_text(
            "incidents:\n"
            "  - {id: INC-1042, title: Email delivery delayed, services: [email, outlook], status: identified, impact: major,"
            " eta: 2026-11-22T14:30:00Z, workaround: Use Outlook on the web.}\n"
            "  - {id: INC-1043, title: VPN dropping, services: [vpn], status: investigating, impact: minor}\n"
        )
    return IncidentBoard(incident_file=path, store=store, feed=feed, timezone=ZoneInfo("UTC"), clock=lambda: NOON)


def test_board_changes_go_to_the_database_and_win_over_the_file(tmp_path: Path, database: Database) -> None:
    store = IncidentStore(database)
    board = _board(tmp_path, store)
    assert [i.id for i in board.major()] == ["INC-1042"]
    board.add(Incident("INC-2000", "Printing down on floor 3", ("printer", "printing"), "investigating", "major"))
    assert board.get("INC-2000").source == "database"
    with pytest.raises(InputError, match="already exists"):
        board.add(Incident("INC-1042", "Dup", ("x",)))
    board.update("INC-1042", {"status": "monitoring"})
    assert board.get("INC-1042").status == "monitoring" and board.get("INC-1042").source == "database"
    with pytest.raises(NotFoundError, match="INC-9"):
        board.update("INC-9", {"status": "monitoring"})
    with pytest.raises(InputError, match="status 'fixed'"):
        board.update("INC-1043", {"status": "fixed"})
    second_board = _board(tmp_path, IncidentStore(database))
    assert second_board.get("INC-2000") is not None and "printer" in second_board.hints()


def test_resolving_queues_one_text_per_subscriber_once(tmp_path: Path, database: Database) -> None:
    store = IncidentStore(database, "Acme IT")
    board = _board(tmp_path, store)
    assert store.subscribe("INC-1042", "+15551230001", None)
    assert not store.subscribe("INC-1042", "+15551230001", None)
    store.subscribe("INC-1042", "+15551230002", None)
    assert board.resolve("INC-1042") == 2
    assert board.resolve("INC-1042") == 0
    assert board.match("my outlook is broken") == [] and board.get("INC-1042").status == "resolved"
    with database.session() as session:
        messages = session.scalars(select(OutboundMessage).order_by(OutboundMessage.to_number)).all()
        assert [(m.to_number, m.status) for m in messages] == [("+15551230001", "pending"), ("+15551230002", "pending")]
        assert "Email delivery delayed" in messages[0].body and "Acme IT" in messages[0].body
        assert messages[0].dedupe_key == "incident-fixed:INC-1042:+15551230001"


def test_a_broken_edit_of_the_file_keeps_the_last_good_incidents(tmp_path: Path) -> None:
    board = _board(tmp_path)
    path = tmp_path / "incidents.yaml"
    path.write_text("incidents: [\n")
    assert {i.id for i in board.incidents()} == {"INC-1042", "INC-1043"}
    path.write_text("incidents:\n  - {id: INC-7, title: Teams down, services: [teams], impact: critical}\n")
    assert [i.id for i in board.incidents()] == ["INC-7"]


SUMMARY = {
    "page": {"id": "x", "name": "Acme"},
    "components": [
        {"id": "c1", "name": "Zoom", "status": "partial_outage"},
        {"id": "c2", "name": "Jira", "status": "operational"},
        {"id": "c3", "name": "Slack", "status": "degraded_performance"},
    ],
    "incidents": [
        {"id": "abc", "name": "Slack messages delayed", "status": "identified", "impact": "major",
         "created_at": "2026-11-22T10:00:00.000Z", "components": [{"id": "c3", "name": "Slack"}]},
        {"id": "old", "name": "Jira down", "status": "resolved", "impact": "major", "components": [{"name": "Jira"}]},
    ],
    "scheduled_maintenances": [
        {"id": "m1", "name": "Salesforce upgrade", "status": "in_progress", "impact": "maintenance",
         "scheduled_for": "2026-11-22T11:00:00Z", "scheduled_until": "2026-11-22T13:00:00Z", "components": [{"name": "Salesforce"}]},
        {"id": "m2", "name": "Later", "status": "scheduled", "components": [{"name": "Later"}]},
    ],
}


def test_statuspage_summary_becomes_incidents() -> None:
    incidents = {i.id: i for i in parse_summary(SUMMARY)}
    assert set(incidents) == {"feed-abc", "feed-m1", "feed-component-c1"}
    assert incidents["feed-abc"].services == ("Slack",) and incidents["feed-abc"].impact == "major"
    assert incidents["feed-m1"].status == "maintenance" and incidents["feed-m1"].eta == datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
    assert incidents["feed-component-c1"].impact == "major"
    with pytest.raises(FeedError):
        parse_summary({"incidents": "nope"})


class _FeedServer:
    def __init__(self) -> None:
        self.body: bytes = json.dumps(SUMMARY).encode()
        self.delay = 0.0
        self.drip = 0.0
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests += 1
                time.sleep(owner.delay)
                if owner.drip:
                    self.drip_everything()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    self.wfile.write(owner.body)
                except OSError:
                    pass

            def drip_everything(self) -> None:
                """Status line, headers and body one byte at a time: no single read ever times out."""
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + owner.body
                try:
                    for byte in answer:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(owner.drip)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2/summary.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def feed_server() -> Iterator[_FeedServer]:
    server = _FeedServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_feed_incidents_are_matched_and_a_failing_feed_keeps_the_last_good_data(tmp_path: Path, feed_server: _FeedServer) -> None:
    clock = [0.0]
    feed = StatuspageFeed(feed_server.url, timeout=0.5, cache_seconds=30, monotonic=lambda: clock[0])
    assert feed.refresh()
    board = _board(tmp_path, feed=feed)
    assert [m.incident.id for m in board.match("slack is slow")] == ["feed-abc"]
    feed_server.body = b"<html>gateway error</html>"
    assert not feed.refresh()
    assert [m.incident.id for m in board.match("slack is slow")] == ["feed-abc"]


def test_a_hanging_feed_never_delays_the_board(tmp_path: Path, feed_server: _FeedServer) -> None:
    feed_server.delay = 1.5
    feed = StatuspageFeed(feed_server.url, timeout=1.0, cache_seconds=0, monotonic=time.monotonic)
    board = _board(tmp_path, feed=feed)
    started = time.monotonic()
    for _ in range(5):
        assert board.match("my outlook is slow")[0].incident.id == "INC-1042"
    assert time.monotonic() - started < 1.0
    assert feed_server.requests <= 2


def _refresh_in_the_background(feed: StatuspageFeed, within: float) -> bool | None:
    """What ``feed.refresh()`` returned, or None if it was still waiting after ``within`` seconds."""
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(feed.refresh()), daemon=True)
    thread.start()
    thread.join(within)
    return result[0] if result else None


def test_a_dripping_feed_is_cut_off_at_the_deadline_and_the_refresher_goes_on(tmp_path: Path, feed_server: _FeedServer) -> None:
    clock = [0.0]
    feed = StatuspageFeed(feed_server.url, timeout=1.0, cache_seconds=30, monotonic=lambda: clock[0])
    assert feed.refresh()
    feed_server.drip = 0.25
    started = time.monotonic()
    assert _refresh_in_the_background(feed, within=5) is False
    assert time.monotonic() - started < 3
    assert [i.id for i in feed.incidents()] == [i.id for i in parse_summary(SUMMARY)]
    feed_server.drip = 0.0
    clock[0] += 31
    feed.incidents()
    deadline = time.monotonic() + 5
    while feed_server.requests < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert feed_server.requests == 3


@pytest.mark.parametrize(
    "body",
    [
        {"incidents": [{"name": "Slack down", "components": 5}]},
        {"incidents": [{"name": 7, "status": "identified"}]},
        {"components": [{"name": "Slack", "status": "major_outage", "group": "no"}]},
        {"incidents": {"name": "not a list"}},
        [1, 2, 3],
    ],
)
def test_a_wrong_typed_feed_keeps_the_last_good_data_and_the_cache(tmp_path: Path, feed_server: _FeedServer, body: object) -> None:
    clock = [0.0]
    feed = StatuspageFeed(feed_server.url, timeout=1.0, cache_seconds=30, monotonic=lambda: clock[0])
    assert feed.refresh()
    good = [i.id for i in feed.incidents()]
    feed_server.body = json.dumps(body).encode()
    clock[0] += 31
    assert not feed.refresh()
    for _ in range(5):
        assert [i.id for i in feed.incidents()] == good
    time.sleep(0.2)
    assert feed_server.requests == 2


def test_an_oversized_or_failing_feed_is_refused(feed_server: _FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontdoor.incidents import feed as feed_module

    monkeypatch.setattr(feed_module, "MAX_FEED_BYTES", 1000)
    feed_server.body = json.dumps({"incidents": [], "page": {"name": "x" * 2000}}).encode()
    feed = StatuspageFeed(feed_server.url, timeout=1.0, cache_seconds=30)
    assert not feed.refresh()
    with pytest.raises(FeedError, match="larger than 1,000 bytes"):
        feed_module.fetch(feed_server.url, 1.0, 1000)
    with pytest.raises(FeedError, match="is not an http"):
        feed_module.fetch("file:///etc/passwd", 1.0, 1000)


def test_the_feed_follows_redirects_and_the_proxy_in_the_environment(feed_server: _FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontdoor.incidents import feed as feed_module

    asked: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            if self.path.endswith("/old-summary.json"):
                self.send_response(301)
                self.send_header("Location", "http://status.example.com/api/v2/summary.json")
                self.end_headers()
                return
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(feed_server.url, timeout=5) as upstream:
                body = upstream.read()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
        body = feed_module.fetch("http://status.example.com/old-summary.json", 2.0, 100_000)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert [i.id for i in parse_summary(json.loads(body))] == [i.id for i in parse_summary(SUMMARY)]
    assert asked == ["http://status.example.com/old-summary.json", "http://status.example.com/api/v2/summary.json"]


@pytest.mark.parametrize("name", ["i", "I", "a", "it", "IT", "All", "status"])
def test_feed_components_named_like_everyday_words_never_match(name: str) -> None:
    incidents = parse_summary({"components": [{"id": "c1", "name": name, "status": "major_outage"}, {"id": "c2", "name": "API", "status": "partial_outage"}]})
    assert match_incidents("i can't print and it is all broken, the status light is off", incidents) == []
    assert [m.incident.id for m in match_incidents("the api is down", incidents)] == ["feed-component-c2"]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "frontdoor.cli", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDOOR_", "TWILIO_"))}
    env["FRONTDOOR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return env


def test_incident_commands_list_add_update_resolve(cli_env: dict[str, str]) -> None:
    listed = _cli("incidents", "list", env=cli_env)
    assert listed.returncode == 0 and "INC-1042" in listed.stdout and "INC-1046" not in listed.stdout
    assert "INC-1046" in _cli("incidents", "list", "--all", env=cli_env).stdout
    added = _cli("incidents", "add", "INC-3000", "--title", "Printers offline", "--services", "printer, printing", "--impact", "major", "--eta", "2026-11-22T15:00:00Z", env=cli_env)
    assert added.returncode == 0, added.stderr
    rows = [json.loads(line) for line in _cli("incidents", "list", "--json", env=cli_env).stdout.splitlines()]
    printer = next(r for r in rows if r["id"] == "INC-3000")
    assert printer["services"] == ["printer", "printing"] and printer["eta"] == "2026-11-22T15:00:00Z" and printer["source"] == "database"
    assert _cli("incidents", "update", "INC-3000", "--status", "monitoring", env=cli_env).returncode == 0
    resolved = _cli("incidents", "resolve", "INC-3000", env=cli_env)
    assert resolved.returncode == 0 and "Resolved INC-3000; 0" in resolved.stdout
    assert "INC-3000" not in _cli("incidents", "list", env=cli_env).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incidents", "resolve", "INC-404"), "no incident 'INC-404'"),
        (("incidents", "add", "X-1", "--title", "T", "--services", " , "), "--services: give at least one name"),
        (("incidents", "add", "X-1", "--title", "T", "--services", "a", "--eta", "tomorrowish"), "--eta: 'tomorrowish' is not a time"),
        (("incidents", "update", "INC-1042"), "nothing to change"),
    ],
)
def test_incident_command_mistakes_are_one_line_errors(cli_env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    result = _cli(*args, env=cli_env)
    assert result.returncode in (1, 2)
    assert message in result.stderr and "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{id: A, title: T, services: [x], etaa: '14:30'}", "incidents[0].etaa: unknown key (did you mean 'eta'?)"),
        ("{id: A, title: T, services: [x], workarond: Use the web app.}", "incidents[0].workarond: unknown key (did you mean 'workaround'?)"),
        ("{id: A, title: T, services: [x], workaround: 5}", "incidents[0].workaround: expected text, got 5"),
        ("{id: A, title: T, services: []}", "incidents[0].services: must not be empty"),
        ("{id: A, title: '  ', services: [x]}", "incidents[0].title: must not be empty"),
    ],
)
def test_typos_and_wrong_types_in_the_incident_file_name_the_file_and_key(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "incidents.yaml"
    path.write_text(f"incidents:\n  - {entry}\n")
    with pytest.raises(ConfigError) as raised:
        load_incident_file(path, ZoneInfo("UTC"), datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
    assert str(raised.value) == f"{path}: {message}"


def test_a_typo_at_the_top_of_the_incident_file_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "incidents.yaml"
    path.write_text("incident:\n  - {id: A, title: T, services: [x]}\n")
    with pytest.raises(ConfigError, match=r"incidents.yaml: incident: unknown key \(did you mean 'incidents'\?\)$"):
        load_incident_file(path, ZoneInfo("UTC"), datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
