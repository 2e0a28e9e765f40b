"""Connecting to the call-records database and keeping its schema current."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frontdoor.errors import ConfigError, DatabaseUnavailable, StorageError
from frontdoor.storage.migrations import MIGRATIONS
from frontdoor.storage.schema import Base, SchemaVersion, WriteProbe
from frontdoor.storage.sqlitefile import DatabaseFile
from frontdoor.storage.writelock import WriterLock

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1 + len(MIGRATIONS)
CONNECT_TIMEOUT_SECONDS = 2
"""A PostgreSQL server that does not answer fails a connection in seconds (libpq may try twice: with TLS, then without)."""
RECONNECT_AFTER_SECONDS = 5.0
"""After a failed connection, uses fail at once for this long instead of each waiting for the server again."""


class Database:
    """An engine plus a session factory, with the schema created or upgraded on open.

    ``session()``/``reading()`` give ORM sessions; ``transaction()``/``read()`` give plain Core
    connections, several times cheaper per statement, for the hot path of a call.

    A SQLite file is remembered as first opened: if it vanishes or another file takes its place,
    every transaction raises ``DatabaseFileChanged`` instead of writing to a fresh, empty file.
    A database that cannot be reached at open does not stop frontdoor from starting (calls still
    go to people, promises to the journal): the schema is prepared at the first use that reaches it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = _create_sqlite_engine(url, make_url(url).database, immediate=False) if self.dialect == "sqlite" else self.engine
        self._readers = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer_lock = _writer_lock(self.engine)
        self._file = _database_file(self.engine)
        self._breaker = ConnectionBreaker(self.engine, _redacted(url)) if self.dialect == "postgresql" else None
        self._prepared = False
        self._preparing = threading.Lock()
        try:
            self._prepare()
        except DatabaseUnavailable as exc:
            log.error("%s; starting anyway, and trying again at each use", exc)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        self._ready(writing=True)
        with self._writing_session() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction: on SQLite it does not wait for or hold the write lock."""
        self._ready(writing=False)
        with self._orm_transaction(self._readers) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``session()`` as a Core connection: committed when the block ends, rolled back on error."""
        self._ready(writing=True)
        with self._writer_lock, self._core_transaction(self.engine) as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """``reading()`` as a Core connection."""
        self._ready(writing=False)
        with self._core_transaction(self.read_engine) as connection:
            yield connection

    def _ready(self, writing: bool) -> None:
        if self._breaker is not None:
            self._breaker.check()
        if self._file is not None:
            self._file.check(writing)
        if not self._prepared:
            self._prepare()

    @contextmanager
    def _writing_session(self) -> Iterator[Session]:
        with self._writer_lock, self._orm_transaction(self._sessions) as session:
            yield session

    @contextmanager
    def _orm_transaction(self, sessions: sessionmaker[Session]) -> Iterator[Session]:
        session = sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise StorageError(f"database error: {_short(exc)}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def _core_transaction(self, engine: Engine) -> Iterator[Connection]:
        try:
            with engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise StorageError(f"database error: {_short(exc)}") from exc

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()

    def _prepare(self) -> None:
        """Create or upgrade the schema once; ``DatabaseUnavailable`` while the database cannot be reached or written."""
        with self._preparing:
            if self._prepared:
                return
            if self._file is not None:
                try:
                    self._file.check(writing=True)
                except StorageError as exc:
                    raise DatabaseUnavailable(str(exc)) from exc
            try:
                self._prepare_schema()
            except StorageError as exc:
                if isinstance(exc, DatabaseUnavailable) or not isinstance(exc.__cause__, OperationalError):
                    raise
                raise DatabaseUnavailable(f"cannot open database {_redacted(self.url)}: {exc}") from exc
            self._prepared = True

    def _prepare_schema(self) -> None:
        try:
            existing = inspect(self.engine).has_table(SchemaVersion.__tablename__)
            Base.metadata.create_all(self.engine)
            with self._writing_session() as session:
                row = session.scalar(select(SchemaVersion).with_for_update()) if existing else None
                if row is None:
                    session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))
                    return
                if row.version > SCHEMA_VERSION:
                    raise StorageError(
                        f"database schema version {row.version} is newer than this frontdoor ({SCHEMA_VERSION}): upgrade frontdoor"
                    )
                for migration in MIGRATIONS[row.version - 1 :]:
                    log.info("upgrading database schema with %s", migration.__name__)
                    migration(session)
                row.version = SCHEMA_VERSION
        except OperationalError as exc:
            raise DatabaseUnavailable(f"cannot open database {_redacted(self.url)}: {_short(exc)}") from exc
        except SQLAlchemyError as exc:
            if "already exists" in str(exc) or (isinstance(exc, IntegrityError) and "schema_version" in str(exc)):
                self._prepare_schema_after_race()
                return
            raise StorageError(f"cannot prepare database {_redacted(self.url)}: {_short(exc)}") from exc

    def _prepare_schema_after_race(self) -> None:
        """Another process created the schema at the same moment; its work is ours."""
        with self._writing_session() as session:
            if session.scalar(select(SchemaVersion)) is None:
                session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))


