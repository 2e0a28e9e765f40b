"""Scripted calls: YAML files under ``tests/conversations/``, run turn by turn through the real engine.

Each file holds a list of calls::

    - name: a request for a person is honoured at once
      caller: "+15551230001"          # optional; the demo directory's numbers are known employees
      turns:
        - say: "let me talk to a person"
          expect:
            action: handoff           # listen | handoff | end
            reason: human_request     # for a handoff
            policy: signal_handoff    # the dialogue policy that decided
            reply_has: ["connecting you"]       # every phrase in the reply (case-insensitive)
            reply_lacks: ["goodbye"]            # none of these in the reply
            effects: [subscribe]      # effects of the turn: subscribe, callback, survey (exactly these)
      summary:                        # the handoff's warm-transfer summary
        whisper_max_words: 20
        whisper_has: ["Asked for a person"]
        issue_has: ["payroll"]
        system: Workday
        deadline_has: ["5 pm"]
        tried_has: ["restarted"]
        caller_state: frustrated

The engine runs on the shipped settings and incidents at a fixed time (``NOW``: the demo email
incident is in effect, the Teams maintenance not yet), so replies do not depend on the clock.
A check that fails says which turn and what was expected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from frontdoor.calls import build_engine
from frontdoor.conversation.engine import ConversationEngine
from frontdoor.conversation.model import Action, BookCallback, CallerTurn, RecordSurvey, Subscribe
from frontdoor.conversation.state import CallState
from frontdoor.directory import load_directory, normalise_number
from frontdoor.handoff.summary import CallerCard
from frontdoor.incidents.board import IncidentBoard
from frontdoor.settings import load_settings

FOLDER = Path(__file__).resolve().parent / "conversations"
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=timezone.utc)
_EFFECTS = {Subscribe: "subscribe", BookCallback: "callback", RecordSurvey: "survey"}
_TURN_KEYS = {"action", "reason", "policy", "reply_has", "reply_lacks", "effects"}
_SUMMARY_KEYS = {"whisper_max_words", "whisper_has", "whisper_lacks", "issue_has", "system", "deadline_has", "impact_has", "tried_has", "caller_state"}


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    source: str
    turns: tuple[dict[str, Any], ...]
    caller: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def scripted_calls(folder: Path = FOLDER) -> list[ScriptedCall]:
    calls = []
    for path in sorted(folder.glob("*.yaml")):
        for index, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            where = f"{path.name}[{index}]"
            unknown = set(item) - {"name", "caller", "turns", "summary"}
            assert not unknown, f"{where}: unknown keys {unknown}"
            for turn in item["turns"]:
                assert set(turn) <= {"say", "digits", "expect"}, f"{where}: unknown turn keys {set(turn)}"
                assert set(turn.get("expect", {})) <= _TURN_KEYS, f"{where}: unknown expectations {set(turn['expect']) - _TURN_KEYS}"
            assert set(item.get("summary", {})) <= _SUMMARY_KEYS, f"{where}: unknown summary checks"
            calls.append(ScriptedCall(item["name"], where, tuple(item["turns"]), item.get("caller"), item.get("summary", {})))
    return calls


@cache
def engine() -> ConversationEngine:
    settings = load_settings(None, {})
    return build_engine(settings, IncidentBoard.from_settings(settings, None, clock=lambda: NOW))


def run_call(call: ScriptedCall) -> list[str]:
    """Play ``call`` through the engine; the list of failed expectations (empty when it passes)."""
    eng = engine()
    settings = load_settings(None, {})
    number = normalise_number(call.caller)
    employee = load_directory(settings.directory_file).lookup(number)
    card = CallerCard(number, employee.name if employee else None, employee.department if employee else None, employee.vip if employee else False)
    outcome = eng.greet(CallState(call_id=uuid.uuid4().hex, channel="test", caller=card, started_at=NOW))
    failures: list[str] = []
    for number_, turn in enumerate(call.turns, 1):
        if outcome.decision.action is not Action.LISTEN:
            failures.append(f"turn {number_}: the call was already over ({outcome.decision.action.value})")
            break
        heard = CallerTurn(text=str(turn.get("say", "")), digits=str(turn.get("digits", "")))
        outcome = eng.respond(outcome.state, heard, NOW)
        failures.extend(f"turn {number_} ({turn.get('say', '')!r} -> {outcome.decision.say!r}): {problem}" for problem in _check_turn(turn.get("expect", {}), outcome))
    summary = outcome.decision.summary
    if call.summary:
        if summary is None:
            failures.append("summary: the call was not handed off")
        else:
            failures.extend(f"summary: {problem}" for problem in _check_summary(call.summary, summary))
    return failures


def _check_turn(expect: dict[str, Any], outcome: Any) -> list[str]:
    decision = outcome.decision
    problems = []
    if "action" in expect and decision.action.value != expect["action"]:
        problems.append(f"action {decision.action.value}, expected {expect['action']}")
    if "reason" in expect and decision.reason != expect["reason"]:
        problems.append(f"reason {decision.reason}, expected {expect['reason']}")
    if "policy" in expect and decision.policy != expect["policy"]:
        problems.append(f"policy {decision.policy}, expected {expect['policy']}")
    said = decision.say.lower()
    problems.extend(f"reply lacks {p!r}" for p in expect.get("reply_has", []) if p.lower() not in said)
    problems.extend(f"reply has {p!r}" for p in expect.get("reply_lacks", []) if p.lower() in said)
    if "effects" in expect:
        got = sorted(_EFFECTS[type(e)] for e in outcome.effects)
        if got != sorted(expect["effects"]):
            problems.append(f"effects {got}, expected {sorted(expect['effects'])}")
    return problems


def _check_summary(expect: dict[str, Any], summary: Any) -> list[str]:
    problems = []
    whisper = summary.whisper()
    if "whisper_max_words" in expect and len(whisper.split()) > expect["whisper_max_words"]:
        problems.append(f"whisper has {len(whisper.split())} words (max {expect['whisper_max_words']}): {whisper!r}")
    for key, text in (("whisper", whisper), ("issue", summary.issue), ("deadline", summary.deadline or ""), ("impact", summary.impact or ""), ("tried", " / ".join(summary.tried))):
        problems.extend(f"{key} lacks {p!r}: {text!r}" for p in expect.get(f"{key}_has", []) if p.lower() not in text.lower())
    problems.extend(f"whisper has {p!r}: {whisper!r}" for p in expect.get("whisper_lacks", []) if p.lower() in whisper.lower())
    if "system" in expect and (summary.system or "").lower() != str(expect["system"]).lower():
        problems.append(f"system {summary.system!r}, expected {expect['system']!r}")
    if "caller_state" in expect and summary.caller_state != expect["caller_state"]:
        problems.append(f"caller state {summary.caller_state!r}, expected {expect['caller_state']!r}")
    return problems
