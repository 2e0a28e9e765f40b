"""``frontdoor journal status|replay``: the records kept on local disk while the database could not be written."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime, timezone

from frontdoor.errors import StorageError
from frontdoor.keeper import RecordKeeper
from frontdoor.settings import Settings
from frontdoor.storage.database import Database, probe_write
from frontdoor.storage.journal import Journal


def add_parsers(commands: argparse._SubParsersAction) -> None:
    journal = commands.add_parser("journal", help="records kept while the database could not be written: status, replay")
    actions = journal.add_subparsers(dest="journal_command", metavar="ACTION")
    actions.required = True
    actions.add_parser("status", help="what waits in the journal, and whether the database takes writes now").set_defaults(handler=_run_status)
    actions.add_parser("replay", help="move what waits in the journal into the database, each record once").set_defaults(handler=_run_replay)


def journal_of(settings: Settings) -> Journal:
    return Journal(settings.data_dir / "journal")


def _run_status(args: argparse.Namespace, settings: Settings) -> int:
    journal = journal_of(settings)
    backlog = journal.backlog()
    print(f"journal: {journal.directory}")
    if backlog.records:
        kinds = Counter(record.kind for record in backlog.records)
        listed = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        oldest = min(record.at for record in backlog.records).isoformat(timespec="seconds")
        print(f"waiting: {len(backlog.records)} records of {len(backlog.calls)} calls ({listed}); oldest {oldest}")
    else:
        print("waiting: nothing")
    if backlog.unreadable_lines:
        print(f"unreadable lines skipped: {backlog.unreadable_lines}")
    try:
        database = Database(settings.database_url)
        try:
            probe_write(database, datetime.now(timezone.utc))
        finally:
            database.dispose()
    except StorageError as exc:
        print(f"database: cannot be written ({exc})")
        return 1
    print("database: takes writes" + ("; run 'frontdoor journal replay' (the web app also replays every few seconds)" if backlog.records else ""))
    return 0


def _run_replay(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    try:
        report = RecordKeeper(database, journal_of(settings)).replay(datetime.now(timezone.utc))
    finally:
        database.dispose()
    if report.busy:
        print("another frontdoor process is replaying the journal right now; try again in a moment", file=sys.stderr)
        return 1
    print(f"replayed {report.replayed} records ({report.already_there} were in the database already, {report.refused} refused); {report.waiting} waiting")
    if report.stopped:
        print(f"stopped: the database cannot be written ({report.stopped})", file=sys.stderr)
    if report.refused:
        print("refused records and the rest of their calls wait: the log names each one and why", file=sys.stderr)
    return 1 if report.waiting else 0
