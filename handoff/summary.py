"""The warm-transfer summary: what an agent needs so the caller never repeats themselves.

Built once at handoff from the call so far; rendered as a whisper the agent hears before the call
connects (most important first, at most ``WHISPER_WORD_LIMIT`` words), and as JSON and Markdown
for the agent console and notifications.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from frontdoor.handoff.signals import Assessment, Evidence, evidence_from_dict

WHISPER_WORD_LIMIT = 60
ISSUE_WORD_LIMIT = 25
TOP_EVIDENCE = 3

REASON_LABELS = {
    "human_request": "Asked for a person",
    "frustration": "Frustrated caller",
    "urgency": "Urgent",
    "no_progress": "Assistant could not help",
    "failure": "System fault, caller passed straight to you",
}

_NOT_AN_ISSUE = frozenset(
    "agent person human representative operator someone somebody real live please a an the to talk speak with get me "
    "i want need can could you let yes no yeah hi hello hey okay ok um uh just now".split()
)


@dataclass(frozen=True)
class CallerCard:
    """Who is calling, from caller ID and the employee directory."""

    number: str | None
    name: str | None
    department: str | None
    vip: bool = False

    def describe(self) -> str:
        who = self.name or "Unknown caller"
        parts = [who]
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

    @property
    def reason_label(self) -> str:
        label = REASON_LABELS.get(self.reason, self.reason.replace("_", " ").capitalize())
        if self.security:
            return "Security emergency"
        return label

    def whisper(self) -> str:
        """What the agent hears before the call is bridged: most important first, at most ~60 words."""
        sentences = [f"{self.reason_label}: {self.caller.describe()}."]
        if self.distress:
            sentences.append("Caller sounds distressed; go gently.")
        sentences.append(f"Issue, in their words: {_sentence(self.issue)}")
        if self.incident is not None:
            eta = f", fix expected by {self.incident.eta}" if self.incident.eta else ""
            sentences.append(f"Known incident {self.incident.id}, {self.incident.title}{eta}; caller already told.")
        quotes = [e.what for e in self.evidence if e.what.startswith('"')]
        quote = max(quotes, key=lambda what: len(what.split())) if quotes else None
        if quote:
            sentences.append(f"They said {quote}.")
        sentences.append(f"On the line {_duration(self.seconds_on_line)}.")
        return _limit_words(sentences, WHISPER_WORD_LIMIT)

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
        )

    def to_markdown(self) -> str:
        lines = [
            f"**{self.reason_label}** - {self.caller.describe()}",
            "",
            f"- **Issue (in their words):** {self.issue}",
            f"- **Number:** {self.caller.number or 'withheld'}",
            f"- **On the line:** {_duration(self.seconds_on_line)}",
        ]
        if self.incident is not None:
            eta = f", fix expected by {self.incident.eta}" if self.incident.eta else ""
            lines.append(f"- **Incident:** {self.incident.id} {self.incident.title} ({self.incident.status}{eta})")
        if self.evidence:
            lines.append("- **Why handed off:** " + "; ".join(f"{e.what} (turn {e.turn + 1})" for e in self.evidence))
        if self.told:
            lines.append("- **Already told:** " + " / ".join(self.told))
        if self.do_not_ask:
            lines.append("- **Don't ask again:** " + "; ".join(self.do_not_ask))
        if self.trajectory:
            points = ", ".join(f"{p.turn + 1}: {p.frustration:.1f}/{p.urgency:.1f}" for p in self.trajectory)
            lines.append(f"- **Frustration/urgency by turn:** {points}")
        return "\n".join(lines) + "\n"


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
) -> WarmTransferSummary:
    """The summary for a call handed off for ``reason`` after the given turns."""
    issue = describe_issue(caller_turns, known_facts.get("problem"))
    ranked = sorted(evidence, key=lambda item: (-abs(item.weight), item.turn))[:TOP_EVIDENCE]
    if not ranked:
        ranked = _strongest(assessments, reason)
    return WarmTransferSummary(
        call_id=call_id,
        caller=caller,
        issue=issue,
        reason=reason,
        incident=incident,
        told=tuple(assistant_replies),
        evidence=tuple(ranked),
        trajectory=tuple(TrajectoryPoint(a.turn, round(a.totals.frustration, 2), round(a.totals.urgency, 2)) for a in assessments),
        seconds_on_line=round(seconds_on_line, 1),
        do_not_ask=_do_not_ask(caller, issue, incident, known_facts, bool(caller_turns)),
        security=any(a.security for a in assessments),
        distress=any(a.distress for a in assessments),
    )


def describe_issue(caller_turns: Sequence[str], problem: str | None) -> str:
    """The issue in one sentence: the caller's own most informative words."""
    candidates = [turn.strip() for turn in caller_turns if _content_words(turn)]
    if not candidates:
        if problem:
            return problem
        return "Not stated yet: the caller asked for a person straight away." if caller_turns else "Not stated yet."
    best = next((turn for turn in candidates if len(_content_words(turn)) >= 3), max(candidates, key=lambda t: len(_content_words(t))))
    words = best.split()
    said = " ".join(words[:ISSUE_WORD_LIMIT]) + ("..." if len(words) > ISSUE_WORD_LIMIT else "")
    return f'"{said}"'


def _content_words(text: str) -> list[str]:
    return [w for w in text.lower().replace(",", " ").replace(".", " ").split() if w not in _NOT_AN_ISSUE]


def _strongest(assessments: Sequence[Assessment], reason: str) -> list[Evidence]:
    items = [e for a in assessments for e in a.evidence if e.signal == reason or reason not in {"human_request", "frustration", "urgency"}]
    return sorted(items, key=lambda item: (-abs(item.weight), item.turn))[:TOP_EVIDENCE]


def _do_not_ask(
    caller: CallerCard, issue: str, incident: IncidentNote | None, facts: Mapping[str, str], spoke: bool
) -> tuple[str, ...]:
    items = []
    if caller.name:
        department = f", {caller.department}" if caller.department else ""
        items.append(f"who they are ({caller.name}{department}, from caller ID)")
    if caller.number:
        items.append(f"their number ({caller.number})")
    if spoke and issue.startswith('"'):
        items.append("what the problem is (see issue)")
    if incident is not None:
        items.append(f"whether they know about {incident.id} (already told status and fix time)")
    for key, value in facts.items():
        if key != "problem":
            items.append(f"{key} ({value})")
    return tuple(items)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", '."', '?"', '!"')) else f"{text}."


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
