"""The conversation engine: from a caller turn to a decision, through the dialogue policy.

``greet`` opens a call, ``respond`` answers one caller turn, ``fail_to_human`` hands a call to a
person when something broke. Each takes the call state and returns an ``Outcome``: the next state,
the decision for the channel, and the side effects (a text subscription, a callback, a survey
answer) for the caller of the engine to carry out. The engine itself does no I/O: it hears the
turn (redaction, the detector's assessment, matched incidents and answers), lets the policies of
``policies.py`` decide, and keeps the promises no policy can break on its own (no reply twice in a
row, a long call offered a person).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol, Sequence
from zoneinfo import ZoneInfo

from frontdoor.answers import AnswerBook
from frontdoor.conversation import replies
from frontdoor.conversation.language import clean_text, words
from frontdoor.conversation.model import Action, CallerTurn, Decision, Effect, Expecting, Outcome, Subscribe
from frontdoor.conversation.policies import Step, TurnFacts, decide
from frontdoor.conversation.state import CallState, HeardTurn
from frontdoor.handoff.policy import HandoffVerdict, PolicyThresholds, acknowledgement, decide_handoff
from frontdoor.handoff.redaction import redact
from frontdoor.handoff.signals import Assessment, CallerContext, Detector, Evidence, Reason, Scores, TurnObservation
from frontdoor.handoff.summary import IncidentNote, build_summary
from frontdoor.incidents.matching import SYSTEMS, IncidentMatch, is_problem_report, mentioned_service, system_name
from frontdoor.incidents.model import Incident
from frontdoor.incidents.speech import spoken_time
from frontdoor.answers import spoken_forms
from frontdoor.settings import ConversationSettings


class IncidentSource(Protocol):
    """What the engine needs from the incident board."""

    def match(self, text: str) -> list[IncidentMatch]: ...

    def major(self) -> list[Incident]: ...

    def get(self, incident_id: str) -> Incident | None: ...

    def describe(self, incident: Incident) -> str: ...

    def headline(self, incident: Incident) -> str: ...

    def hints(self) -> tuple[str, ...]: ...

    def maintenance(self) -> list[Incident]: ...


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
        frustration_floor: float = 0.45,
    ) -> None:
        self.frustration_floor = frustration_floor  # from this frustration probability up, "thanks a lot" is no goodbye
        self.board = board
        self.answers = answers
        self.detector = detector
        self.thresholds = thresholds
        self.rules = rules
        self.organisation = organisation
        self.distress_speaking_rate = distress_speaking_rate
        self.timezone = timezone

    def greet(self, state: CallState) -> Outcome:
        major = self.board.major()[:1]
        headlines = tuple(self.board.headline(incident) for incident in major)
        say = replies.greeting(state.caller.name, self.organisation, headlines)
        state = replace(state, replies=(*state.replies, say), told=(*state.told, *headlines)).asking("what_problem")
        if major:
            state = state.with_fact("greeted_incident", major[0].id)
        return Outcome(state, self._decision(state, -1, Action.LISTEN, say))

    def respond(self, state: CallState, turn: CallerTurn, now: datetime) -> Outcome:
        """Answer one caller turn."""
        facts = self._hear(state, turn, now)
        policy, step = decide(facts)
        outcome = self._carry_out(facts, self._keep_promises(facts, step), now)
        return replace(outcome, decision=replace(outcome.decision, policy=policy))

    def fail_to_human(self, state: CallState, now: datetime, turn: CallerTurn | None = None) -> Outcome:
        """Something broke while handling ``turn``: record what was heard, apologise, hand off (reason ``failure``)."""
        if turn is not None:
            index = len(state.turns)
            heard = HeardTurn(index, redact(clean_text(turn.text)), turn.confidence, redact(turn.digits.strip()), turn.silent, False, turn.audio)
            totals = state.assessments[-1].totals if state.assessments else Scores()
            state = replace(state, turns=(*state.turns, heard), assessments=(*state.assessments, Assessment(index, Scores(), totals)))
        return self._handoff(replace(state, status="open"), "failure", now, ())

    # --- hearing a turn ---------------------------------------------------------------------

    def _hear(self, state: CallState, turn: CallerTurn, now: datetime) -> TurnFacts:
        index = len(state.turns)
        redacted = redact(clean_text(turn.text))
        text = " ".join(words(redacted))
        misunderstood = not turn.silent and turn.confidence is not None and turn.confidence < self.rules.low_confidence
        heard = HeardTurn(index, redacted, turn.confidence, redact(turn.digits.strip()), turn.silent, misunderstood, turn.audio)
        matches = self.board.match(text) if text else []
        in_effect = next((m.incident for m in matches if m.incident.in_effect(now)), None)
        upcoming = next((m.incident for m in matches if not m.incident.in_effect(now)), None)
        follow_up = False
        if in_effect is None and not matches and state.incidents and not mentioned_service(text):
            # "when will it be fixed": a question with no service named is about the incident just told
            told = self.board.get(state.incidents[-1])
            if told is not None and told.in_effect(now):
                in_effect, follow_up = told, True
        if upcoming is None and "maintenance" in text.split():
            upcoming = next((i for i in self.board.maintenance() if not i.in_effect(now)), None)
        assessment = self.detector.assess(
            _observation(heard),
            [_observation(t) for t in state.turns],
            state.assessments,
            CallerContext(
                vip=state.caller.vip,
                recent_calls=_recent_calls_about(state, text),
                incident_impact=in_effect.impact if in_effect else self._mentioned_impact(state),
                reprompts=state.reprompts,
                offered_person=state.has_asked("offer_person"),
            ),
        )
        pending = state.pending
        state = replace(state, turns=(*state.turns, heard), assessments=(*state.assessments, assessment), pending=None, status="open")
        problem = is_problem_report(text)
        service = mentioned_service(text) or (mentioned_service(state.topic) if state.topic else None)
        first_topic = False
        if text and not state.topic and (problem or service or assessment.act in {"report_problem", "ask_how_to", "request_service", "ask_status", "inform"}):
            state, first_topic = replace(state, topic=redacted), True
        if follow_up and assessment.act not in ("ask_status", "ask_how_to", "report_problem"):
            in_effect, follow_up = None, False
        return TurnFacts(
            state=state,
            heard=heard,
            text=text,
            pending=pending,
            assessment=assessment,
            verdict=decide_handoff(state.assessments, self.thresholds),
            act=assessment.act,
            act_sure=assessment.act_probability >= self.rules.act_threshold,
            incident=in_effect,
            incident_text=self.board.describe(in_effect) if in_effect else "",
            incident_headline=self.board.headline(in_effect) if in_effect else "",
            upcoming=upcoming,
            upcoming_text=self.board.describe(upcoming) if upcoming else "",
            answer=self.answers.find(text) if text else None,
            service=service,
            problem=problem,
            first_topic=first_topic,
            follow_up=follow_up,
            frustration_floor=self.frustration_floor,
            rules=self.rules,
            organisation=self.organisation,
            now=now,
        )

    # --- keeping the promises ---------------------------------------------------------------

    def _keep_promises(self, f: TurnFacts, step: Step) -> Step:
        """No reply twice in a row (a repeat is said another way); a call at the turn budget is offered a person."""
        if step.kind != "say":
            return step
        last = f.state.replies[-1] if f.state.replies else ""
        if step.say == last:
            rephrased = next(r for r in replies.REPHRASINGS if r != last)
            return replace(step, say=rephrased, asking=None)
        near_budget = f.index + 1 >= self.rules.automated_turn_budget
        if near_budget and step.asking is None and not f.state.has_asked("long_call_offer"):
            return replace(step, say=f"{step.say} {replies.offer_person_after_long_call()}", asking="offer_person", noted=("long_call_offer",))
        return step

    # --- carrying out a step ----------------------------------------------------------------

    def _carry_out(self, f: TurnFacts, step: Step, now: datetime) -> Outcome:
        state = f.state
        if step.kind == "handoff" and step.reason is not None:
            return self._handoff(state, step.reason, now, step.evidence, f.verdict, step.say)
        if step.reprompt:
            state = replace(state, reprompts=state.reprompts + 1)
        state = replace(
            state,
            helped=state.helped or step.helped,
            told=(*state.told, *step.told),
            asked=(*state.asked, *(q for q in step.noted if q not in state.asked)),
            request_type=state.request_type or step.request_type,
            incidents=(*state.incidents, step.incident) if step.incident and step.incident not in state.incidents else state.incidents,
        )
        if step.text_offer_for:
            state = state.with_fact("subscribe_incident", step.text_offer_for)
        if step.fact:
            state = state.with_fact(*step.fact)
        effects: tuple[Effect, ...] = step.effects
        if step.subscribe_to and state.caller.number:
            state = replace(state, subscriptions=(*state.subscriptions, step.subscribe_to))
            effects = (*effects, Subscribe(step.subscribe_to, state.caller.number))
        if step.asking:
            state = state.asking(step.asking)
        if step.kind == "end":
            state = replace(state, status="ended", replies=(*state.replies, step.say))
            decision = self._decision(state, f.index, Action.END, step.say, Expecting.NOTHING)
            return Outcome(state, decision, effects)
        expecting = step.expecting or (Expecting.YES_NO if state.pending in {"subscribe", "offer_person"} else Expecting.REQUEST)
        state = replace(state, replies=(*state.replies, step.say))
        return Outcome(state, self._decision(state, f.index, Action.LISTEN, step.say, expecting), effects)

    def _handoff(
        self,
        state: CallState,
        reason: Reason,
        now: datetime,
        evidence: Sequence[Evidence],
        verdict: HandoffVerdict | None = None,
        say: str = "",
    ) -> Outcome:
        distressed = verdict is not None and verdict.distress
        security = verdict is not None and verdict.security and reason == "urgency"
        ack = acknowledgement(verdict) if verdict is not None and verdict.handoff else ""
        say = say or replies.handoff(reason, ack, security=security)
        explained = tuple(self._explained(state, item) if i == 0 else item for i, item in enumerate(evidence))
        state = replace(state, status="handed_off", handoff_reason=reason, pending=None)
        summary = build_summary(
            call_id=state.call_id,
            caller=state.caller,
            caller_turns=[t.text for t in state.turns],
            assistant_replies=state.told,
            assessments=state.assessments,
            reason=reason,
            evidence=explained,
            incident=self._incident_note(state, now),
            seconds_on_line=max(0.0, (now - state.started_at).total_seconds()),
            known_facts=self._known_facts(state),
            system=_system(state),
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
            evidence=explained,
            expecting=Expecting.NOTHING,
        )
        return Outcome(state, decision)

    def _explained(self, state: CallState, evidence: Evidence) -> Evidence:
        if evidence.kind != "model" or not 0 <= evidence.turn < len(state.turns):
            return evidence
        return self.detector.explain(evidence, state.turns[evidence.turn].text)

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
        facts = {key: value for key, value in state.facts if key not in {"subscribe_incident", "greeted_incident", "callback"}}
        if dict(state.facts).get("callback"):
            facts["callback booked"] = dict(state.facts)["callback"]
        if state.topic:
            facts["problem"] = state.topic
        if state.subscriptions:
            facts["texts when fixed"] = ", ".join(state.subscriptions)
        return facts


def _system(state: CallState) -> str | None:
    """The first system or service the caller named, as an agent would write it."""
    return next((system_name(name) for turn in state.turns if (name := mentioned_service(turn.text, SYSTEMS))), None)


def _observation(turn: HeardTurn) -> TurnObservation:
    return TurnObservation(
        index=turn.index,
        text=turn.text,
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
