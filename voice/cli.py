"""The desk speaker's commands: ``frontdoor listen`` and ``frontdoor model list|download``.

Nothing here imports an audio library at module level: building the parser works without them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frontdoor.errors import InputError
from frontdoor.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    listen = subparsers.add_parser(
        "listen", help="talk to frontdoor at a desk: microphone and speaker, or a WAV file in and reply WAVs out"
    )
    listen.add_argument("--input", metavar="FILE.wav", help="read the caller's audio from a WAV file instead of the microphone")
    listen.add_argument("--output-dir", metavar="DIR", help="write each reply as a WAV file in DIR instead of playing it")
    listen.add_argument("--model", metavar="DIR", help="Vosk model folder (default: voice.model_dir, else the downloaded model)")
    listen.add_argument("--caller", metavar="NUMBER", help="the phone number of the employee at this desk (looked up in the directory)")
    listen.add_argument("--device", metavar="NAME|INDEX", help="microphone by name or index (default: voice.input_device, else the system default)")
    listen.add_argument(
        "--silence-seconds", type=float, default=None, metavar="SECONDS",
        help="how long nobody speaking counts as a silent turn (default: 8)",
    )
    listen.set_defaults(handler=run_listen_command)

    model = subparsers.add_parser("model", help="list or download speech recognition models")
    actions = model.add_subparsers(dest="model_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="official Vosk models and which are installed")
    listing.set_defaults(handler=run_model_list)
    download = actions.add_parser("download", help="download a model (resumes an interrupted download)")
    download.add_argument("name", nargs="?", help="model name (default: the small US-English model)")
    download.add_argument("--sha256", metavar="HEX", help="expected SHA-256 of the zip, checked before unpacking")
    download.set_defaults(handler=run_model_download)


def run_listen_command(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.voice.loop import DEFAULT_NO_SPEECH_SECONDS, ListenOptions, run_listen

    silence = DEFAULT_NO_SPEECH_SECONDS if args.silence_seconds is None else args.silence_seconds
    if silence <= 0:
        raise InputError(f"--silence-seconds: must be more than 0, got {args.silence_seconds}")
    options = ListenOptions(
        input=Path(args.input) if args.input else None,
        output_dir=Path(args.output_dir) if args.output_dir else None,
        model=args.model,
        caller=args.caller,
        device=args.device,
        no_speech_seconds=silence,
    )
    if options.output_dir is not None and options.output_dir.exists() and not options.output_dir.is_dir():
        raise InputError(f"--output-dir: {options.output_dir} is a file, not a folder")
    return run_listen(settings, options, sys.stdout)


def run_model_list(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.voice.models import CATALOG, DEFAULT_MODEL, installed_models, models_dir

    installed = set(installed_models(settings))
    width = max(len(spec.name) for spec in CATALOG)
    for spec in CATALOG:
        marks = [m for m, on in (("default", spec.name == DEFAULT_MODEL), ("installed", spec.name in installed)) if on]
        note = f" [{', '.join(marks)}]" if marks else ""
        print(f"{spec.name:<{width}}  {spec.size_text:>7}  {spec.description}{note}")
    for name in sorted(installed - {spec.name for spec in CATALOG}):
        print(f"{name:<{width}}  {'':>7}  (installed)")
    print(f"\nModels folder: {models_dir(settings)}")
    return 0


def run_model_download(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.voice.download import download_model
    from frontdoor.voice.models import CATALOG, DEFAULT_MODEL, base_url, find_spec, models_dir

    name = args.name or DEFAULT_MODEL
    spec = find_spec(name)
    if spec is None:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(s.name for s in CATALOG)}")
    if args.sha256 is not None and (len(args.sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in args.sha256)):
        raise InputError("--sha256: expected 64 hexadecimal digits")
    target = download_model(spec, models_dir(settings), base_url=base_url(), progress=sys.stderr, sha256=args.sha256)
    print(f"{spec.name} is installed in {target}")
    return 0
