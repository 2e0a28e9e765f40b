"""``frontdoor console``: manage the people who may sign in to the agent console."""

from __future__ import annotations

import argparse
import getpass
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator, TextIO

from frontdoor.errors import InputError
from frontdoor.settings import Settings
from frontdoor.storage.database import Database
from frontdoor.console.signin_limits import SignInLimits
from frontdoor.console.users import ConsoleUsers, check_password

Ask = Callable[[str], str]


def register(subparsers: argparse._SubParsersAction) -> None:
    console = subparsers.add_parser("console", help="agent console users (sign-in names and passwords)")
    actions = console.add_subparsers(dest="console_action", metavar="ACTION")
    actions.required = True

    add = actions.add_parser("add-user", help="add a console user, or set a new password with --replace")
    add.add_argument("name", metavar="NAME", help="the sign-in name, e.g. alex")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--replace", action="store_true", help="set a new password for an existing user")
    add.set_defaults(handler=_add_user)

    listing = actions.add_parser("list-users", help="list console users")
    listing.set_defaults(handler=_list_users)

    remove = actions.add_parser("remove-user", help="remove a console user (their sessions end at once)")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=_remove_user)

    unlock = actions.add_parser("unlock", help="forget the failed sign-ins of a name, ending its lockout")
    unlock.add_argument("name", metavar="NAME")
    unlock.set_defaults(handler=_unlock)


def prompt_password(ask: Ask) -> str:
    """Ask for a new password twice; refuse a short one or a mismatch."""
    password = check_password(ask("New password: "))
    if ask("Repeat the password: ") != password:
        raise InputError("the passwords do not match")
    return password


def read_password_line(stdin: TextIO) -> str:
    """The first line of ``stdin`` without its line ending."""
    return check_password(stdin.readline().rstrip("\r\n"))


@contextmanager
def _users(settings: Settings) -> Iterator[ConsoleUsers]:
    database = Database(settings.database_url)
    try:
        yield ConsoleUsers(database)
    finally:
        database.dispose()


def _add_user(args: argparse.Namespace, settings: Settings) -> int:
    if args.password_stdin:
        password = read_password_line(sys.stdin)
    elif sys.stdin.isatty():
        password = prompt_password(getpass.getpass)
    else:
        raise InputError("no terminal to ask for the password on: pass --password-stdin and pipe it in")
    with _users(settings) as users:
        created = users.add(args.name, password, datetime.now(timezone.utc), replace=args.replace)
    print(f"console user {args.name} {'added' if created else 'has a new password'}")
    return 0


def _list_users(args: argparse.Namespace, settings: Settings) -> int:
    with _users(settings) as store:
        users = store.listing()
    if not users:
        print("no console users yet: add one with `frontdoor console add-user NAME`")
    for user in users:
        print(f"{user.name}\tadded {user.created_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _remove_user(args: argparse.Namespace, settings: Settings) -> int:
    with _users(settings) as users:
        users.remove(args.name)
    print(f"console user {args.name} removed")
    return 0


def _unlock(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    try:
        was_locked = SignInLimits(database, settings.console).unlock(args.name)
    finally:
        database.dispose()
    print(f"console user {args.name} {'may sign in again' if was_locked else 'was not locked'}")
    return 0
