"""Issue 13, items 2 and 3 on the console: sign-in limits, bounded password checks, sessions ended on
the server, and https cookies and HSTS behind trusted proxies (Flask test client on the real app)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from frontdoor.calls import CallService
from frontdoor.console.password_checks import PasswordCheckSlots
from frontdoor.console.signin_limits import SEEN_FOR, LockoutPolicy
from frontdoor.console.users import ConsoleUsers
from frontdoor.errors import Overloaded
from frontdoor.web import create_app
from test_console_pages import PAGES, agent, client, sign_in, token  # noqa: F401 - agent and client are fixtures

SECRET = "test-console-secret-" + "k" * 24
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.44"}


def post_sign_in(client: FlaskClient, name: str, password: str, **environ: str):  # type: ignore[no-untyped-def]
    page = client.get("/agent/login", environ_base=environ)
    return client.post("/agent/login", data={"csrf_token": token(page.text), "name": name, "password": password}, environ_base=environ)


# --- limits -------------------------------------------------------------------------------------


def test_a_lockout_comes_after_five_failures_then_doubles_up_to_the_longest() -> None:
    policy = LockoutPolicy(5, timedelta(minutes=1), timedelta(minutes=60))
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert [policy.locked_until(failures, at) for failures in range(5)] == [None] * 5
    assert [policy.locked_until(failures, at) - at for failures in range(5, 13)] == [  # type: ignore[operator]
        timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60, 60)
    ]
    assert policy.locked_until(10_000, at) == at + timedelta(minutes=60)


def test_after_five_wrong_passwords_even_the_right_one_is_refused_until_the_lockout_ends(console_site, client: FlaskClient, caplog) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, item 2: 16 guesses a second from one machine, and the right password still worked after 240 wrong ones."""
    with caplog.at_level(logging.WARNING, logger="frontdoor.console.signin"):
        for attempt in range(240):
            refused = post_sign_in(client, console_site.user, f"wrong password {attempt}")
            assert refused.status_code == (401 if attempt < 5 else 429), attempt
    locks = [record.getMessage() for record in caplog.records if "locked" in record.getMessage()]
    assert len(locks) == 1 and "name 'alex'" in locks[0] and "after 5 failed sign-ins" in locks[0]
    right = post_sign_in(client, console_site.user, console_site.password)
    assert right.status_code == 429
    assert right.headers["Retry-After"] == "60"
    until = (console_site.clock() + timedelta(minutes=1)).strftime("%H:%M:%S")
    assert f"Too many failed sign-ins. Try again after {until} (in 1 min 00 s)." in right.text
    assert client.get("/agent").status_code == 302

    console_site.clock.advance(seconds=61)
    assert post_sign_in(client, console_site.user, "wrong once more").status_code == 401
    assert post_sign_in(client, console_site.user, console_site.password).headers["Retry-After"] == "120"
    console_site.clock.advance(seconds=121)
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 302
    assert client.get("/agent").status_code == 200


