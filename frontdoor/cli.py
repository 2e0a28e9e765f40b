"""The ``frontdoor`` command line: chat, assess, incidents, journal, serve, and what channels plug in."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib.metadata import entry_points
from typing import Callable, Sequence

from frontdoor import __version__
from frontdoor.errors import FrontdoorError, InputError
from frontdoor.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]

COMMAND_PLUGINS = "frontdoor.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontdoor",
        description="A voice front door for IT support: answers what it can, hands off to a person with context.",
    )
    parser.add_argument("--version", action="version", version=f"frontdoor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    chat = commands.add_parser("chat", help="type as a caller and read the replies (reads piped stdin too)")
    chat.add_argument("--caller", metavar="NUMBER", help="the caller ID, e.g. +15551230001 (looked up in the directory)")
    chat.set_defaults(handler=_run_chat)

    assess = commands.add_parser("assess", help="run labelled or unlabelled conversations through the engine (JSON lines)")
    assess.add_argument("--jsonl", required=True, metavar="FILE", help="input file, one conversation per line; '-' for stdin")
    assess.set_defaults(handler=_run_assess)

    train = commands.add_parser("train", help="rebuild the understanding model from the training corpus (needs frontdoor[train])")
    train.add_argument("--corpus", action="append", metavar="DIR", help="corpus folder (default: the shipped corpus); repeat it to add your own labelled utterances")
    train.add_argument("--out", metavar="DIR", help="where to write the model (default: handoff.model_dir, else the shipped model)")
    train.add_argument("--check", action="store_true", help="only check that the model was trained on the current corpus")
    train.set_defaults(handler=_run_train)

    serve = commands.add_parser("serve", help="run the web app: Twilio webhooks, agent console, /healthz")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve.set_defaults(handler=_run_serve)

    from frontdoor.incidents.commands import add_parsers as add_incident_parsers
    from frontdoor.journal_commands import add_parsers as add_journal_parsers

    add_incident_parsers(commands)
    add_journal_parsers(commands)
    for plugin in entry_points(group=COMMAND_PLUGINS):
        try:
            register = plugin.load()
        except ImportError as exc:
            logging.getLogger(__name__).warning("commands from %s are unavailable: %s", plugin.value, exc)
            continue
        register(commands)
    for subparser in _all_subparsers(parser):
        subparser.add_argument(
            "--config", metavar="PATH", help="settings file (TOML or YAML) on top of the shipped defaults; also FRONTDOOR_CONFIG"
        )
    return parser


def _all_subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found.append(child)
                found.extend(_all_subparsers(child))
    return found


def _run_chat(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.chat import run_chat

    return run_chat(settings, args.caller, sys.stdin, sys.stdout)


def _run_assess(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.assess import run_assess

    if args.jsonl == "-":
        return run_assess(settings, sys.stdin.buffer, "<stdin>", sys.stdout, sys.stderr)
    try:
        with open(args.jsonl, "rb") as source:
            return run_assess(settings, source, args.jsonl, sys.stdout, sys.stderr)
    except FileNotFoundError:
        raise InputError(f"{args.jsonl}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{args.jsonl}: is a folder, not a file") from None
    except PermissionError:
        raise InputError(f"{args.jsonl}: permission denied") from None


def _run_train(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.train import run_train

    return run_train(settings, args.corpus, args.out, args.check, sys.stderr)


def _run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.web import create_app

    if not 0 < args.port < 65536:
        raise InputError(f"--port: {args.port} is not a port number (1-65535)")
    app = create_app(settings)
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        settings = load_settings(getattr(args, "config", None))
        logging.getLogger().setLevel(settings.general.log_level.upper())
        return handler(args, settings)
    except FrontdoorError as exc:
        print(f"frontdoor: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("frontdoor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
