"""Connecting to the call-records database and keeping its schema current."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frontdoor.errors import ConfigError, StorageError
from frontdoor.storage.migrations import MIGRATIONS
from frontdoor.storage.schema import Base, SchemaVersion
from frontdoor.storage.writelock import WriterLock

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1 + len(MIGRATIONS)


class Database:
    """An engine plus a session factory, with the schema created or upgraded on open.

    ``session()``/``reading()`` give ORM sessions; ``transaction()``/``read()`` give plain Core
    connections, several times cheaper per statement, for the hot path of a call.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = _create_sqlite_engine(url, make_url(url).database, immediate=False) if self.dialect == "sqlite" else self.engine
        self._readers = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer_lock = _writer_lock(self.engine)
        self._prepare_schema()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        with self._writer_lock, self._orm_transaction(self._sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction: on SQLite it does not wait for or hold the write lock."""
        with self._orm_transaction(self._readers) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``session()`` as a Core connection: committed when the block ends, rolled back on error."""
        with self._writer_lock, self._core_transaction(self.engine) as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """``reading()`` as a Core connection."""
        with self._core_transaction(self.read_engine) as connection:
            yield connection

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

    def _prepare_schema(self) -> None:
        try:
            existing = inspect(self.engine).has_table(SchemaVersion.__tablename__)
            Base.metadata.create_all(self.engine)
            with self.session() as session:
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
            raise StorageError(f"cannot open database {_redacted(self.url)}: {_short(exc)}") from exc
        except SQLAlchemyError as exc:
            if "already exists" in str(exc) or (isinstance(exc, IntegrityError) and "schema_version" in str(exc)):
                self._prepare_schema_after_race()
                return
            raise StorageError(f"cannot prepare database {_redacted(self.url)}: {_short(exc)}") from exc

    def _prepare_schema_after_race(self) -> None:
        """Another process created the schema at the same moment; its work is ours."""
        with self.session() as session:
            if session.scalar(select(SchemaVersion)) is None:
                session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))


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
        try:
            return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
        except ModuleNotFoundError:
            raise ConfigError("PostgreSQL needs the psycopg driver: pip install 'frontdoor[postgres]'") from None
    raise ConfigError(f"'database.url': unsupported database {parsed.get_backend_name()!r} (use sqlite or postgresql)")


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """Writers of one SQLite file queue on a lock file; other databases need nothing."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    return WriterLock(Path(database).expanduser().with_name(Path(database).name + ".writer-lock"))


def _create_sqlite_engine(url: str, database: str | None, immediate: bool = True) -> Engine:
    if database and database != ":memory:":
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the folder for {database}: {exc.strerror}") from None
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

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


def ping(database: Database) -> None:
    """Raise ``StorageError`` when the database does not answer."""
    with database.read() as connection:
        connection.execute(text("SELECT 1"))
