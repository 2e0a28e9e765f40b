"""The conversation engine: deterministic rules that turn a caller turn into a decision.

``greet`` opens a call, ``respond`` answers one caller turn. Both take the call state and return
an ``Outcome``: the next state, the decision for the channel, and the side effects (subscriptions,
survey answers) for the caller of the engine to carry out. The engine itself does no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol, Sequence
from zoneinfo import ZoneInfo

from frontdoor.answers import AnswerBook, spoken_forms
from frontdoor.conversation import replies
from frontdoor.conversation.language import (
    clean_text,
    is_affirmative,
    is_bot_check,
    is_closing,
    is_greeting,
    is_negative,
    says_something,
    survey_score,
    words,
)
from frontdoor.conversation.model import Action, CallerTurn, Decision, Effect, Expecting, Outcome, RecordSurvey, Subscribe
from frontdoor.conversation.state import CallState, HeardTurn
from frontdoor.incidents.matching import IncidentMatch, is_problem_report, mentioned_service
from frontdoor.incidents.model import Incident
from frontdoor.incidents.speech import spoken_time
from frontdoor.settings import ConversationSettings
from frontdoor.handoff.policy import HandoffVerdict, PolicyThresholds, acknowledgement, decide_handoff
from frontdoor.handoff.redaction import redact
from frontdoor.handoff.signals import Assessment, CallerContext, Detector, Evidence, Reason, Scores, TurnObservation
from frontdoor.handoff.summary import IncidentNote, build_summary


QUESTION_ONLY_ANSWERS = frozenset({"how_to", "request"})
"""Answer types for questions ("how do I..."), not for something that is broken."""


class IncidentSource(Protocol):
    """What the engine needs from the incident board."""

    def match(self, text: str) -> list[IncidentMatch]: ...

    def major(self) -> list[Incident]: ...

    def get(self, incident_id: str) -> Incident | None: ...

    def describe(self, incident: Incident) -> str: ...

    def headline(self, incident: Incident) -> str: ...

    def hints(self) -> tuple[str, ...]: ...


class ConversationEngine:
    """The rules of a frontdoor conversation, with the knowledge they consult."""

    def __init__(
        self,
        *,
        board: IncidentSource,
        answers: AnswerBook,
        detector: Detector,
        thresholds: PolicyThresholds,
        rules: ConversationSettings,
        organisation: str,
        distress_speaking_rate: float,
        timezone: ZoneInfo,
    ) -> None:
        self.board = board
        self.answers = answers
        self.detector = detector
        self.thresholds = thresholds
        self.rules = rules
        self.organisation = organisation
        self.distress_speaking_rate = distress_speaking_rate
        self.timezone = timezone

    def greet(self, state: CallState) -> Outcome:
        headlines = tuple(self.board.headline(incident) for incident in self.board.major()[:2])
        say = replies.greeting(state.caller.name, self.organisation, headlines)
        state = replace(state, replies=(*state.replies, say), told=(*state.told, *headlines)).asking("what_problem")
        return Outcome(state, self._decision(state, -1, Action.LISTEN, say))

    def respond(self, state: CallState, turn: CallerTurn, now: datetime) -> Outcome:
        """Answer one caller turn."""
        index = len(state.turns)
        redacted = redact(clean_text(turn.text))
        text = " ".join(words(redacted))
        silent = turn.silent
        misunderstood = not silent and turn.confidence is not None and turn.confidence < self.rules.low_confidence
        heard = HeardTurn(index, redacted, turn.confidence, redact(turn.digits.strip()), silent, misunderstood, turn.audio)
        matches = self.board.match(text) if text else []
        assessment = self.detector.assess(
            _observation(heard, text),
            [_observation(t, " ".join(words(t.text))) for t in state.turns],
            state.assessments,
            CallerContext(
                vip=state.caller.vip,
                recent_calls=_recent_calls_about(state, text),
                incident_impact=matches[0].incident.impact if matches else self._mentioned_impact(state),
                reprompts=state.reprompts,
                offered_person=state.has_asked("offer_person"),
            ),
        )
        pending = state.pending
        state = replace(
            state, turns=(*state.turns, heard), assessments=(*state.assessments, assessment), pending=None, status="open"
        )

        verdict = decide_handoff(state.assessments, self.thresholds)
        if verdict.handoff and verdict.reason is not None:
            return self._handoff(state, verdict.reason, now, verdict.evidence, verdict)
        if "0" in heard.digits:
            keypad = Evidence("human_request", "keypad", "pressed 0", 1.0, index)
            return self._handoff(state, "human_request", now, (keypad,))
        if pending == "survey":
            score = survey_score(text, heard.digits)
            if score is not None or silent:
                return self._finish_survey(state, score)
        if silent or misunderstood or (is_greeting(text) and state.has_asked("greeted_back")):
            return self._reprompt_or_handoff(state, now, silent)
        if pending == "subscribe" and is_affirmative(text):
            return self._subscribe(state)
        if pending == "offer_person" and is_affirmative(text):
            accepted = Evidence("human_request", "accepted_offer", f'"{redacted}" to the offer of a person', 1.0, index)
            return self._handoff(state, "human_request", now, (accepted,))
        wrapping_up = is_closing(text) or (pending in {"subscribe", "offer_person", "anything_else"} and is_negative(text))
        if wrapping_up and not is_problem_report(text):
            return self._close(state)
        if index + 1 > self.rules.automated_turn_budget:
            return self._handoff(state, "no_progress", now, ())
        if is_bot_check(text):
            return self._say(state.asking("offer_person"), replies.bot_disclosure(self.organisation))
        if is_greeting(text):
            return self._say(state.asking("greeted_back"), replies.greeting_back())
        return self._answer(state, text, matches, now)

    def fail_to_human(self, state: CallState, now: datetime, turn: CallerTurn | None = None) -> Outcome:
        """Something broke while handling ``turn``: record what was heard, apologise, hand off (reason ``failure``)."""
        if turn is not None:
            index = len(state.turns)
            heard = HeardTurn(index, redact(clean_text(turn.text)), turn.confidence, redact(turn.digits.strip()), turn.silent, False, turn.audio)
            totals = state.assessments[-1].totals if state.assessments else Scores()
            state = replace(state, turns=(*state.turns, heard), assessments=(*state.assessments, Assessment(index, Scores(), totals)))
        return self._handoff(replace(state, status="open"), "failure", now, ())

    def _answer(self, state: CallState, text: str, matches: Sequence[IncidentMatch], now: datetime) -> Outcome:
        index = len(state.turns) - 1
        near_budget = index + 1 >= self.rules.automated_turn_budget
        if matches:
            return self._tell_incident(state, matches[0].incident, near_budget)
        problem = is_problem_report(text)
        answer = self.answers.find(text)
        if answer is not None and not (problem and answer.type in QUESTION_ONLY_ANSWERS):
            state = replace(state, helped=True, told=(*state.told, answer.say), request_type=state.request_type or answer.type)
            state = _with_topic(state, text)
            return self._offer_person_if_near_budget(state, answer.say, near_budget)
        service = mentioned_service(text)
        if not (problem or service or says_something(text)):
            if state.topic is None:
                return self._reprompt_or_handoff(state, now, silent=False)
            return self._say(state, replies.acknowledged())
        state = replace(_with_topic(state, text), request_type=state.request_type or ("problem_report" if problem else "question"))
        if state.has_asked("offer_person") and not near_budget:
            return self._say(state, replies.noted_problem(service) if problem else replies.acknowledged())
        return self._say(state.asking("offer_person"), replies.no_known_problem(service) if problem else replies.nothing_more())

    def _tell_incident(self, state: CallState, incident: Incident, near_budget: bool) -> Outcome:
        state = replace(_with_topic(state, incident.title), request_type=state.request_type or "incident_status", helped=True)
        if incident.id in state.incidents:
            say = replies.incident_again(self.board.describe(incident))
            return self._say(state.asking("offer_person"), say)
        description = self.board.describe(incident)
        state = replace(state, incidents=(*state.incidents, incident.id), told=(*state.told, description))
        can_subscribe = bool(state.caller.number) and incident.id not in state.subscriptions and not near_budget
        if can_subscribe:
            state = state.with_fact("subscribe_incident", incident.id).asking("subscribe")
            return self._say(state, replies.incident_with_text_offer(description))
        return self._say(state.asking("offer_person"), replies.incident_with_person_offer(description))

    def _offer_person_if_near_budget(self, state: CallState, say: str, near_budget: bool) -> Outcome:
        if near_budget:
            return self._say(state.asking("offer_person"), f"{say} {replies.offer_person_after_long_call()}")
        return self._say(state, f"{say} {replies.agent_reminder()}")

    def _subscribe(self, state: CallState) -> Outcome:
        incident_id = dict(state.facts).get("subscribe_incident")
        number = state.caller.number
        if not incident_id or not number:
            return self._close(state)
        state = replace(state, subscriptions=(*state.subscriptions, incident_id)).asking("anything_else")
        say = replies.subscribed(number)
        return Outcome(
            replace(state, replies=(*state.replies, say)),
            self._decision(state, len(state.turns) - 1, Action.LISTEN, say),
            (Subscribe(incident_id, number),),
        )

    def _close(self, state: CallState) -> Outcome:
        if state.helped and not state.has_asked("survey"):
            state = state.asking("survey")
            return self._say(state, replies.survey_question(), expecting=Expecting.SURVEY)
        return self._end(state, replies.goodbye(), ())

    def _finish_survey(self, state: CallState, score: int | None) -> Outcome:
        if score is None:
            return self._end(state, replies.goodbye(), ())
        state = replace(state, survey_score=score)
        return self._end(state, replies.survey_thanks(), (RecordSurvey(score, state.request_type),))

    def _end(self, state: CallState, say: str, effects: tuple[Effect, ...]) -> Outcome:
        state = replace(state, status="ended", replies=(*state.replies, say))
        return Outcome(state, self._decision(state, len(state.turns) - 1, Action.END, say, Expecting.NOTHING), effects)

    def _reprompt_or_handoff(self, state: CallState, now: datetime, silent: bool) -> Outcome:
        if state.reprompts >= self.rules.max_reprompts:
            turn = len(state.turns) - 1
            what = "silence again after a re-prompt" if silent else "not understood again after a re-prompt"
            return self._handoff(state, "no_progress", now, (Evidence("frustration", "no_progress", what, 0.0, turn),))
        state = replace(state, reprompts=state.reprompts + 1)
        return self._say(state, replies.reprompt(silent, state.topic is not None))

    def _handoff(
        self,
        state: CallState,
        reason: Reason,
        now: datetime,
        evidence: Sequence[Evidence],
        verdict: HandoffVerdict | None = None,
    ) -> Outcome:
        distressed = verdict is not None and verdict.distress
        ack = acknowledgement(verdict) if verdict is not None else ""
        say = replies.handoff(reason, ack, security=verdict is not None and verdict.security)
        state = replace(state, status="handed_off", handoff_reason=reason, pending=None)
        summary = build_summary(
            call_id=state.call_id,
            caller=state.caller,
            caller_turns=[t.text for t in state.turns if not t.silent],
            assistant_replies=state.told,
            assessments=state.assessments,
            reason=reason,
            evidence=tuple(evidence),
            incident=self._incident_note(state, now),
            seconds_on_line=max(0.0, (now - state.started_at).total_seconds()),
            known_facts=self._known_facts(state),
        )
        state = replace(state, replies=(*state.replies, say))
        decision = Decision(
            call_id=state.call_id,
            turn=len(state.turns) - 1,
            action=Action.HANDOFF,
            say=say,
            reason=reason,
            speaking_rate=self.distress_speaking_rate if distressed else 1.0,
            summary=summary,
            evidence=tuple(evidence),
            expecting=Expecting.NOTHING,
        )
        return Outcome(state, decision)

    def _say(self, state: CallState, say: str, expecting: Expecting | None = None) -> Outcome:
        if expecting is None:
            expecting = Expecting.YES_NO if state.pending in {"subscribe", "offer_person"} else Expecting.REQUEST
        state = replace(state, replies=(*state.replies, say))
        return Outcome(state, self._decision(state, len(state.turns) - 1, Action.LISTEN, say, expecting))

    def _decision(
        self, state: CallState, turn: int, action: Action, say: str, expecting: Expecting = Expecting.REQUEST
    ) -> Decision:
        return Decision(call_id=state.call_id, turn=turn, action=action, say=say, expecting=expecting, hints=self.board.hints())

    def _mentioned_impact(self, state: CallState) -> str | None:
        for incident_id in reversed(state.incidents):
            incident = self.board.get(incident_id)
            if incident is not None:
                return incident.impact
        return None

    def _incident_note(self, state: CallState, now: datetime) -> IncidentNote | None:
        if not state.incidents:
            return None
        incident = self.board.get(state.incidents[-1])
        if incident is None:
            return None
        eta = spoken_time(incident.eta, self.timezone, now) if incident.eta else None
        return IncidentNote(incident.id, incident.title, incident.status, eta)

    def _known_facts(self, state: CallState) -> dict[str, str]:
        facts = {key: value for key, value in state.facts if key != "subscribe_incident"}
        if state.topic:
            facts["problem"] = state.topic
        if state.subscriptions:
            facts["texts when fixed"] = ", ".join(state.subscriptions)
        return facts


def _observation(turn: HeardTurn, text: str) -> TurnObservation:
    return TurnObservation(
        index=turn.index,
        text=text,
        confidence=turn.confidence,
        digits=turn.digits,
        audio=turn.audio,
        silent=turn.silent,
        misunderstood=turn.misunderstood,
    )


_TOPIC_STOPWORDS = frozenset(
    "the my is it and not isn't won't can't with on a an to of in for i i'm me working again still this that just".split()
)


def _recent_calls_about(state: CallState, text: str) -> int:
    """How many of the caller's recent calls were about what they are talking about now."""
    if not state.recent_topics:
        return 0
    current = spoken_forms(f"{state.topic or ''} {text}") - _TOPIC_STOPWORDS
    return sum(1 for topic in state.recent_topics if (spoken_forms(topic) - _TOPIC_STOPWORDS) & current)


def _with_topic(state: CallState, topic: str) -> CallState:
    return state if state.topic else replace(state, topic=topic)
