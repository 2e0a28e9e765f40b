"""Time to a person on the phone line: whole calls through the real app, timed as a caller lives them.

Run: ``python3 benchmarks/bench_time_to_person.py [--calls 10] [--modes conference,dial]``.

gunicorn serves ``frontdoor.web:create_app()`` (production config, fresh SQLite database, the shipped
incidents and directory, two agents, signed webhooks, Twilio's REST API pointed at the stand-in from
``tests/twilio_sim.py`` in this process) once per transfer mode. Each call is driven by the Twilio
simulator in virtual time: every ``<Say>`` lasts its words at 150 a minute, the caller says "agent"
as soon as the greeting lets them, agents ring 6 s before they answer (or never, and ring out after
``twilio.dial_timeout_seconds``), every webhook's real answer time is added as silence. Per scenario:

- time to a person: from the end of the caller's request to the moment they are connected with an
  agent (conference started, or ``<Dial>`` bridged), median and worst over the calls;
- the longest silence the caller hears in that time;
- what the time is made of: the whisper the agent hears first (words, seconds).

And the greeting: seconds until the caller can speak (words / 150 a minute), with the shipped major
incident in it and with no incident active.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from serving import PUBLIC, free_port, frontdoor_environment, gunicorn_command, serving

from frontdoor.storage.database import Database
from twilio_sim import ACCOUNT_SID, Agent, HttpTransport, SimulatedCall, TwilioApiServer, TwilioSimulator, speech_seconds

AGENT_1, AGENT_2 = "+15550002001", "+15550002002"
FROM_NUMBER = "+15550001000"
CALLERS = tuple(f"+155512300{n:02d}" for n in range(1, 11)) + ("+15557770101", "+15557770102")
RING_SECONDS = 6.0
SCENARIOS: dict[str, tuple[dict[str, Agent], float]] = {
    "first agent answers": ({AGENT_1: Agent(ring_seconds=RING_SECONDS), AGENT_2: Agent(ring_seconds=RING_SECONDS)}, 15.0),
    "first rings out, second answers": ({AGENT_1: Agent("no-answer"), AGENT_2: Agent(ring_seconds=RING_SECONDS)}, 32.0),
}
GREETING_LIMIT = 8.0
SILENCE_LIMIT = 2.0
SHORT_WHISPER_WORDS = 20


@dataclass(frozen=True)
class Timed:
    """One call as the caller lived it."""

    greeting_words: int
    greeting_seconds: float
    to_person: float
    silence: float
    whisper_words: int
    error: str = ""


def one_call(server: str, api: TwilioApiServer, caller: str, agents: dict[str, Agent], request: str = "agent") -> Timed:
    twilio = TwilioSimulator(HttpTransport(server), api.auth_token, PUBLIC, agents=agents, api=api, count_latency=True)
    call = twilio.call(caller)
    greeting = call.heard[0]
    greeting_seconds = call.waiting.ready_at if call.waiting is not None else 0.0
    if not request:
        call.hang_up()
        return Timed(len(greeting.split()), greeting_seconds, 0.0, 0.0, 0)
    call.say(request)
    return timed(call, greeting, greeting_seconds)


def timed(call: SimulatedCall, greeting: str, greeting_seconds: float) -> Timed:
    if call.bridged_at is None or not call.agent_heard:
        return Timed(len(greeting.split()), greeting_seconds, 0.0, 0.0, 0, f"{call.caller}: never reached a person ({call.transcript[-120:]})")
    asked = call.spoke[-1][1]
    whisper = call.agent_heard[-1]
    return Timed(len(greeting.split()), greeting_seconds, call.bridged_at - asked, call.longest_silence(asked, call.bridged_at), len(whisper.split()))


def serve(folder: Path, api: TwilioApiServer, mode: str, incidents: Path | None = None) -> AbstractContextManager[str]:
    database_url = f"sqlite:///{folder / 'frontdoor.db'}"
    folder.mkdir(parents=True, exist_ok=True)
    Database(database_url).dispose()
    environment = frontdoor_environment(
        folder, database_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=api.auth_token, TWILIO_FROM_NUMBER=FROM_NUMBER,
        FRONTDOOR_AGENTS=f"{AGENT_1},{AGENT_2}", FRONTDOOR_TWILIO_API_BASE_URL=api.base_url, FRONTDOOR_TWILIO_TRANSFER_MODE=mode,
        **({"FRONTDOOR_INCIDENTS_FILE": str(incidents)} if incidents else {}),
    )
    command = gunicorn_command("frontdoor.web:create_app()", free_port(), 2, 1, ["--config", "python:frontdoor.gunicorn_config"])
    return serving(command, environment, "/healthz", folder / "frontdoor.log")


def report(mode: str, scenario: str, results: list[Timed], target: float) -> tuple[bool, bool]:
    """Print one mode and scenario; whether the time target and the silence target were met."""
    good = [result for result in results if not result.error]
    for result in results:
        if result.error:
            print(f"  failure: {result.error}")
    if not good:
        return False, False
    times = [result.to_person for result in good]
    median, worst = statistics.median(times), max(times)
    silence = max(result.silence for result in good)
    words = sorted(result.whisper_words for result in good)
    whisper_seconds = statistics.median(speech_seconds("w " * n) for n in words)
    shorter = median - whisper_seconds + speech_seconds("w " * SHORT_WHISPER_WORDS)
    verdict = "met" if median <= target else "MISSED"
    print(f"{mode:<11} {scenario:<33} {len(good):>5} {median:>7.1f} s {worst:>6.1f} s  <= {target:.0f} s {verdict:<7}"
          f"{silence:>6.1f} s   {words[0]}-{words[-1]} words ({whisper_seconds:.1f} s); with {SHORT_WHISPER_WORDS}: {shorter:.1f} s")
    return median <= target and len(good) == len(results), silence <= SILENCE_LIMIT


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="calls per mode and scenario (default 10)")
    parser.add_argument("--modes", default="conference,dial", help="transfer modes to measure (default conference,dial)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-time-to-person-"))
    api = TwilioApiServer(auth_token="bench-auth-token").start()
    print(f"virtual time: speech at 150 words a minute, agents ring {RING_SECONDS:.0f} s, a ringing-out agent rings for "
          f"twilio.dial_timeout_seconds; webhooks answered by gunicorn (2 workers) on 127.0.0.1, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'mode':<11} {'scenario':<33} {'calls':>5} {'median':>9} {'worst':>8}  {'target':<14}{'silence':>8}   whisper the agent hears first")
    times_ok = silences_ok = True
    try:
        for mode in args.modes.split(","):
            with serve(folder / mode, api, mode) as server:
                for scenario, (agents, target) in SCENARIOS.items():
                    results = [one_call(server, api, CALLERS[n % len(CALLERS)], agents) for n in range(args.calls)]
                    time_ok, silence_ok = report(mode, scenario, results, target)
                    times_ok, silences_ok = times_ok and time_ok, silences_ok and silence_ok
        greetings = []
        quiet = folder / "no-incidents.yaml"
        quiet.write_text("incidents: []\n", encoding="utf-8")
        for label, incidents in (("with the shipped major incident", None), ("with no incident active", quiet)):
            with serve(folder / label.replace(" ", "-"), api, "dial", incidents) as server:
                timed_calls = [one_call(server, api, caller, {}, request="") for caller in CALLERS]
            longest = max(timed_calls, key=lambda each: each.greeting_seconds)
            greetings.append(longest.greeting_seconds)
            print(f"greeting {label}: up to {longest.greeting_seconds:.1f} s ({longest.greeting_words} words) before the caller can speak")
        greeting_ok = greetings[-1] <= GREETING_LIMIT
        print(f"targets: time to a person (above): {'met' if times_ok else 'MISSED'}; silence <= {SILENCE_LIMIT:.0f} s: "
              f"{'met' if silences_ok else 'MISSED'}; greeting <= {GREETING_LIMIT:.0f} s without an incident: {'met' if greeting_ok else 'MISSED'}")
        return 0 if times_ok and silences_ok and greeting_ok else 1
    finally:
        api.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
