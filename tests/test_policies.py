"""Each dialogue policy on its own (pure functions of the turn's facts), and the order in which they decide."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from frontdoor.answers import Answer
from frontdoor.conversation import policies, replies
from frontdoor.conversation.model import BookCallback, RecordSurvey
from frontdoor.conversation.policies import POLICIES, TurnFacts, decide
from frontdoor.conversation.state import CallState, HeardTurn
from frontdoor.handoff.policy import HandoffVerdict
from frontdoor.handoff.signals import Assessment, Evidence, Scores
from frontdoor.handoff.summary import CallerCard
from frontdoor.incidents.model import Incident
from frontdoor.settings import ConversationSettings

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
DANA = CallerCard("+15551230001", "Dana Whitfield", "Finance")
EMAIL = Incident("INC-1042", "Email delivery delayed", ("email",), status="identified", impact="major")
HOW_TO = Answer("out-of-office", "how_to", (frozenset({"office"}),), "Open File, then Automatic Replies.")
FIX = Answer("password-reset", "account", (frozenset({"password"}),), "Reset it at the self-service portal.")


def facts(
    text: str = "",
    *,
    act: str = "inform",
    sure: bool = True,
    pending: str | None = None,
    digits: str = "",
    asked: tuple[str, ...] = (),
    helped: bool = False,
    caller: CallerCard = DANA,
    index: int = 0,
    verdict: HandoffVerdict = HandoffVerdict(False, None),
    **fields: object,
) -> TurnFacts:
    heard = HeardTurn(index, text, None, digits, silent=not text and not digits)
    state = CallState("c1", "test", caller, NOW, turns=(heard,), asked=asked, helped=helped)
    base = TurnFacts(
        state=state, heard=heard, text=text, pending=pending, assessment=Assessment(index, Scores(), Scores(), act=act),
        verdict=verdict, act=act, act_sure=sure, incident=None, incident_text="", incident_headline="", upcoming=None,
        upcoming_text="", answer=None, service=None, problem=False, first_topic=False, follow_up=False, frustration_floor=0.45,
        rules=ConversationSettings(),
        organisation="IT service desk", now=NOW,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_order_is_the_documented_one_and_every_policy_is_in_it() -> None:
    names = [name for name, _ in POLICIES]
    assert names[:2] == ["keypad_zero", "signal_handoff"] and names[-1] == "acknowledge"
    assert len(set(names)) == len(names)
    for name in names:
        assert f"``{name}``" in policies.__doc__, name


def test_keypad_zero_hands_off_whatever_else_is_going_on() -> None:
    name, step = decide(facts("", digits="0", pending="survey"))
    assert (name, step.kind, step.reason) == ("keypad_zero", "handoff", "human_request")


def test_a_signal_over_its_threshold_hands_off_before_any_other_policy() -> None:
    verdict = HandoffVerdict(True, "urgency", security=True, evidence=(Evidence("security", "model", '"phone stolen"', 1.2, 0),))
    name, step = decide(facts("yes my phone was stolen", act="yes", pending="offer_person", verdict=verdict))
    assert (name, step.reason, step.evidence) == ("signal_handoff", "urgency", verdict.evidence)


@pytest.mark.parametrize(("text", "digits", "kind", "effects"), [("four", "", "end", (RecordSurvey(4, None),)), ("", "5", "end", (RecordSurvey(5, None),)),
                                                                 ("no thanks bye", "", "end", ())])
def test_the_survey_answer_is_recorded_or_the_call_ends(text: str, digits: str, kind: str, effects: tuple) -> None:
    step = policies.survey_answer(facts(text, digits=digits, act="goodbye" if "bye" in text else "inform", pending="survey"))
    assert step is not None and (step.kind, step.effects) == (kind, effects)


def test_silence_gets_one_reprompt_then_a_person() -> None:
    first = policies.silence(facts(""))
    assert first is not None and first.reprompt and first.kind == "say"
    again = facts("")
    again = replace(again, state=replace(again.state, reprompts=1))
    second = policies.silence(again)
    assert second is not None and (second.kind, second.reason) == ("handoff", "no_progress")


def test_a_yes_to_the_offer_of_a_person_connects_for_that_reason() -> None:
    step = policies.accepted_offer(facts("yes please", act="yes", pending="offer_person"))
    assert step is not None and (step.reason, step.evidence[0].kind) == ("human_request", "accepted_offer")


@pytest.mark.parametrize(("text", "act"), [("yes it is a laptop", "inform"), ("yes please text me", "text_me"), ("okay i'll do that from the portal", "goodbye")])
def test_information_or_another_request_is_not_a_yes_to_a_person(text: str, act: str) -> None:
    assert policies.accepted_offer(facts(text, act=act, pending="offer_person")) is None


def test_text_me_subscribes_to_the_incident_told_about() -> None:
    told = facts("can you text me when it's fixed", act="text_me")
    told = replace(told, state=told.state.with_fact("subscribe_incident", "INC-1042"))
    step = policies.text_me(told)
    assert step is not None and step.subscribe_to == "INC-1042" and "0001" in step.say


def test_yes_to_the_text_offer_subscribes_to_the_incident_named_now() -> None:
    step = policies.text_me(facts("yes", act="yes", pending="subscribe", incident=EMAIL))
    assert step is not None and step.subscribe_to == "INC-1042"


def test_text_me_without_an_incident_or_a_number_says_so_and_offers_a_person() -> None:
    nothing = policies.text_me(facts("text me when it's back", act="text_me"))
    assert nothing is not None and nothing.subscribe_to is None and nothing.asking == "offer_person" and nothing.say == replies.nothing_to_text_about()
    unknown = policies.text_me(facts("text me when it's back", act="text_me", incident=EMAIL, caller=CallerCard(None, None, None)))
    assert unknown is not None and unknown.subscribe_to is None and unknown.say == replies.cannot_text_without_number()


def test_text_me_twice_is_not_a_second_subscription() -> None:
    twice = facts("text me", act="text_me", incident=EMAIL)
    twice = replace(twice, state=replace(twice.state, subscriptions=("INC-1042",)))
    step = policies.text_me(twice)
    assert step is not None and step.subscribe_to is None and "already" in step.say


def test_call_me_later_books_a_callback_and_says_when() -> None:
    step = policies.call_me_later(facts("call me back after lunch i'm in a meeting", act="call_me_later"))
    assert step is not None and isinstance(step.effects[0], BookCallback) and step.effects[0].phone_number == DANA.number
    assert "after lunch, as you asked" in step.say and step.kind == "say" and not step.helped and step.fact == ("callback", "after lunch")
    soon = policies.call_me_later(facts("can someone call me back", act="call_me_later"))
    assert soon is not None and "within the hour" in soon.say
    nobody = policies.call_me_later(facts("call me back later", act="call_me_later", caller=CallerCard(None, None, None)))
    assert nobody is not None and not nobody.effects and nobody.asking == "offer_person"


def test_a_no_to_an_offer_is_fine_and_asks_what_else_once() -> None:
    first = policies.declined_offer(facts("no thanks", act="no", pending="offer_person"))
    assert first is not None and first.say == replies.declined() and first.asking == "anything_else"
    second = policies.declined_offer(facts("no", act="no", pending="subscribe", asked=("anything_else",)))
    assert second is not None and second.say == replies.declined_again() and second.asking is None
    assert policies.declined_offer(facts("no it still won't print", act="no", pending="offer_person", problem=True)) is None


def test_goodbye_surveys_only_a_helped_caller_and_never_one_who_still_has_a_problem() -> None:
    helped = policies.goodbye(facts("thanks that's all", act="goodbye", helped=True))
    assert helped is not None and helped.asking == "survey"
    unhelped = policies.goodbye(facts("thanks bye", act="goodbye"))
    assert unhelped is not None and unhelped.kind == "end" and unhelped.say == replies.goodbye()
    assert policies.goodbye(facts("thanks but it still doesn't work", act="goodbye", problem=True)) is None
    assert policies.goodbye(facts("no i don't need a person just tell me how", act="ask_how_to")) is None


def test_not_understood_reprompts_once_then_hands_off() -> None:
    first = policies.not_understood(facts("the the um", act="unclear"))
    assert first is not None and first.reprompt
    again = facts("blue", act="inform", sure=False)
    again = replace(again, state=replace(again.state, reprompts=1))
    second = policies.not_understood(again)
    assert second is not None and second.reason == "no_progress"
    assert policies.not_understood(facts("windows", act="inform", pending="clarify")) is None


def test_bot_check_and_greeting() -> None:
    bot = policies.bot_check(facts("is this a robot", act="bot_check"))
    assert bot is not None and "automated" in bot.say and bot.asking == "offer_person"
    hello = policies.greeting(facts("hello", act="greeting"))
    assert hello is not None and hello.asking == "greeted_back"
    assert policies.greeting(facts("hello", act="greeting", asked=("greeted_back",))) is None


def test_a_call_twice_over_the_turn_budget_goes_to_a_person() -> None:
    budget = ConversationSettings().automated_turn_budget
    assert policies.stuck(facts("and another thing", index=2 * budget - 1)) is None
    step = policies.stuck(facts("and another thing", index=2 * budget))
    assert step is not None and step.reason == "no_progress"


def test_how_to_answers_and_mentions_an_incident_on_that_service() -> None:
    plain = policies.how_to(facts("how do i set an out of office", act="ask_how_to", answer=HOW_TO))
    assert plain is not None and plain.helped and plain.say.startswith(HOW_TO.say)
    during = policies.how_to(facts("how do i set an out of office in email", act="ask_how_to", answer=HOW_TO, incident=EMAIL,
                                   incident_headline="Email delivery delayed right now."))
    assert during is not None and "Email delivery delayed" in during.say and during.incident == "INC-1042"


def test_how_to_without_an_answer_offers_a_person_and_a_report_is_no_how_to() -> None:
    none = policies.how_to(facts("how do i fix the label printer", act="ask_how_to"))
    assert none is not None and none.asking == "offer_person"
    assert policies.how_to(facts("my out of office is broken", act="report_problem", answer=HOW_TO, problem=True)) is None


def test_an_incident_in_effect_is_told_once_with_a_text_offer() -> None:
    first = policies.incident(facts("is email down", act="ask_status", incident=EMAIL, incident_text="Yes, known."))
    assert first is not None and first.asking == "subscribe" and first.text_offer_for == "INC-1042" and first.helped
    told = facts("email still not working", act="report_problem", incident=EMAIL, incident_text="Yes, known.")
    again = policies.incident(replace(told, state=replace(told.state, incidents=("INC-1042",))))
    assert again is not None and again.asking == "offer_person"
    nobody = policies.incident(facts("is email down", act="ask_status", incident=EMAIL, incident_text="Yes.", caller=CallerCard(None, None, None)))
    assert nobody is not None and nobody.asking == "offer_person"


def test_a_status_question_without_an_incident_in_effect() -> None:
    teams = Incident("MNT-0301", "Teams planned maintenance", ("teams",), status="maintenance")
    upcoming = policies.status_question(facts("is teams maintenance tonight", act="ask_status", upcoming=teams, upcoming_text="It starts at 11 PM."))
    assert upcoming is not None and upcoming.say.startswith("It starts at 11 PM.")
    nothing = policies.status_question(facts("is the wifi down", act="ask_status", service="the Wi-Fi"))
    assert nothing is not None and "the Wi-Fi" in nothing.say and nothing.asking == "clarify"


def test_a_service_request_the_assistant_cannot_do_offers_a_person() -> None:
    step = policies.service_request(facts("please add me to the finance share", act="request_service"))
    assert step is not None and step.asking == "offer_person"


def test_a_problem_gets_one_clarifying_question_then_a_person_is_offered() -> None:
    first = policies.problem(facts("my laptop won't turn on", act="report_problem", problem=True, service="the laptop"))
    assert first is not None and first.asking == "clarify" and "the laptop" in first.say
    second = policies.problem(facts("the light blinks orange", act="report_problem", pending="clarify", asked=("clarify",)))
    assert second is not None and second.asking == "offer_person"
    fixable = policies.problem(facts("my password expired", act="report_problem", problem=True, answer=FIX))
    assert fixable is not None and fixable.helped and FIX.say in fixable.say


def test_a_topic_gets_asked_about_and_the_answer_noted() -> None:
    asked = policies.topic(facts("hi i'm calling about payroll", first_topic=True, service="payroll"))
    assert asked is not None and "payroll" in asked.say and asked.asking == "clarify"
    noted = policies.topic(facts("my payslip is missing this month", pending="clarify", asked=("clarify",)))
    assert noted is not None and noted.asking == "offer_person"
    assert policies.topic(facts("and something else", asked=("clarify",))) is None


def test_anything_else_is_acknowledged_with_an_offer() -> None:
    name, step = decide(facts("and one more thing about the projector in room four", act="inform", asked=("clarify",)))
    assert name == "acknowledge" and step.asking == "offer_person"