def test_a_lockout_of_a_name_holds_from_every_address_and_a_sign_in_forgets_the_count(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(4):
        assert post_sign_in(client, console_site.user, f"wrong password {attempt}").status_code == 401
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 302
    other = console_site.app.test_client()
    for attempt in range(4):
        assert post_sign_in(other, console_site.user, f"wrong again {attempt}").status_code == 401
    assert post_sign_in(other, console_site.user, "and once more").status_code == 401
    assert post_sign_in(console_site.app.test_client(), console_site.user, console_site.password, **ELSEWHERE).status_code == 429


def test_failures_from_one_address_lock_it_for_every_name(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    for number in range(20):
        assert post_sign_in(client, f"guess{number}", "some password").status_code == 401
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 429
    elsewhere = console_site.app.test_client()
    assert post_sign_in(elsewhere, console_site.user, console_site.password, **ELSEWHERE).status_code == 302


def test_the_counts_are_shared_by_every_worker_and_instance_on_the_database(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    second = CallService.from_settings(console_site.settings, console_site.clock)
    try:
        other_instance = create_app(console_site.settings, second).test_client()
        for attempt in range(3):
            assert post_sign_in(client, console_site.user, f"wrong {attempt}").status_code == 401
        for attempt in range(2):
            assert post_sign_in(other_instance, console_site.user, f"wrong elsewhere {attempt}").status_code == 401
        assert post_sign_in(client, console_site.user, console_site.password).status_code == 429
        assert post_sign_in(other_instance, console_site.user, console_site.password).status_code == 429
    finally:
        second.database.dispose()


def test_an_administrator_can_unlock_a_name(console_site, client: FlaskClient, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from frontdoor.cli import main

    for attempt in range(5):
        post_sign_in(client, console_site.user, f"wrong {attempt}")
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 429
    monkeypatch.setenv("FRONTDOOR_DATABASE_URL", console_site.settings.database_url)
    assert main(["console", "unlock", console_site.user]) == 0
    assert capsys.readouterr().out.strip() == "console user alex may sign in again"
    time.sleep(SEEN_FOR)  # each worker refuses a lockout it has just seen for up to this long without asking the database
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 302
    assert main(["console", "unlock", console_site.user]) == 0
    assert capsys.readouterr().out.strip() == "console user alex was not locked"


# --- password checks at once --------------------------------------------------------------------


HOLD_SLOT = """
import sys
from pathlib import Path
from frontdoor.storage.writelock import WriterLock
with WriterLock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def hold_slot(path: Path) -> subprocess.Popen[str]:
    """Another process (another gunicorn worker) in the middle of a password check, until its stdin gets a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SLOT, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("done\n")
    holder.stdin.close()
    assert holder.wait(timeout=10) == 0


def test_while_another_worker_checks_a_password_a_sign_in_is_refused_at_once_with_503(console_site, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, item 2: a sign-in flood hashed passwords in every worker and pushed the webhooks' p99 to 16.7 s."""
    holder = hold_slot(console_site.settings.data_dir / "password-check-0.lock")
    try:
        for attempt in range(8):
            busy = post_sign_in(client, console_site.user, console_site.password if attempt % 2 else f"wrong {attempt}")
            assert busy.status_code == 503
            assert busy.headers["Retry-After"] == "1"
            assert "The console is busy checking other sign-ins. Try again in a moment." in busy.text
    finally:
        release(holder)
    assert post_sign_in(client, console_site.user, console_site.password).status_code == 302


def test_password_check_slots_bound_the_threads_of_a_process_too_and_check_at_the_lowest_priority(tmp_path: Path) -> None:
    slots = PasswordCheckSlots(tmp_path / "data", 2)
    inside, leave = threading.Barrier(3), threading.Event()
    priorities: list[int] = []

    def check() -> None:
        priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        inside.wait(timeout=10)
        leave.wait(timeout=10)

    threads = [threading.Thread(target=slots.run, args=(check,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)
    with pytest.raises(Overloaded, match="every password-check slot is busy"):
        slots.run(lambda: None)
    leave.set()
    for thread in threads:
        thread.join(timeout=10)
    assert slots.run(lambda: "checked") == "checked"
    assert priorities == [19, 19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19


# --- sessions -----------------------------------------------------------------------------------


def test_a_cookie_saved_before_sign_out_signs_nobody_in_after_it(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, item 3: a cookie saved before sign-out still read ``queue.json``."""
    saved = agent.get_cookie("frontdoor_console", path="/agent")
    assert saved is not None and agent.get("/agent/queue.json").status_code == 200
    agent.post("/agent/logout", data={"csrf_token": token(agent.get("/agent").text)})
    for client in (agent, console_site.app.test_client()):
        client.set_cookie("frontdoor_console", saved.value, path="/agent")
        assert client.get("/agent/queue.json").status_code == 401
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 302 and response.headers["Location"].startswith("/agent/login"), path


def test_signing_out_ends_that_session_only(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    laptop = console_site.app.test_client()
    assert sign_in(laptop, console_site).status_code == 302
    agent.post("/agent/logout", data={"csrf_token": token(agent.get("/agent").text)})
    assert agent.get("/agent").status_code == 302
    assert laptop.get("/agent/queue.json").status_code == 200


def test_removing_a_user_ends_their_sessions(console_site, agent: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    ConsoleUsers(console_site.service.database).remove(console_site.user)
    assert agent.get("/agent/queue.json").status_code == 401


# --- https behind proxies -----------------------------------------------------------------------


@pytest.fixture
def console_app(settings_for, database_url: str):  # type: ignore[no-untyped-def]
    """A console app built from the environment given, with the user alex."""
    services: list[CallService] = []

    def build(**environ: str):  # type: ignore[no-untyped-def]
        settings = settings_for(f'[database]\nurl = "{database_url}"\n', FRONTDOOR_SECRET_KEY=SECRET, **environ)
        services.append(CallService.from_settings(settings))
        ConsoleUsers(services[-1].database).add("alex", "correct horse battery", datetime.now(timezone.utc), replace=True)
        return create_app(settings, services[-1])

    yield build
    for service in services:
        service.database.dispose()


def cookie_and_hsts(app, **headers: str) -> tuple[bool, str | None]:  # type: ignore[no-untyped-def]
    """Whether the session cookie of a sign-in came marked ``Secure``, and the HSTS header of the answer."""
    client = app.test_client()
    page = client.get("/agent/login", headers=headers)
    signed_in = client.post(
        "/agent/login", data={"csrf_token": token(page.text), "name": "alex", "password": "correct horse battery"}, headers=headers
    )
    assert signed_in.status_code == 302
    cookies = [value for value in signed_in.headers.getlist("Set-Cookie") if value.startswith("frontdoor_console=")]
    assert len(cookies) == 1
    return "; Secure" in cookies[0], signed_in.headers.get("Strict-Transport-Security")


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure_and_hsts_is_sent(console_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, item 3: without FRONTDOOR_PUBLIC_URL the session cookie had no ``Secure`` flag behind a TLS proxy."""
    behind_proxy = console_app(FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1")
    assert cookie_and_hsts(behind_proxy, **{"X-Forwarded-Proto": "https"}) == (True, "max-age=31536000")
    assert cookie_and_hsts(behind_proxy) == (False, None)


def test_forwarded_headers_from_an_untrusted_sender_change_nothing(console_app) -> None:  # type: ignore[no-untyped-def]
    no_proxy = console_app()
    assert cookie_and_hsts(no_proxy, **{"X-Forwarded-Proto": "https"}) == (False, None)
    one_proxy = console_app(FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1")
    assert cookie_and_hsts(one_proxy, **{"X-Forwarded-Proto": "https, http"}) == (False, None)


def test_an_https_public_url_makes_the_cookie_secure_and_sends_hsts(console_app) -> None:  # type: ignore[no-untyped-def]
    assert cookie_and_hsts(console_app(FRONTDOOR_PUBLIC_URL="https://frontdoor.example.com")) == (True, "max-age=31536000")


def test_the_address_a_trusted_proxy_forwards_is_the_one_counted(console_app) -> None:  # type: ignore[no-untyped-def]
    app = console_app(FRONTDOOR_WEB_TRUSTED_PROXY_COUNT="1")
    client = app.test_client()
    for number in range(20):
        forwarded = {"X-Forwarded-For": f"203.0.113.{number}, 198.51.100.9"}
        page = client.get("/agent/login")
        assert client.post(
            "/agent/login", data={"csrf_token": token(page.text), "name": f"guess{number}", "password": "nope"}, headers=forwarded
        ).status_code == 401
    page = client.get("/agent/login")
    locked = client.post(
        "/agent/login", data={"csrf_token": token(page.text), "name": "alex", "password": "correct horse battery"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert locked.status_code == 429
    assert post_sign_in(client, "alex", "correct horse battery").status_code == 302
