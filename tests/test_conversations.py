"""Scripted calls (``tests/conversations/*.yaml``) through the real engine and model: every expectation of every turn."""

from __future__ import annotations

import pytest

from conversation_scripts import ScriptedCall, run_call, scripted_calls

CALLS = scripted_calls()


def test_there_are_enough_scripted_calls_to_cover_the_dialogue() -> None:
    assert len(CALLS) >= 120
    assert len({call.name for call in CALLS}) == len(CALLS), "every scripted call has its own name"


KNOWN_FAILURES = "known_failures.yaml"
"""Calls that state what the product must do and fail today: expected to fail, and a pass is reported so the call moves to its themed file."""


@pytest.mark.parametrize(
    "call",
    [pytest.param(call, marks=pytest.mark.xfail(strict=True, reason="known failure")) if call.source.startswith(KNOWN_FAILURES) else call for call in CALLS],
    ids=[call.name for call in CALLS],
)
def test_scripted_call(call: ScriptedCall) -> None:
    failures = run_call(call)
    assert not failures, f"{call.source}: " + "\n".join(failures)
