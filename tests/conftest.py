"""Shared fixtures: settings isolated from the user's machine, and databases on both backends.

PostgreSQL tests need ``FRONTDOOR_TEST_POSTGRES_URL`` (a role allowed to create databases);
``.ci/run`` starts a server and sets it. Each test gets a fresh database of its own.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from frontdoor.settings import Settings, load_settings
from scratch_postgres import scratch_database

POSTGRES_ENV = "FRONTDOOR_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _couriers_stop_with_the_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The web app's SMS courier and journal replayer threads end with the test that started them (its database is dropped after)."""
    from frontdoor.keeper import JournalReplayer
    from frontdoor.outbox import OutboxCourier

    started: list[OutboxCourier | JournalReplayer] = []
    for kind in (OutboxCourier, JournalReplayer):
        monkeypatch.setattr(kind, "start", _recorded_start(kind.start, started))
    yield
    for thread in started:
        thread.stop()


def _recorded_start(original, started: list):  # type: ignore[no-untyped-def]
    def start(thread):  # type: ignore[no-untyped-def]
        started.append(thread)
        return original(thread)

    return start


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own settings, data folder or Twilio credentials."""
    for name in list(os.environ):
        if (name.startswith("FRONTDOOR_") and name != POSTGRES_ENV) or name.startswith("TWILIO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: .ci/run must start PostgreSQL")
        pytest.skip(f"{POSTGRES_ENV} not set")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    with scratch_database(_postgres_admin_url(), "frontdoor_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'frontdoor.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(database_url: str):  # type: ignore[no-untyped-def]
    from frontdoor.storage.database import Database

    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def cut_off_database():  # type: ignore[no-untyped-def]
    """Point a ``CallService`` at a PostgreSQL server that is gone (nothing listens on port 9), as in an outage."""
    from contextlib import nullcontext

    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from frontdoor.storage.database import Database

    def cut_off(service):  # type: ignore[no-untyped-def]
        down = Database.__new__(Database)
        down.url = "postgresql+psycopg://frontdoor:x@127.0.0.1:9/gone"
        down.engine = down.read_engine = create_engine(down.url, connect_args={"connect_timeout": 2})
        down._sessions = down._readers = sessionmaker(down.engine, expire_on_commit=False)  # type: ignore[attr-defined]
        down._writer_lock = nullcontext()  # type: ignore[attr-defined]
        down._file = None  # type: ignore[attr-defined]
        service.database = service.calls.database = service.incidents.database = service.keeper.database = down

    return cut_off


@pytest.fixture
def settings_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build settings from TOML text written to a temporary file (plus the shipped defaults)."""

    def build(toml: str = "", **environ: str) -> Settings:
        path = tmp_path / f"settings-{uuid.uuid4().hex[:6]}.toml"
        path.write_text(toml, encoding="utf-8")
        return load_settings(path, environ={**environ})

    return build


@pytest.fixture
def settings(settings_for, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    """Shipped defaults with a fresh database (both backends)."""
    return settings_for(f'[database]\nurl = "{database_url}"\n')


@pytest.fixture
def twilio_api():  # type: ignore[no-untyped-def]
    """A local stand-in for Twilio's REST API on 127.0.0.1 (see tests/twilio_sim.py)."""
    from twilio_sim import TwilioApiServer

    server = TwilioApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def phone_settings(settings_for, database_url: str, twilio_api):  # type: ignore[no-untyped-def]
    """Settings for a phone line with two agents and Twilio's REST API on 127.0.0.1, on both database backends."""
    from phone_line import AGENT_1, AGENT_2, PUBLIC
    from twilio_sim import ACCOUNT_SID

    def build(agents: str = f"{AGENT_1},{AGENT_2}", public_url: str = PUBLIC, **environ: str) -> Settings:
        return settings_for(
            f'[database]\nurl = "{database_url}"\n',
            TWILIO_AUTH_TOKEN=twilio_api.auth_token, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_FROM_NUMBER="+15550001000",
            FRONTDOOR_PUBLIC_URL=public_url, FRONTDOOR_AGENTS=agents, FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url,
            **environ,
        )

    return build


@pytest.fixture
def phone(phone_settings, twilio_api):  # type: ignore[no-untyped-def]
    """``phone(agents, settings=None, mode="conference")``: a whole phone line (see tests/phone_line.py)."""
    from phone_line import Phone

    made: list[Phone] = []

    def build(agents=None, settings: Settings | None = None, mode: str = "conference", **simulator: object) -> Phone:  # type: ignore[no-untyped-def]
        made.append(Phone(settings or phone_settings(FRONTDOOR_TWILIO_TRANSFER_MODE=mode), twilio_api, agents, **simulator))
        return made[-1]

    yield build
    for each in made:
        each.service.database.dispose()


@pytest.fixture(params=["conference", "dial"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both ways of reaching agents: holding in a conference while frontdoor rings them, or ``<Dial>``."""
    return str(request.param)


from dataclasses import dataclass  # noqa: E402 - the console fixtures below were appended after the others
from datetime import datetime, timedelta, timezone  # noqa: E402
from typing import Any  # noqa: E402


class ManualClock:
    """A clock a test moves by hand (aware UTC), for sessions that expire and people who wait."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ConsoleSite:
    app: Any
    service: Any
    clock: ManualClock
    settings: Settings
    twilio_api: Any
    user: str = "alex"
    password: str = "correct horse battery"


@pytest.fixture
def console_site(settings_for, database_url: str, twilio_api):  # type: ignore[no-untyped-def]
    """The whole web app (create_app) with the agent console on, one console user, Twilio's API on 127.0.0.1,
    and a clock the test moves."""
    from frontdoor.calls import CallService
    from frontdoor.web import create_app
    from frontdoor.console.users import ConsoleUsers
    from twilio_sim import ACCOUNT_SID

    settings = settings_for(
        f'[database]\nurl = "{database_url}"\n[console]\nsession_minutes = 30\n',
        FRONTDOOR_SECRET_KEY="test-console-secret-" + "k" * 24,
        FRONTDOOR_PUBLIC_URL="http://127.0.0.1",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=twilio_api.auth_token,
        TWILIO_FROM_NUMBER="+15550001000",
        FRONTDOOR_TWILIO_API_BASE_URL=twilio_api.base_url,
    )
    clock = ManualClock(datetime.now(timezone.utc).replace(microsecond=0))
    service = CallService.from_settings(settings, clock)
    site = ConsoleSite(create_app(settings, service), service, clock, settings, twilio_api)
    ConsoleUsers(service.database).add(site.user, site.password, clock())
    yield site
    service.notifier.flush(5)
    service.database.dispose()
