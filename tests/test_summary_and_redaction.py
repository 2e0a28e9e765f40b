"""Warm-transfer summaries and redaction of spoken secrets."""

from __future__ import annotations

import pytest

from frontdoor.handoff.redaction import redact
from frontdoor.handoff.signals import Assessment, Evidence, Scores
from frontdoor.handoff.summary import CallerCard, IncidentNote, WarmTransferSummary, build_summary

DANA = CallerCard("+15551230001", "Dana Whitfield", "Finance", False)


def _assessment(turn: int, frustration: float, urgency: float, *evidence: Evidence, distress: bool = False) -> Assessment:
    return Assessment(turn, Scores(0, frustration, urgency), Scores(0, frustration, urgency), tuple(evidence), distress=distress)


def _summary(**overrides: object) -> WarmTransferSummary:
    said = Evidence("frustration", "wording", '"this is the third time I call"', 0.8, 1)
    values = dict(
        call_id="c1", caller=DANA,
        caller_turns=["hi", "my outlook hasn't received anything since nine and payroll closes at noon", "this is the third time I call"],
        assistant_replies=["Email is delayed; fix expected by 2:30 PM."],
        assessments=[_assessment(0, 0, 0), _assessment(1, 0.4, 0.6), _assessment(2, 1.2, 0.6, said)],
        reason="frustration", evidence=(said,),
        incident=IncidentNote("INC-1042", "Email delivery delayed", "identified", "2:30 PM"),
        seconds_on_line=95.0, known_facts={"problem": "Email delivery delayed"},
    )
    values.update(overrides)
    return build_summary(**values)  # type: ignore[arg-type]


def test_summary_holds_everything_the_agent_needs() -> None:
    summary = _summary()
    assert summary.caller == DANA
    assert "payroll closes at noon" in summary.issue
    assert summary.incident is not None and summary.incident.id == "INC-1042"
    assert summary.told == ("Email is delayed; fix expected by 2:30 PM.",)
    assert [(p.turn, p.frustration) for p in summary.trajectory] == [(0, 0), (1, 0.4), (2, 1.2)]
    assert any("Dana Whitfield" in item for item in summary.do_not_ask)
    assert any("INC-1042" in item for item in summary.do_not_ask)


def test_whisper_puts_the_most_important_first_within_forty_words_and_no_filler() -> None:
    whisper = _summary().whisper()
    assert whisper.startswith("Frustrated caller: Dana Whitfield, Finance.")
    assert len(whisper.split()) <= 40
    assert "INC-1042" in whisper and "payroll closes at noon" in whisper
    for filler in ("Not stated", "in their words", "On the line"):
        assert filler not in whisper
    long = _summary(caller_turns=["word " * 80], evidence=(Evidence("frustration", "wording", '"' + "very " * 40 + '"', 1, 0),))
    assert len(long.whisper().split()) <= 40 and long.whisper().startswith("Frustrated caller")


def test_whisper_flags_vip_security_and_distress() -> None:
    vip = CallerCard("+15551230004", "Elena Kowalczyk", "Executive Office", True)
    security = Assessment(0, Scores(0, 0, 1.5), Scores(0, 0, 1.5), (), security=True)
    summary = _summary(caller=vip, assessments=[security], reason="urgency", evidence=())
    assert summary.whisper().startswith("Security emergency: Elena Kowalczyk, Executive Office, VIP.")
    sad = _summary(assessments=[_assessment(0, 1.0, 0, distress=True)])
    assert "distressed" in sad.whisper()


def test_unknown_caller_and_no_stated_issue() -> None:
    summary = _summary(caller=CallerCard("+15559990000", None, None), caller_turns=["agent please"], reason="human_request", evidence=(),
                       known_facts={}, assessments=[], incident=None)
    whisper = summary.whisper()
    assert whisper == "Asked for a person: Unknown caller, calling from +15559990000. No details yet."
    assert summary.issue == "" and ("Issue (in their words)", "not stated") in summary.fields()


def test_round_trip_through_json_and_markdown() -> None:
    summary = _summary()
    data = summary.to_dict()
    assert data["whisper"] == summary.whisper()
    assert WarmTransferSummary.from_dict(data) == summary
    markdown = summary.to_markdown()
    assert "**Frustrated caller**" in markdown and "INC-1042" in markdown and "Don't ask again" in markdown


@pytest.mark.parametrize(
    ("said", "secret"),
    [
        ("my card number is 4111 1111 1111 1111", "4111"),
        ("card 4111-1111-1111-1111 expires soon", "4111"),
        ("my password is Summer2024!", "Summer2024"),
        ("password: hunter2", "hunter2"),
        ("the code they sent is 482917", "482917"),
        ("the one time code is four eight two nine one seven", "four eight two"),
        ("my pin is 1234", "1234"),
    ],
)
def test_spoken_secrets_are_redacted(said: str, secret: str) -> None:
    redacted = redact(said)
    assert secret not in redacted and "[redacted]" in redacted


@pytest.mark.parametrize(
    "said",
    ["I reset my password yesterday", "my password is wrong apparently", "the error code is weird", "my password expired", "room 401 on floor 3"],
)
def test_ordinary_speech_is_left_alone(said: str) -> None:
    assert redact(said) == said
