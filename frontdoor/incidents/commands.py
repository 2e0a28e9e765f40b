"""``frontdoor incidents list|add|update|resolve``: the incident board from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from frontdoor.errors import ConfigError, InputError
from frontdoor.incidents.board import IncidentBoard, validated
from frontdoor.incidents.files import parse_moment
from frontdoor.incidents.model import IMPACTS, STATUSES, Incident
from frontdoor.incidents.speech import spoken_time
from frontdoor.incidents.store import IncidentStore
from frontdoor.settings import Settings
from frontdoor.storage.database import Database


def add_parsers(commands: argparse._SubParsersAction) -> None:
    incidents = commands.add_parser("incidents", help="list, add, update and resolve known incidents")
    actions = incidents.add_subparsers(dest="incidents_command", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="every known incident: file, database and feed")
    listing.add_argument("--all", action="store_true", help="include resolved incidents")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(handler=_run_list)

    add = actions.add_parser("add", help="add an incident (stored in the database)")
    add.add_argument("id", help="incident id, e.g. INC-1050")
    add.add_argument("--title", required=True, help='what callers hear, e.g. "Printing unavailable on floor 3"')
    add.add_argument("--services", required=True, help="comma-separated spoken names and aliases, e.g. printer,printing")
    _field_options(add, defaults=True)
    add.set_defaults(handler=_run_add)

    update = actions.add_parser("update", help="change an incident (any source; the change is stored in the database)")
    update.add_argument("id")
    update.add_argument("--title")
    update.add_argument("--services", help="comma-separated spoken names and aliases")
    _field_options(update, defaults=False)
    update.set_defaults(handler=_run_update)

    resolve = actions.add_parser("resolve", help="mark an incident resolved and text everyone who asked to be told")
    resolve.add_argument("id")
    resolve.set_defaults(handler=_run_resolve)


def _field_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    parser.add_argument("--status", choices=STATUSES, default="investigating" if defaults else None)
    parser.add_argument("--impact", choices=IMPACTS, default="minor" if defaults else None)
    parser.add_argument("--started", metavar="TIME", help="ISO 8601 (2026-11-22T09:10:00Z) or HH:MM today")
    parser.add_argument("--eta", metavar="TIME", help="expected fix: ISO 8601 or HH:MM today ('' clears it)")
    parser.add_argument("--workaround", help="one sentence callers can act on ('' clears it)")


def open_board(settings: Settings) -> IncidentBoard:
    database = Database(settings.database_url)
    board = IncidentBoard.from_settings(settings, IncidentStore(database, settings.general.organisation))
    if board.feed is not None:
        board.feed.refresh()
    return board


def _run_list(args: argparse.Namespace, settings: Settings) -> int:
    board = open_board(settings)
    now = board.clock()
    shown = [incident for incident in board.incidents() if args.all or incident.active]
    if args.json:
        for incident in shown:
            print(json.dumps(_as_json(incident)))
        return 0
    if not shown:
        print("No active incidents." if not args.all else "No incidents.")
        return 0
    print(f"{'ID':<14} {'STATUS':<13} {'IMPACT':<8} {'SOURCE':<9} {'FIX EXPECTED':<22} TITLE")
    for incident in shown:
        eta = spoken_time(incident.eta, board.timezone, now) if incident.eta else "-"
        print(f"{incident.id:<14} {incident.status:<13} {incident.impact:<8} {incident.source:<9} {eta:<22} {incident.title}")
    return 0


def _run_add(args: argparse.Namespace, settings: Settings) -> int:
    board = open_board(settings)
    incident = validated(
        Incident(
            id=args.id.strip(), title=args.title.strip(), services=_services(args.services), status=args.status,
            impact=args.impact, started=_moment(args.started, "--started", board) or board.clock(),
            eta=_moment(args.eta, "--eta", board), workaround=(args.workaround or "").strip() or None,
        )
    )
    board.add(incident)
    print(f"Added {incident.id}: {incident.title}")
    return 0


def _run_update(args: argparse.Namespace, settings: Settings) -> int:
    board = open_board(settings)
    changes: dict[str, Any] = {}
    if args.title is not None:
        changes["title"] = args.title.strip()
    if args.services is not None:
        changes["services"] = _services(args.services)
    for key in ("status", "impact"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    for key in ("started", "eta"):
        if getattr(args, key) is not None:
            changes[key] = _moment(getattr(args, key), f"--{key}", board)
    if args.workaround is not None:
        changes["workaround"] = args.workaround.strip() or None
    if not changes:
        raise InputError("nothing to change: give at least one of --title, --services, --status, --impact, --started, --eta, --workaround")
    incident = board.update(args.id, changes)
    print(f"Updated {incident.id}: {incident.title} ({incident.status})")
    return 0


def _run_resolve(args: argparse.Namespace, settings: Settings) -> int:
    board = open_board(settings)
    queued = board.resolve(args.id)
    print(f"Resolved {args.id}; {queued} \"it's fixed\" text(s) queued.")
    if queued:
        from frontdoor.outbox import send_pending_messages

        assert board.store is not None
        sent = send_pending_messages(settings, board.store.database)
        print(f"{sent} text(s) sent now; any others are retried by the running service.", file=sys.stderr)
    return 0


def _services(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise InputError("--services: give at least one name, e.g. --services email,outlook")
    return names


def _moment(value: str | None, option: str, board: IncidentBoard) -> datetime | None:
    """A time given on the command line; ``HH:MM`` means today in the board's time zone."""
    today = board.clock().astimezone(board.timezone).date()
    try:
        return parse_moment(value, option, board.timezone, today)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def _as_json(incident: Incident) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": incident.id, "title": incident.title, "services": list(incident.services), "status": incident.status,
        "impact": incident.impact, "started": moment(incident.started), "eta": moment(incident.eta),
        "workaround": incident.workaround, "source": incident.source,
    }
