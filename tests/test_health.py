"""``/healthz``: a real committed write, 503 when the database reads but cannot be written, nothing secret in the body."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from frontdoor.calls import CallService
from frontdoor.keeper import callback_record
from frontdoor.settings import Settings
from frontdoor.storage.journal import Journal
from frontdoor.web import create_app


def healthz(settings: Settings) -> tuple[int, dict, CallService]:  # type: ignore[type-arg]
    service = CallService.from_settings(settings)
    response = create_app(settings, service).test_client().get("/healthz")
    return response.status_code, json.loads(response.get_data(as_text=True)), service


def test_a_healthy_database_is_written_and_the_journal_backlog_counted(settings: Settings) -> None:
    stuck = callback_record("CA-never-stored", "+15551230001", "refused until its call row exists", datetime.now(timezone.utc))
    Journal(settings.data_dir / "journal").append([stuck])
    status, body, service = healthz(settings)
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert body["journal"] == {"waiting": 1}
    service.database.dispose()


@pytest.mark.postgres
def test_a_postgresql_database_that_only_reads_is_reported_with_503_and_no_host_or_password(settings_for, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(f'[database]\nurl = "{postgres_url}"\n')
    service = CallService.from_settings(settings)
    app = create_app(settings, service)
    url = make_url(postgres_url)
    admin = create_engine(make_url(os.environ["FRONTDOOR_TEST_POSTGRES_URL"]).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'))
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": url.database})
    try:
        with service.database.read() as reading:
            assert reading.execute(text("SELECT 1")).scalar() == 1, "reads still work: a ping would say all is well"
        response = app.test_client().get("/healthz")
        body = response.get_data(as_text=True)
        assert response.status_code == 503 and json.loads(body)["database"] == "cannot write"
        for secret in (url.host, url.password, url.database, str(url.port)):
            assert secret not in body
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{url.database}" RESET default_transaction_read_only'))
        admin.dispose()
        service.database.dispose()


def test_a_sqlite_file_that_reads_but_cannot_be_written_is_reported_with_503(settings_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "frontdoor.db"
    settings = settings_for(f'[database]\nurl = "sqlite:///{path}"\n')
    service = CallService.from_settings(settings)
    app = create_app(settings, service)
    files = [str(path), f"{path}-wal"]
    if subprocess.run(["chattr", "+i", *files], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        with service.database.read() as reading:
            assert reading.execute(text("SELECT count(*) FROM calls")).scalar() == 0
        response = app.test_client().get("/healthz")
        body = response.get_data(as_text=True)
        assert response.status_code == 503 and json.loads(body)["database"] == "cannot write"
        assert str(tmp_path) not in body
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
        service.database.dispose()
