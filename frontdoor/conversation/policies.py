"""The dialogue policy: named rules, in priority order, each a pure function from what is known about a turn to a step.

The engine (``engine.py``) gathers the ``TurnFacts`` of a caller turn (the model's reading, the
handoff verdict, the call so far, matched incidents and answers) and asks each policy of
``POLICIES`` in turn; the first that returns a ``Step`` decides. The order is the design:

1.  ``keypad_zero``         keypad 0: a person, on this turn
2.  ``signal_handoff``      a request for a person, a security emergency, frustration or urgency
                            reached its threshold (in that priority)
3.  ``survey_answer``       the answer to the one survey question
4.  ``silence``             silence: one re-prompt, then a person
5.  ``accepted_offer``      "yes" to the offer of a person
6.  ``text_me``             "text me when it's fixed" (or yes to the text offer)
7.  ``call_me_later``       "call me back later": a callback is booked and the caller told when
8.  ``declined_offer``      "no" to an offer: fine, and what else
9.  ``more_help``           "yes" to "anything else?": what is it
10. ``goodbye``             wrapping up (not a frustrated "thanks a lot"): the survey only if the caller was helped
11. ``not_understood``      nothing understood: one re-prompt, then a person
12. ``bot_check``           "is this a robot": say so, offer a person
13. ``greeting``            a greeting: greet back once
14. ``stuck``               twice the turn budget (a person was offered at the budget): a person
15. ``how_to``              a question with an answer: answer it (even during an incident on that
                            service, then mention the incident)
16. ``incident``            a known incident in effect: status, fix time, a text offer
17. ``status_question``     "is X down" with no incident in effect: say so, ask what they see
18. ``service_request``     something to be done that the assistant cannot do: offer a person
19. ``problem``             a problem: one clarifying question at most, then offer a person
20. ``topic``               a topic named ("calling about payroll"): ask what about it
21. ``acknowledge``         anything else: acknowledge and offer a person

After the policy, the engine keeps two promises: a reply is never said twice in a row (a repeat is
said another way), and a call that reaches the turn budget is offered a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from frontdoor.answers import Answer
from frontdoor.conversation import replies
from frontdoor.conversation.language import is_affirmative, is_closing, is_greeting, is_negative, says_something, survey_score
from frontdoor.conversation.model import BookCallback, Effect, Expecting, RecordSurvey
from frontdoor.conversation.state import CallState, HeardTurn
from frontdoor.handoff.policy import HandoffVerdict
from frontdoor.handoff.signals import Assessment, Evidence, Reason
from frontdoor.incidents.model import Incident
from frontdoor.settings import ConversationSettings

QUESTION_ONLY_ANSWERS = frozenset({"how_to", "request"})
"""Answer types for questions ("how do I..."), not for something that is broken."""


@dataclass(frozen=True)
class TurnFacts:
    """What is known when a caller turn is decided: pure values, gathered once by the engine."""

    state: CallState
    heard: HeardTurn
    text: str
    pending: str | None
    assessment: Assessment
    verdict: HandoffVerdict
    act: str
    act_sure: bool
    incident: Incident | None
    incident_text: str
    incident_headline: str
    upcoming: Incident | None
    upcoming_text: str
    answer: Answer | None
    service: str | None
    problem: bool
    first_topic: bool
    """This turn gave the call its topic (nothing was said about a problem or question before)."""
    follow_up: bool
    """``incident`` is the one told earlier, taken as what a follow-up question ("when will it be fixed") is about."""
    frustration_floor: float
    rules: ConversationSettings
    organisation: str
    now: datetime

    @property
    def index(self) -> int:
        return self.heard.index

    def said(self, *acts: str) -> bool:
        """Whether the model is sure the turn does one of ``acts``."""
        return self.act_sure and self.act in acts


@dataclass(frozen=True)
class Step:
    """What a policy decided: say something and listen, hand off, or end the call, with what changes."""

    kind: str = "say"
    say: str = ""
    asking: str | None = None
    reason: Reason | None = None
    evidence: tuple[Evidence, ...] = ()
    effects: tuple[Effect, ...] = ()
    helped: bool = False
    told: tuple[str, ...] = ()
    incident: str | None = None
    text_offer_for: str | None = None
    subscribe_to: str | None = None
    request_type: str | None = None
    reprompt: bool = False
    expecting: Expecting | None = None
    noted: tuple[str, ...] = ()
    """Questions or offers to remember as made, without awaiting an answer to them."""
    fact: tuple[str, str] | None = None
    """Something to remember about the call (a callback booked and when)."""


def handoff(reason: Reason, *evidence: Evidence) -> Step:
    return Step(kind="handoff", reason=reason, evidence=evidence)


def keypad_zero(f: TurnFacts) -> Step | None:
    if "0" in f.heard.digits:
        return handoff("human_request", Evidence("human_request", "keypad", "pressed 0", 1.0, f.index))
    return None


def signal_handoff(f: TurnFacts) -> Step | None:
    if f.verdict.handoff and f.verdict.reason is not None:
        return handoff(f.verdict.reason, *f.verdict.evidence)
    return None


def survey_answer(f: TurnFacts) -> Step | None:
    """A score by keypad or in a few words ends the call; a new question leaves the survey for the policies below."""
    if f.pending != "survey":
        return None
    score = survey_score(f.text, f.heard.digits) if f.heard.digits or len(f.text.split()) <= SURVEY_ANSWER_WORDS else None
    bare_score = score is not None and len(f.text.split()) <= 2
    if not bare_score and (f.said(*_NEEDS_HELP) or f.problem):
        return None
    if score is not None:
        return Step(kind="end", say=replies.survey_thanks(), effects=(RecordSurvey(score, f.state.request_type),))
    return Step(kind="end", say=replies.goodbye())


SURVEY_ANSWER_WORDS = 5
_NEEDS_HELP = ("ask_how_to", "report_problem", "request_service", "ask_status", "request_person", "text_me", "call_me_later")


def silence(f: TurnFacts) -> Step | None:
    return _reprompt_or_handoff(f, silent=True) if f.heard.silent else None


def accepted_offer(f: TurnFacts) -> Step | None:
    if f.pending != "offer_person" or f.problem:
        return None
    yes = f.said("yes") or (not f.act_sure and is_affirmative(f.text) and len(f.text.split()) <= 3)
    if not yes or is_negative(f.text) or set(f.text.split()) & _NOT_TAKING_IT:
        return None
    return handoff("human_request", Evidence("human_request", "accepted_offer", f'"{f.heard.text}" to the offer of a person', 1.0, f.index))


_NOT_TAKING_IT = frozenset("wait waiting fine thanks thank cheers perfect cool good already separate later myself".split())
"""A "yes" with these is about something else ("yes okay we'll wait", "okay you know already good")."""


def text_me(f: TurnFacts) -> Step | None:
    wants_text = f.said("text_me") or (f.pending == "subscribe" and (f.said("yes") or is_affirmative(f.text)))
    if not wants_text:
        return None
    facts = dict(f.state.facts)
    greeted = facts.get("greeted_incident") if f.service is None else None
    incident_id = f.incident.id if f.incident is not None else facts.get("subscribe_incident") or greeted
    number = f.state.caller.number
    if incident_id is None:
        return Step(say=replies.nothing_to_text_about(), asking="offer_person")
    if not number:
        return Step(say=replies.cannot_text_without_number(), asking="offer_person")
    if incident_id in f.state.subscriptions:
        return Step(say=replies.already_subscribed(number), asking="anything_else", helped=True)
    return Step(say=replies.subscribed(number), asking="anything_else", subscribe_to=incident_id, helped=True)


def call_me_later(f: TurnFacts) -> Step | None:
    if not f.said("call_me_later"):
        return None
    number = f.state.caller.number
    if not number:
        return Step(say=replies.callback_needs_number(), asking="offer_person")
    if dict(f.state.facts).get("callback"):
        return Step(say=replies.callback_already_booked(number), asking="anything_else")
    when = callback_time(f.text)
    booked = BookCallback(number, f"Asked for a callback{f' ({when})' if when else ''}: {f.heard.text}")
    return Step(say=replies.callback_booked_in_call(number, when), asking="anything_else", effects=(booked,), request_type="callback",
                fact=("callback", when or "soon"))


_WHEN = re.compile(
    r"\b(?:tomorrow(?: morning| afternoon| evening)?|this (?:morning|afternoon|evening)|tonight|later today|after lunch|"
    r"(?:after|at|around|before) (?:\d{1,2}(?::\d\d)?\s*(?:am|pm)?|one|two|three|four|five|six|noon|midday|lunch)|"
    r"in (?:an|one|two|three|\d+) hours?|on (?:monday|tuesday|wednesday|thursday|friday))\b"
)


def callback_time(text: str) -> str | None:
    """When the caller asked to be called back ("tomorrow morning", "after 3"), if they said."""
    found = _WHEN.search(text)
    return found.group(0) if found else None


def declined_offer(f: TurnFacts) -> Step | None:
    if f.pending not in {"offer_person", "subscribe"} or f.problem:
        return None
    if not (f.said("no") or (is_negative(f.text) and not says_something(_without_no(f.text)))):
        return None
    if f.state.has_asked("anything_else"):
        return Step(say=replies.declined_again())
    return Step(say=replies.declined(), asking="anything_else")


def more_help(f: TurnFacts) -> Step | None:
    """"Yes" to "anything else?": ask what."""
    if f.pending == "anything_else" and (f.said("yes") or (is_affirmative(f.text) and len(f.text.split()) <= 3)):
        return Step(say=replies.what_else())
    return None


def goodbye(f: TurnFacts) -> Step | None:
    closing = f.said("goodbye") or is_closing(f.text) or (f.pending == "anything_else" and (f.said("no") or is_negative(f.text)))
    if not closing or f.problem or f.said(*_NEEDS_HELP) or f.assessment.probabilities.frustration >= f.frustration_floor:
        return None
    if f.state.helped and not f.state.has_asked("survey"):
        return Step(say=replies.survey_question(), asking="survey", expecting=Expecting.SURVEY)
    return Step(kind="end", say=replies.goodbye())


def not_understood(f: TurnFacts) -> Step | None:
    greeted_again = is_greeting(f.text) and f.state.has_asked("greeted_back")
    fragment = (
        not says_something(f.text) and f.act in ("inform", "unclear") and f.pending in (None, "what_problem")
        and f.service is None and not named_topic(f.text)
    )
    unclear = f.heard.misunderstood or f.said("unclear") or fragment
    if greeted_again or (unclear and f.answer is None and f.incident is None):
        return _reprompt_or_handoff(f, silent=False)
    return None



_ABOUT = re.compile(r"\b(?:about|regarding|re)\s+(?:my |the |our |a |an |some )?([a-z][a-z' ]*)$")


def named_topic(text: str) -> str | None:
    """The topic in "it's about expenses", "calling about my laptop"."""
    found = _ABOUT.search(text)
    return found.group(1).strip() if found else None


def bot_check(f: TurnFacts) -> Step | None:
    if f.said("bot_check"):
        return Step(say=replies.bot_disclosure(f.organisation), asking="offer_person")
    return None


def greeting(f: TurnFacts) -> Step | None:
    if (f.said("greeting") or is_greeting(f.text)) and not f.state.has_asked("greeted_back"):
        return Step(say=replies.greeting_back(), asking="greeted_back")
    return None


def stuck(f: TurnFacts) -> Step | None:
    """Twice the turn budget (a person was offered at the budget): a person, rather than going round."""
    turns = f.index + 1
    if turns > 2 * f.rules.automated_turn_budget:
        step = handoff("no_progress", Evidence("frustration", "no_progress", f"{turns} turns with the assistant", 0.0, f.index))
        return replace(step, say=replies.long_call_handoff())
    return None


def how_to(f: TurnFacts) -> Step | None:
    answer = f.answer
    if answer is None:
        if not f.said("ask_how_to"):
            return None
        if f.incident is not None and f.incident.id not in f.state.incidents and not f.follow_up:
            also = replies.also_incident(f.incident_headline)
            return Step(say=f"{replies.no_instructions()} {also}", asking="offer_person", incident=f.incident.id, request_type="question")
        if f.incident is None:
            return Step(say=replies.no_instructions(), asking="offer_person", request_type="question")
        return None
    if f.problem and answer.type in QUESTION_ONLY_ANSWERS and not f.said("ask_how_to"):
        return None
    say = answer.say
    incident = None
    if f.incident is not None and f.incident.id not in f.state.incidents:
        say = f"{say} {replies.also_incident(f.incident_headline)}"
        incident = f.incident.id
    return Step(say=f"{say} {replies.agent_reminder()}", helped=True, told=(answer.say,), incident=incident, request_type=answer.type)


def incident(f: TurnFacts) -> Step | None:
    if f.incident is None:
        return None
    if f.incident.id in f.state.incidents:
        return Step(say=replies.incident_again(f.incident_text), asking="offer_person", helped=True)
    told = f"Yes. {f.incident_text}" if f.said("ask_status") else f.incident_text
    can_subscribe = bool(f.state.caller.number) and f.incident.id not in f.state.subscriptions
    if can_subscribe:
        return Step(
            say=replies.incident_with_text_offer(told), asking="subscribe", helped=True, told=(f.incident_text,),
            incident=f.incident.id, text_offer_for=f.incident.id, request_type="incident_status",
        )
    return Step(say=replies.incident_with_person_offer(told), asking="offer_person", helped=True, told=(f.incident_text,),
                incident=f.incident.id, request_type="incident_status")


def status_question(f: TurnFacts) -> Step | None:
    if not f.said("ask_status"):
        return None
    if f.upcoming is not None:
        return Step(say=f"{f.upcoming_text} {replies.anything_else()}", asking="anything_else", helped=True, told=(f.upcoming_text,),
                    request_type="incident_status")
    return Step(say=replies.no_known_incident(f.service), asking="clarify", request_type="incident_status")


def service_request(f: TurnFacts) -> Step | None:
    if not f.said("request_service"):
        return None
    return Step(say=replies.cannot_do_myself(), asking="offer_person", request_type="request")


def problem(f: TurnFacts) -> Step | None:
    if not (f.problem or f.said("report_problem")):
        return None
    if f.answer is not None and f.answer.type not in QUESTION_ONLY_ANSWERS:
        return Step(say=f"{f.answer.say} {replies.agent_reminder()}", helped=True, told=(f.answer.say,), request_type=f.answer.type)
    if f.state.incidents:
        return Step(say=replies.still_not_working(), asking="offer_person", request_type="problem_report")
    if not f.state.has_asked("clarify") and f.pending != "clarify":
        return Step(say=replies.clarify(f.service, bool(_DESCRIBED.search(f.text))), asking="clarify", request_type="problem_report")
    return Step(say=replies.no_known_problem(f.service), asking="offer_person", request_type="problem_report")


_DESCRIBED = re.compile(r"\b(?:error|says|saying|message|code|slow|flicker\w*|keeps|every time|since)\b")


def topic(f: TurnFacts) -> Step | None:
    if f.pending == "clarify" and says_something(f.text):
        return Step(say=replies.noted_offer(f.service), asking="offer_person")
    if (f.first_topic or named_topic(f.text)) and not f.state.has_asked("clarify"):
        return Step(say=replies.what_about(f.service or named_topic(f.text)), asking="clarify")
    return None


def acknowledge(f: TurnFacts) -> Step | None:
    return Step(say=replies.acknowledged(), asking="offer_person")


def _reprompt_or_handoff(f: TurnFacts, silent: bool) -> Step:
    if f.state.reprompts >= f.rules.max_reprompts:
        what = "silence again after a re-prompt" if silent else "not understood again after a re-prompt"
        return handoff("no_progress", Evidence("frustration", "no_progress", what, 0.0, f.index))
    return Step(say=replies.reprompt(silent, f.state.topic is not None), reprompt=True)


def _without_no(text: str) -> str:
    words = text.split()
    return " ".join(words[1:]) if words and words[0] in {"no", "nope", "nah"} else text


Policy = Callable[[TurnFacts], "Step | None"]

POLICIES: tuple[tuple[str, Policy], ...] = (
    ("keypad_zero", keypad_zero),
    ("signal_handoff", signal_handoff),
    ("survey_answer", survey_answer),
    ("silence", silence),
    ("accepted_offer", accepted_offer),
    ("text_me", text_me),
    ("call_me_later", call_me_later),
    ("declined_offer", declined_offer),
    ("more_help", more_help),
    ("goodbye", goodbye),
    ("not_understood", not_understood),
    ("bot_check", bot_check),
    ("greeting", greeting),
    ("stuck", stuck),
    ("how_to", how_to),
    ("incident", incident),
    ("status_question", status_question),
    ("service_request", service_request),
    ("problem", problem),
    ("topic", topic),
    ("acknowledge", acknowledge),
)


def decide(f: TurnFacts) -> tuple[str, Step]:
    """The first policy with a step for this turn, and its name."""
    for name, policy in POLICIES:
        step = policy(f)
        if step is not None:
            return name, step
    raise AssertionError("acknowledge always decides")
