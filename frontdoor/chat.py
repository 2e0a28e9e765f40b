"""``frontdoor chat``: the typed text channel. Type as the caller, read the replies."""

from __future__ import annotations

from typing import IO

from frontdoor.calls import CallService
from frontdoor.conversation.language import clean_text
from frontdoor.conversation.model import Action, CallerTurn, Decision
from frontdoor.handoff.redaction import redact
from frontdoor.settings import Settings


def run_chat(settings: Settings, caller: str | None, source: IO[str], out: IO[str]) -> int:
    service = CallService.from_settings(settings)
    interactive = source.isatty()
    decision = service.start_call(channel="text", caller_number=caller)
    _show(out, decision)
    if interactive:
        out.write("(type your request; an empty line counts as silence; Ctrl-D hangs up)\n")
    while decision.action is Action.LISTEN:
        if interactive:
            out.write("you> ")
            out.flush()
        line = source.readline()
        if not line:
            service.end_call(decision.call_id, outcome="hung_up")
            out.write("(caller hung up)\n")
            break
        text = clean_text(line)
        if not interactive:
            out.write(f"you> {redact(text)}\n")
        digits = text if text.isdigit() else ""
        decision = service.take_turn(decision.call_id, CallerTurn(text="" if digits else text, digits=digits), channel="text", caller_number=caller)
        _show(out, decision)
    if decision.action is Action.HANDOFF and decision.summary is not None:
        out.write("\n--- warm-transfer summary for the agent ---\n")
        out.write(decision.summary.to_markdown().rstrip() + "\n")
        out.write(f"\nWhisper: {decision.summary.whisper()}\n")
    service.notifier.flush()
    out.flush()
    return 0


def _show(out: IO[str], decision: Decision) -> None:
    out.write(f"frontdoor> {decision.say}\n")
    out.flush()
