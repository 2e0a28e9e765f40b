"""The warm-transfer summary: what an agent needs so the caller never repeats themselves.

Built once at handoff from every caller turn: the issue in the caller's most informative words, the
system involved, the business impact and any deadline, what they already tried, what the assistant
told them, why the call came to a person and how the caller is. Rendered as a whisper the agent hears
before the call connects (most important first, no filler: at most ``WHISPER_WORD_LIMIT`` words,
``PLAIN_WHISPER_WORD_LIMIT`` for a plain request for a person), and as JSON and Markdown for the
agent console and notifications.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from frontdoor.handoff.signals import Assessment, Evidence, evidence_from_dict

WHISPER_WORD_LIMIT = 40
PLAIN_WHISPER_WORD_LIMIT = 20
ISSUE_WORD_LIMIT = 25
QUOTE_WORD_LIMIT = 14
TOP_EVIDENCE = 3

REASON_LABELS = {
    "human_request": "Asked for a person",
    "frustration": "Frustrated caller",
    "urgency": "Urgent",
    "no_progress": "Assistant could not help",
    "failure": "System fault, caller passed straight to you",
}
SECURITY_LABEL = "Security emergency"

_ISSUE_ACTS = ("report_problem", "request_service", "ask_how_to", "ask_status", "inform")
_NOT_ISSUE_ACTS = ("bot_check", "greeting", "yes", "no", "goodbye", "unclear")
_QUESTIONS = ("ask_how_to", "ask_status")
_FILLERS = ("hi", "hello", "hey", "so", "um", "uh", "erm", "yeah", "yes", "okay", "ok", "well", "right", "oh")
_NOT_AN_ISSUE = frozenset(
    "agent person human representative operator someone somebody real live please a an the to talk speak with get me "
    "i want need can could you let yes no yeah hi hello hey okay ok um uh just now is there it this that my on of for in at "
    "from about be am are was have has do does up so and or but one any some your our there's it's i'm".split()
)
_DEADLINE = re.compile(
    r"\b(?:(?:by|before|until|due|at)\s+(?:\d{1,2}(?::\d\d)?\s*(?:am|pm|o'clock)?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|noon|midday|midnight|tonight|today|tomorrow|lunch|end of (?:the )?day|close of business|the end of the day)"
    r"(?:\s*(?:am|pm|today|tonight|tomorrow))?"
    r"|(?:by|before|until|due|at)\s+the\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)\s+\w+"
    r"|in\s+(?:the\s+next\s+)?(?:\d+|a|an|one|two|three|five|ten|fifteen|twenty|thirty)\s+(?:minutes?|mins?|hours?)"
    r"|this (?:morning|afternoon|evening)|today|tonight)\b",
    re.IGNORECASE,
)
_SCALE = re.compile(
    r"\b(?:\d[\d,]*|all|every|whole|entire|none of|nobody in|everyone in|everybody in)\s+(?:the\s+|our\s+|of\s+)?"
    r"(?:\w+\s+)?(?:people|staff|users|customers|patients|agents|tills|stores|shops|floor|team|department|office|ward|site|"
    r"clinic|branch|call centre|call center|building|school|warehouse|trucks|orders)\b",
    re.IGNORECASE,
)
_TRIED = re.compile(
    r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?|i already|we already)\s+(?:already\s+|just\s+)?"
    r"(?:tried|restarted|rebooted|reset|unplugged|replugged|reinstalled|cleared|logged (?:out|off)|signed out|updated|"
    r"checked|turned it off|switched it off|done the|did the|swapped|changed)\b[^.?!]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CallerCard:
    """Who is calling, from caller ID and the employee directory."""

    number: str | None
    name: str | None
    department: str | None
    vip: bool = False

    def describe(self) -> str:
        parts = [self.name or "Unknown caller"]
        if self.department:
            parts.append(self.department)
        if self.vip:
            parts.append("VIP")
        if not self.name and self.number:
            parts.append(f"calling from {self.number}")
        return ", ".join(parts)


@dataclass(frozen=True)
class IncidentNote:
    """The known incident the call is about, as told to the caller."""

    id: str
    title: str
    status: str
    eta: str | None = None


@dataclass(frozen=True)
class TrajectoryPoint:
    """Running frustration and urgency after one caller turn."""

    turn: int
    frustration: float
    urgency: float


@dataclass(frozen=True)
class WarmTransferSummary:
    call_id: str
    caller: CallerCard
    issue: str
    reason: str
    incident: IncidentNote | None = None
    told: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    trajectory: tuple[TrajectoryPoint, ...] = ()
    seconds_on_line: float = 0.0
    do_not_ask: tuple[str, ...] = ()
    security: bool = False
    distress: bool = False
    system: str | None = None
    impact: str | None = None
    deadline: str | None = None
    tried: tuple[str, ...] = ()
    caller_state: str = "calm"
    why: str = ""
    said: tuple[str, ...] = ()
    """Every caller turn, in order (redacted): the whole call for the console, never for the whisper."""

    @property
    def reason_label(self) -> str:
        return SECURITY_LABEL if self.security else REASON_LABELS.get(self.reason, self.reason.replace("_", " ").capitalize())

    @property
    def plain_request(self) -> bool:
        """A request for a person with nothing else known: the short whisper."""
        return self.reason == "human_request" and not (self.issue or self.impact or self.tried or self.incident)

    def whisper(self) -> str:
        """What the agent hears before the call connects: most important first, no filler."""
        sentences = [f"{self.reason_label}: {self.caller.describe()}."]
        if self.distress:
            sentences.append("Caller is distressed; go gently.")
        elif self.caller_state == "frustrated" and self.reason != "frustration":
            sentences.append("Caller is frustrated.")
        quoted = _clip(self.issue, QUOTE_WORD_LIMIT)
        if self.issue:
            sentences.append(_sentence(quoted))
        elif self.reason == "human_request":
            sentences.append("No details yet.")
        elif self.said:
            sentences.append(_sentence(f'They said: "{_clip(self.said[-1], QUOTE_WORD_LIMIT)}"'))
        if self.system and self.system.lower() not in self.issue.lower():
            sentences.append(f"System: {self.system}.")
        if self.impact and self.impact.lower() not in quoted.lower():
            sentences.append(_sentence("Impact: " + _clip(self.impact, 10)))
        if self.deadline and self.deadline.lower() not in quoted.lower() and not (self.impact and self.deadline in self.impact):
            sentences.append(f"Deadline: {self.deadline}.")
        if self.tried:
            sentences.append(_sentence("Tried: " + _clip(self.tried[0], 8)))
        if self.incident is not None:
            eta = f", fix by {self.incident.eta}" if self.incident.eta else ""
            sentences.append(f"Told about {self.incident.id}{eta}.")
        if self.seconds_on_line >= 120:
            sentences.append(f"On the line {_duration(self.seconds_on_line)}.")
        return _limit_words(sentences, PLAIN_WHISPER_WORD_LIMIT if self.plain_request else WHISPER_WORD_LIMIT)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reason_label"] = self.reason_label
        data["whisper"] = self.whisper()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarmTransferSummary:
        incident = data.get("incident")
        return cls(
            call_id=str(data["call_id"]),
            caller=CallerCard(**data["caller"]),
            issue=str(data.get("issue", "")),
            reason=str(data.get("reason", "failure")),
            incident=IncidentNote(**incident) if incident else None,
            told=tuple(data.get("told", ())),
            evidence=tuple(evidence_from_dict(item) for item in data.get("evidence", ())),
            trajectory=tuple(TrajectoryPoint(**point) for point in data.get("trajectory", ())),
            seconds_on_line=float(data.get("seconds_on_line", 0.0)),
            do_not_ask=tuple(data.get("do_not_ask", ())),
            security=bool(data.get("security", False)),
            distress=bool(data.get("distress", False)),
            system=data.get("system"),
            impact=data.get("impact"),
            deadline=data.get("deadline"),
            tried=tuple(data.get("tried", ())),
            caller_state=str(data.get("caller_state", "calm")),
            why=str(data.get("why", "")),
            said=tuple(data.get("said", ())),
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.reason_label}** - {self.caller.describe()}", ""]
        for label, value in self.fields():
            lines.append(f"- **{label}:** {value}")
        if self.trajectory:
            points = ", ".join(f"{p.turn + 1}: {p.frustration:.1f}/{p.urgency:.1f}" for p in self.trajectory)
            lines.append(f"- **Frustration/urgency by turn:** {points}")
        return "\n".join(lines) + "\n"

    def fields(self) -> list[tuple[str, str]]:
        """The structured summary as (label, text) pairs, most useful first; empty ones left out."""
        found = [
            ("Issue (in their words)", self.issue or "not stated"),
            ("System", self.system or ""),
            ("Impact", self.impact or ""),
            ("Deadline", self.deadline or ""),
            ("Already tried", " / ".join(self.tried)),
            ("Caller", self.caller_state),
            ("Why handed off", self.why),
            ("Number", self.caller.number or "withheld"),
            ("On the line", _duration(self.seconds_on_line)),
        ]
        if self.incident is not None:
            eta = f", fix expected by {self.incident.eta}" if self.incident.eta else ""
            found.append(("Incident", f"{self.incident.id} {self.incident.title} ({self.incident.status}{eta})"))
        if self.evidence:
            found.append(("Evidence", "; ".join(f"{e.what} (turn {e.turn + 1})" for e in self.evidence)))
        found.append(("What they said", " / ".join(self.said)))
        found.append(("Already told", " / ".join(self.told)))
        found.append(("Don't ask again", "; ".join(self.do_not_ask)))
        return [(label, value) for label, value in found if value]


def build_summary(
    *,
    call_id: str,
    caller: CallerCard,
    caller_turns: Sequence[str],
    assistant_replies: Sequence[str],
    assessments: Sequence[Assessment],
    reason: str,
    evidence: Sequence[Evidence],
    incident: IncidentNote | None,
    seconds_on_line: float,
    known_facts: Mapping[str, str],
    system: str | None = None,
) -> WarmTransferSummary:
    """The summary of the whole call, handed off for ``reason`` after ``caller_turns``.

    ``caller_turns`` are every turn as heard (redacted; silence as ""), in order, as ``assessments`` are.
    """
    by_turn = {a.turn: a for a in assessments}
    readings = [(text, by_turn.get(index)) for index, text in enumerate(caller_turns)]
    issue = describe_issue(caller_turns, [a.act if a is not None else "inform" for _, a in readings])
    ranked = sorted(evidence, key=lambda item: (-abs(item.weight), item.turn))[:TOP_EVIDENCE] or _strongest(assessments, reason)
    impact = _most(readings, "urgency")
    deadline = next((m.group(0) for turn in caller_turns for m in [_DEADLINE.search(turn)] if m), None)
    scale = next((m.group(0) for turn in caller_turns for m in [_SCALE.search(turn)] if m), None)
    security = any(a.security for a in assessments) and reason == "urgency"
    distress = any(a.distress for a in assessments)
    summary = WarmTransferSummary(
        call_id=call_id,
        caller=caller,
        issue=issue,
        reason=reason,
        incident=incident,
        told=tuple(assistant_replies),
        evidence=tuple(ranked),
        trajectory=tuple(TrajectoryPoint(a.turn, round(a.totals.frustration, 2), round(a.totals.urgency, 2)) for a in assessments),
        seconds_on_line=round(seconds_on_line, 1),
        do_not_ask=_do_not_ask(caller, issue, incident, known_facts),
        security=security,
        distress=distress,
        system=system,
        impact=_impact(impact, scale, issue),
        deadline=deadline,
        tried=tuple(dict.fromkeys(
            m.group(0).strip() for turn, a in readings if a is None or a.act not in _QUESTIONS for m in _TRIED.finditer(turn)
        )),
        caller_state=_caller_state(assessments, distress),
        why=_why(reason, ranked, security),
        said=tuple(turn for turn in caller_turns if turn.strip()),
    )
    return summary


def describe_issue(caller_turns: Sequence[str], acts: Sequence[str]) -> str:
    """The issue in one sentence: the caller's most informative words, from the turn that says most about the problem.

    Turns that describe, ask or inform come first (a request for a person or a bot check never counts),
    and what the caller already tried only when nothing else was said.
    """
    candidates = [
        (act in _ISSUE_ACTS, not _TRIED.search(turn), act == "report_problem", len(_content_words(turn)), -index, turn.strip())
        for index, (turn, act) in enumerate(zip(caller_turns, acts))
        if act not in _NOT_ISSUE_ACTS and len(_content_words(turn)) >= 2
    ]
    if not candidates:
        return ""
    return f'"{_clip(_without_fillers(max(candidates)[-1]), ISSUE_WORD_LIMIT)}"'


def _most(readings: Sequence[tuple[str, Assessment | None]], signal: str) -> str | None:
    scored = [(a.probabilities.get(signal), text) for text, a in readings if a is not None and a.probabilities.get(signal) >= 0.5]
    return max(scored)[1] if scored else None


def _impact(urgent_turn: str | None, scale: str | None, issue: str) -> str | None:
    if urgent_turn and _without_fillers(urgent_turn) not in issue:
        return _clip(_without_fillers(urgent_turn), QUOTE_WORD_LIMIT)
    return scale


def _caller_state(assessments: Sequence[Assessment], distress: bool) -> str:
    if distress:
        return "distressed"
    last = assessments[-1].totals if assessments else None
    if last is not None and last.frustration >= 0.5:
        return "frustrated"
    if last is not None and (last.urgency >= 0.5 or last.security >= 0.5):
        return "under time pressure"
    return "calm"


def _why(reason: str, evidence: Sequence[Evidence], security: bool) -> str:
    label = SECURITY_LABEL if security else REASON_LABELS.get(reason, reason)
    quote = next((e.what.split('"')[1] for e in evidence if e.what.count('"') >= 2), None)
    if quote:
        return f'{label}: "{_clip(quote, QUOTE_WORD_LIMIT)}"'
    return f"{label}: {evidence[0].what}" if evidence else label


def _content_words(text: str) -> list[str]:
    return [w for w in text.lower().replace(",", " ").replace(".", " ").split() if w not in _NOT_AN_ISSUE]


def _strongest(assessments: Sequence[Assessment], reason: str) -> list[Evidence]:
    items = [e for a in assessments for e in a.evidence if e.signal == reason or reason not in {"human_request", "frustration", "urgency"}]
    return sorted(items, key=lambda item: (-abs(item.weight), item.turn))[:TOP_EVIDENCE]


def _do_not_ask(caller: CallerCard, issue: str, incident: IncidentNote | None, facts: Mapping[str, str]) -> tuple[str, ...]:
    items = []
    if caller.name:
        department = f", {caller.department}" if caller.department else ""
        items.append(f"who they are ({caller.name}{department}, from caller ID)")
    if caller.number:
        items.append(f"their number ({caller.number})")
    if issue:
        items.append("what the problem is (see issue)")
    if incident is not None:
        items.append(f"whether they know about {incident.id} (already told status and fix time)")
    for key, value in facts.items():
        if key != "problem":
            items.append(f"{key} ({value})")
    return tuple(items)


def _without_fillers(text: str) -> str:
    """``text`` without the "hi so um" it opens with."""
    words = text.split()
    while len(words) > 2 and words[0].lower().strip(",.") in _FILLERS:
        words = words[1:]
    return " ".join(words)


def _clip(text: str, limit: int) -> str:
    words = text.strip().strip('"').split()
    return " ".join(words[:limit]) + ("..." if len(words) > limit else "")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", '."', '?"', '!"', "...")) else f"{text}."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _limit_words(sentences: list[str], limit: int) -> str:
    """Whole sentences in order while they fit; the first is always kept, cut to the limit if needed."""
    kept: list[str] = []
    count = 0
    for sentence in sentences:
        size = len(sentence.split())
        if count + size > limit:
            if not kept:
                kept.append(" ".join(sentence.split()[:limit]))
            continue
        kept.append(sentence)
        count += size
    return " ".join(kept)
