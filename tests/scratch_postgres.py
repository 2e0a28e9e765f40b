"""A throwaway PostgreSQL database for tests and benchmarks: created empty, dropped afterwards."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new database named ``<prefix>_<random>`` on the server at ``server_url``; dropped on exit."""
    admin_url = make_url(server_url)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: Engine, name: str, attempts: int = 10) -> None:
    """Drop the database, ending our sessions in it; an autovacuum worker inside it (which only a
    superuser may end) makes the drop fail for a moment, so that is retried."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