class ConnectionBreaker:
    """Remembers a failed connection to the server for ``RECONNECT_AFTER_SECONDS``, so a webhook waits for a dead or hung
    server once, not at every read and write (Twilio gives a webhook 15 s)."""

    def __init__(self, engine: Engine, name: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.monotonic = monotonic
        self._down_until = 0.0
        self._reason = ""
        event.listen(engine, "do_connect", self._connect)

    def check(self) -> None:
        wait = self._down_until - self.monotonic() if self._down_until else 0.0
        if wait > 0:
            raise DatabaseUnavailable(f"cannot open database {self.name}: {self._reason} (trying again in {wait:.0f} s)")

    def _connect(self, dialect, record, cargs, cparams):  # type: ignore[no-untyped-def]
        try:
            connection = dialect.connect(*cargs, **cparams)
        except Exception as exc:
            self._reason = _short(exc)
            self._down_until = self.monotonic() + RECONNECT_AFTER_SECONDS
            raise
        self._down_until = 0.0
        return connection


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"'database.url': not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        try:
            return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)
        except ModuleNotFoundError:
            raise ConfigError("PostgreSQL needs the psycopg driver: pip install 'frontdoor[postgres]'") from None
    raise ConfigError(f"'database.url': unsupported database {parsed.get_backend_name()!r} (use sqlite or postgresql)")


def _sqlite_path(engine: Engine) -> Path | None:
    """The SQLite file behind ``engine``; None for other databases and in-memory ones."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """Writers of one SQLite file queue on a lock file; other databases need nothing."""
    path = _sqlite_path(engine)
    return nullcontext() if path is None else WriterLock(path.with_name(path.name + ".writer-lock"))


def _database_file(engine: Engine) -> DatabaseFile | None:
    path = _sqlite_path(engine)
    return None if path is None else DatabaseFile.opened(path)


def _create_sqlite_engine(url: str, database: str | None, immediate: bool = True) -> Engine:
    """An engine whose connections open the file only if it exists (``mode=rw``): made here once, never again mid-run."""
    file_uri = None
    if database and database != ":memory:":
        path = Path(database).expanduser().absolute()
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        except OSError as exc:
            raise StorageError(f"cannot create the database file {database}: {exc.strerror}") from None
        file_uri = f"{path.as_uri()}?mode=rw"
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    if file_uri is not None:

        @event.listens_for(engine, "do_connect")
        def _open_existing(dialect, record, cargs, cparams) -> sqlite3.Connection:  # type: ignore[no-untyped-def]
            return sqlite3.connect(file_uri, uri=True, **cparams)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        try:
            connection.connection.driver_connection.execute(begin)  # straight to sqlite3: a statement's full trip costs more
        except sqlite3.OperationalError as exc:
            raise StorageError(f"database error: {exc}") from exc

    return engine


def _short(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def insert_new(connection: Connection, table: Table, values: dict[str, Any], key: tuple[str, ...]) -> bool:
    """Insert ``values`` unless a row with the same ``key`` columns exists (or is being inserted); True when inserted."""
    return connection.execute(_insert_unless_present(connection.dialect.name, table, key), values).first() is not None


@lru_cache(maxsize=None)
def _insert_unless_present(dialect: str, table: Table, key: tuple[str, ...]) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(key)).returning(table.c[key[0]])


def probe_write(database: Database, now: datetime) -> None:
    """Write and commit one row now (``/healthz``); ``StorageError`` when the database cannot take it."""
    try:
        with database.transaction() as connection:
            connection.execute(_probe_upsert(connection.dialect.name), {"id": 1, "checked_at": now})
    except SQLAlchemyError as exc:
        raise StorageError(f"database error: {_short(exc)}") from exc


@lru_cache(maxsize=None)
def _probe_upsert(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = WriteProbe.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c.id], set_={"checked_at": statement.excluded.checked_at})
