"""``frontdoor assess``: run conversations from JSON lines through the real engine, one result per line.

Input lines: ``{"id": ..., "caller": "+1...", "turns": ["...", ...]}`` (other fields are ignored).
Each conversation starts from a fresh call state and stops at the first handoff. Calls are not
stored, and incidents come from the incident file and feed only, so results do not depend on what
the local database holds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import IO, Any, BinaryIO, Iterator

from frontdoor.calls import build_engine, utcnow
from frontdoor.conversation.engine import ConversationEngine
from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.conversation.state import CallState
from frontdoor.directory import EmployeeDirectory, load_directory, normalise_number
from frontdoor.errors import InputError
from frontdoor.incidents.board import IncidentBoard
from frontdoor.settings import Settings
from frontdoor.handoff.summary import CallerCard

MAX_LINE_BYTES = 1_000_000
MAX_TURNS = 200
MAX_TURN_CHARS = 5_000


def read_lines(source: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines, each read with bounded memory; ``None`` stands for a line over the limit."""
    number = 0
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = source.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, raw.rstrip(b"\r\n")


def parse_conversation(raw: bytes | None) -> tuple[str | int, str | None, list[str]]:
    """Validate one input line; raise ``InputError`` saying what is wrong."""
    if raw is None:
        raise InputError(f"line is longer than {MAX_LINE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object with id, caller and turns")
    conversation_id = data.get("id")
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, (str, int)) or str(conversation_id) == "":
        raise InputError("'id' must be a non-empty string or number")
    caller = data.get("caller")
    if caller is not None and not isinstance(caller, str):
        raise InputError("'caller' must be a phone number string or null")
    turns = data.get("turns")
    if not isinstance(turns, list) or not all(isinstance(turn, str) for turn in turns):
        raise InputError("'turns' must be a list of strings")
    if not turns:
        raise InputError("'turns' is empty")
    if len(turns) > MAX_TURNS:
        raise InputError(f"more than {MAX_TURNS} turns")
    if any(len(turn) > MAX_TURN_CHARS for turn in turns):
        raise InputError(f"a turn is longer than {MAX_TURN_CHARS:,} characters")
    return conversation_id, caller, turns


def assess_conversation(
    engine: ConversationEngine, directory: EmployeeDirectory, conversation_id: Any, caller: str | None, turns: list[str]
) -> dict[str, Any]:
    number = normalise_number(caller)
    employee = directory.lookup(number)
    card = CallerCard(
        number=number,
        name=employee.name if employee else None,
        department=employee.department if employee else None,
        vip=employee.vip if employee else False,
    )
    state = CallState(call_id=uuid.uuid4().hex, channel="assess", caller=card, started_at=utcnow())
    outcome = engine.greet(state)
    replies = [outcome.decision.say]
    for text in turns:
        outcome = engine.respond(outcome.state, CallerTurn(text=text), utcnow())
        replies.append(outcome.decision.say)
        if outcome.decision.action is Action.HANDOFF:
            break
    decision = outcome.decision
    handed_off = decision.action is Action.HANDOFF
    evidence = decision.evidence if handed_off else tuple(e for a in outcome.state.assessments for e in a.evidence)
    return {
        "id": conversation_id,
        "handoff": handed_off,
        "handoff_turn": decision.turn if handed_off else None,
        "reason": decision.reason if handed_off else None,
        "evidence": [asdict(item) for item in evidence],
        "replies": replies,
        "summary": decision.summary.to_dict() if handed_off and decision.summary else None,
    }


def run_assess(settings: Settings, source: BinaryIO, name: str, out: IO[str], err: IO[str]) -> int:
    engine = build_engine(settings, IncidentBoard.from_settings(settings, None))
    directory = load_directory(settings.directory_file)
    failed = processed = 0
    for number, raw in read_lines(source):
        if raw is not None and not raw.strip():
            continue
        try:
            conversation_id, caller, turns = parse_conversation(raw)
        except InputError as exc:
            failed += 1
            print(f"frontdoor: {name}: line {number}: {exc}", file=err)
            continue
        result = assess_conversation(engine, directory, conversation_id, caller, turns)
        out.write(json.dumps(result) + "\n")
        processed += 1
    out.flush()
    if processed == 0 and failed == 0:
        print(f"frontdoor: {name}: no conversations in the input", file=err)
        return 1
    if failed:
        print(f"frontdoor: {name}: {failed} line(s) failed, {processed} processed", file=err)
        return 1
    return 0
