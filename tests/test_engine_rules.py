"""The conversation rules callers can count on, driven through CallService on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from frontdoor.calls import CallService
from frontdoor.conversation.model import Action, CallerTurn, Decision, Expecting
from frontdoor.storage.schema import (
    CallRecord,
    DecisionRecord,
    EvidenceRecord,
    HandoffRecord,
    SubscriptionRecord,
    SurveyAnswer,
    TurnRecord,
)

KNOWN = "+15551230001"  # Dana Whitfield in config/directory.yaml
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def service(settings) -> CallService:  # type: ignore[no-untyped-def]
    return CallService.from_settings(settings, clock=lambda: NOON)


def say(service: CallService, call_id: str, text: str = "", **kwargs) -> Decision:  # type: ignore[no-untyped-def]
    return service.take_turn(call_id, CallerTurn(text=text, **kwargs))


def test_known_caller_is_greeted_by_name_and_never_asked_who_they_are(service: CallService) -> None:
    greeting = service.start_call(channel="text", caller_number=KNOWN)
    assert greeting.action is Action.LISTEN
    assert greeting.say.startswith("Hi Dana")
    replies = [greeting.say]
    for text in ["hello", "is email down", "no thanks", "thanks"]:
        replies.append(say(service, greeting.call_id, text).say)
    for reply in replies:
        assert "your name" not in reply.lower() and "who am i speaking" not in reply.lower()


def test_greeting_mentions_a_major_incident_first(service: CallService) -> None:
    greeting = service.start_call(channel="text", caller_number=None)
    assert "heads-up" in greeting.say.lower()
    assert "2:30 PM" in greeting.say


@pytest.mark.parametrize(
    "text",
    [
        "let me talk to a person",
        "agent",
        "i want a real person",
        "representative",
        "operator",
        "can i speak to a human please",
    ],
)
def test_explicit_request_for_a_person_hands_off_on_that_turn(service: CallService, text: str) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    decision = say(service, call.call_id, text)
    assert decision.action is Action.HANDOFF
    assert decision.reason == "human_request"
    assert decision.turn == 0
    assert decision.summary is not None and decision.summary.caller.name == "Dana Whitfield"


def test_keypad_zero_hands_off_at_once_even_mid_conversation(service: CallService) -> None:
    call = service.start_call(channel="phone", caller_number=KNOWN)
    say(service, call.call_id, "is the v p n down")
    decision = say(service, call.call_id, digits="0")
    assert (decision.action, decision.reason, decision.turn) == (Action.HANDOFF, "human_request", 1)
    assert any(item.kind == "keypad" for item in decision.evidence)


def test_silence_gets_one_reprompt_then_a_person(service: CallService) -> None:
    call = service.start_call(channel="phone", caller_number=KNOWN)
    first = say(service, call.call_id, "")
    assert first.action is Action.LISTEN
    assert "still here" in first.say.lower()
    second = say(service, call.call_id, "")
    assert (second.action, second.reason) == (Action.HANDOFF, "no_progress")


def test_misunderstanding_gets_one_reprompt_then_a_person(service: CallService) -> None:
    call = service.start_call(channel="phone", caller_number=KNOWN)
    first = say(service, call.call_id, "mumble grumble", confidence=0.1)
    assert first.action is Action.LISTEN and "didn't catch" in first.say
    second = say(service, call.call_id, "frabble the wozzle", confidence=0.12)
    assert (second.action, second.reason) == (Action.HANDOFF, "no_progress")


def test_reprompt_is_shared_between_silence_and_misunderstanding(service: CallService) -> None:
    call = service.start_call(channel="phone", caller_number=KNOWN)
    assert say(service, call.call_id, "").action is Action.LISTEN
    assert say(service, call.call_id, "uh the thing", confidence=0.05).action is Action.HANDOFF


def test_incident_question_gets_status_eta_workaround_and_both_offers(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    decision = say(service, call.call_id, "is email down")
    assert decision.action is Action.LISTEN
    assert "2:30 PM" in decision.say
    assert "outlook on the web" in decision.say.lower()
    assert "text message when it's fixed" in decision.say
    assert "person" in decision.say
    assert decision.expecting is Expecting.YES_NO


def test_yes_to_the_text_offer_subscribes_the_callers_number(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "is out look down")
    decision = say(service, call.call_id, "yes please")
    assert "ending in 0001" in decision.say
    with service.database.session() as session:
        rows = session.scalars(select(SubscriptionRecord)).all()
    assert [(row.incident_id, row.phone_number, row.call_id) for row in rows] == [("INC-1042", KNOWN, call.call_id)]


def test_problem_without_a_known_incident_gets_one_question_then_a_person_offered(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    asked = say(service, call.call_id, "the printer on the fourth floor isn't working")
    assert asked.action is Action.LISTEN and asked.policy == "problem" and asked.say.endswith("?") and "person" not in asked.say
    decision = say(service, call.call_id, "it shows a red light and nothing comes out")
    assert decision.action is Action.LISTEN
    assert "connect you to a person" in decision.say
    for phrase in ("system says", "working fine", "no problem with", "otherwise"):
        assert phrase not in decision.say.lower()
    accepted = say(service, call.call_id, "yes please")
    assert (accepted.action, accepted.reason) == (Action.HANDOFF, "human_request")


def test_no_question_is_asked_twice(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    replies = [call.say]
    for text in ["is email down", "no", "what about the printer it isn't printing", "no", "ok", "hmm"]:
        decision = say(service, call.call_id, text)
        replies.append(decision.say)
        if decision.action is not Action.LISTEN:
            break
    questions = [sentence.strip() for reply in replies for sentence in reply.split(". ") if sentence.strip().endswith("?")]
    assert len(questions) == len(set(questions)), questions


def test_turn_budget_offers_a_person_then_connects_at_twice_the_budget(settings_for, database_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(f'[database]\nurl = "{database_url}"\n[conversation]\nautomated_turn_budget = 3\n')
    service = CallService.from_settings(settings, clock=lambda: NOON)
    call = service.start_call(channel="text", caller_number=KNOWN)
    texts = ["how do i clear my browser cache", "and the cookies", "how do i set an out of office reply", "and how do i add a printer",
             "how do i get email on my phone", "how do i change my teams picture", "and how do i share a calendar"]
    decisions = [say(service, call.call_id, text) for text in texts]
    assert [d.action for d in decisions] == [Action.LISTEN] * 6 + [Action.HANDOFF]
    assert "connect you" in decisions[2].say and "connect you" not in decisions[1].say
    assert decisions[6].reason == "no_progress"


def test_helped_caller_is_offered_the_survey_and_the_answer_is_stored(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "how do i set an out of office reply")
    survey = say(service, call.call_id, "got it thanks")
    assert survey.expecting is Expecting.SURVEY and "one to five" in survey.say
    end = say(service, call.call_id, "", digits="4")
    assert end.action is Action.END
    with service.database.session() as session:
        answer = session.scalars(select(SurveyAnswer)).one()
        record = session.get(CallRecord, call.call_id)
    assert (answer.score, answer.request_type, answer.call_id) == (4, "how_to", call.call_id)
    assert record.outcome == "helped" and record.ended_at is not None


def test_every_turn_decision_evidence_and_handoff_is_recorded(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "is the v p n down")
    handoff = say(service, call.call_id, "this is ridiculous just get me a person")
    with service.database.session() as session:
        turns = session.scalars(select(TurnRecord).where(TurnRecord.call_id == call.call_id).order_by(TurnRecord.id)).all()
        decisions = session.scalars(select(DecisionRecord).where(DecisionRecord.call_id == call.call_id)).all()
        evidence = session.scalars(select(EvidenceRecord).where(EvidenceRecord.call_id == call.call_id)).all()
        record = session.scalars(select(HandoffRecord).where(HandoffRecord.call_id == call.call_id)).one()
    assert [(t.speaker, t.turn) for t in turns] == [("assistant", -1), ("caller", 0), ("assistant", 0), ("caller", 1), ("assistant", 1)]
    assert [d.action for d in sorted(decisions, key=lambda d: d.turn)] == ["listen", "handoff"]
    assert any(e.signal == "human_request" and e.turn == 1 for e in evidence)
    assert record.reason == handoff.reason == "human_request"
    assert record.summary["caller"]["name"] == "Dana Whitfield"


def test_card_numbers_and_passwords_never_reach_the_records(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "my password is hunter2 and my card is 4111 1111 1111 1111 get me an agent")
    with service.database.session() as session:
        texts = " ".join(t.text for t in session.scalars(select(TurnRecord)).all())
        summary = str(session.scalars(select(HandoffRecord)).one().summary)
        state = str(session.get(CallRecord, call.call_id).state)
    for secret in ("hunter2", "4111"):
        assert secret not in texts and secret not in summary and secret not in state


def test_an_exception_inside_the_engine_hands_off_with_an_apology(service: CallService, monkeypatch: pytest.MonkeyPatch) -> None:
    call = service.start_call(channel="phone", caller_number=KNOWN)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(service.engine, "respond", broken)
    decision = say(service, call.call_id, "is email down")
    assert (decision.action, decision.reason) == (Action.HANDOFF, "failure")
    assert "sorry" in decision.say.lower() and "person" in decision.say
    assert service.calls.handoff(call.call_id).reason == "failure"


def test_a_database_that_is_down_still_gets_the_caller_to_a_person(service: CallService, cut_off_database) -> None:  # type: ignore[no-untyped-def]
    call = service.start_call(channel="phone", caller_number=KNOWN)
    cut_off_database(service)
    decision = say(service, call.call_id, "is email down")
    assert (decision.action, decision.reason) == (Action.HANDOFF, "failure")
    assert "sorry" in decision.say.lower() and "person" in decision.say
    assert decision.summary is not None


@pytest.mark.parametrize("text", ["no, outlook on the web isn't loading either", "thanks but it's still not working"])
def test_a_no_or_thanks_that_carries_a_new_problem_is_not_taken_as_goodbye(service: CallService, text: str) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "is email down")
    decision = say(service, call.call_id, text)
    assert decision.action is not Action.END
    assert "satisf" not in decision.say and "person" in decision.say


def test_a_clear_question_is_answered_not_reprompted(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    first = say(service, call.call_id, "when does tonight's maintenance window start")
    assert first.action is Action.LISTEN and "didn't catch" not in first.say and "11:50 PM" in first.say
    second = say(service, call.call_id, "and how long does it last")
    assert second.action is Action.LISTEN and "didn't catch" not in second.say
    assert say(service, call.call_id, "okay thanks a lot").action is not Action.HANDOFF


def test_okay_with_a_statement_is_not_a_yes_to_a_person(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    say(service, call.call_id, "is share point down or just slow")
    decision = say(service, call.call_id, "okay it's being looked at")
    assert decision.action is Action.LISTEN


def test_a_broken_thing_is_not_answered_with_how_to_order_one(service: CallService) -> None:
    call = service.start_call(channel="text", caller_number=KNOWN)
    decision = say(service, call.call_id, "it's not urgent but my second monitor flickers sometimes")
    assert "Hardware request" not in decision.say and decision.policy == "problem"
    assert "Hardware request" in say(service, service.start_call(channel="text", caller_number=KNOWN).call_id, "can i get a second monitor").say
