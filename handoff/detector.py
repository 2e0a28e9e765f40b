"""The handoff detector: the trained model's reading of each turn, plus what is known about the call.

Per turn, the model (``understanding.model``) gives each signal's probability; above a floor it
becomes evidence (``config/detector.yaml``). A long turn's halves are read too (two things said in
one breath), and its last words for a request for a person. Call features add evidence of their
own: the caller repeating themselves, silence, low recogniser confidence, re-prompts, repeat calls,
VIP callers, a matched major incident, prosody. Each signal's running total decays from turn to turn. One rule does
not wait for the model: a turn, or a part of it between punctuation marks, made only of person words
("agent agent", "a real person please", "that didn't work. agent") is a request for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import fmean
from typing import Sequence

from frontdoor.handoff.detector_config import DetectorConfig
from frontdoor.handoff.signals import SIGNALS, Assessment, CallerContext, Evidence, Scores, TurnObservation
from frontdoor.handoff.understanding.model import Reading, UnderstandingModel
from frontdoor.handoff.understanding.ngrams import words as turn_words

DISTRESS_PROBABILITY = 0.5
RESTATING_ACTS = frozenset({"report_problem", "inform", "unclear", "request_service"})
"""Acts of a turn that restates the problem; a question, a yes or a goodbye that shares words with an earlier turn is no repetition."""
EXPLAINED_WORDS = 3
MAX_WORDS_TO_TRY = 8


@dataclass(frozen=True)
class _Read:
    """The model's reading of a turn, with the text (whole turn or window) each signal's probability came from."""

    reading: Reading
    probability: dict[str, float]
    source: dict[str, str]


class ModelDetector:
    """Scores caller turns with the understanding model and the call's features."""

    def __init__(self, model: UnderstandingModel, config: DetectorConfig) -> None:
        self.model = model
        self.config = config

    def assess(
        self,
        turn: TurnObservation,
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
    ) -> Assessment:
        tokens = turn_words(turn.text)
        read = self._read(turn.text, tokens) if tokens else None
        evidence: list[Evidence] = []
        if read is not None:
            evidence.extend(self._model_evidence(read, turn.index))
            asked = next((part for part in _clauses(turn.text) if self._only_person_words(turn_words(part))), None)
            if asked is not None:
                evidence.append(Evidence("human_request", "person_words", f'"{asked}"', 1.0, turn.index))
        evidence.extend(self._call_features(turn, tokens, earlier, previous, context, read))
        scores = Scores(**{s: sum(e.weight for e in evidence if e.signal == s) for s in SIGNALS})
        before = previous[-1].totals if previous else Scores()
        totals = Scores(**{s: before.get(s) * self.config.decay.get(s) + scores.get(s) for s in SIGNALS})
        probabilities = Scores(**read.probability) if read is not None else Scores()
        return Assessment(
            turn=turn.index,
            scores=scores,
            totals=totals,
            evidence=tuple(evidence),
            security=scores.security > 0,
            distress=read is not None and read.reading.signals["distress"] >= DISTRESS_PROBABILITY,
            topics=tuple(sorted(self._content(tokens)))[:8],
            act=read.reading.act if read is not None else ("unclear" if not turn.silent else ""),
            act_probability=read.reading.acts[read.reading.act] if read is not None else 0.0,
            probabilities=probabilities,
        )

    def explain(self, evidence: Evidence, text: str) -> Evidence:
        """The model evidence with the words that moved it most (each left out in turn) and what it sounds like."""
        if evidence.kind != "model" or evidence.probability is None:
            return evidence
        tokens = text.split()
        candidates = sorted(
            {i for i, token in enumerate(tokens) if token.lower() not in self.config.stopwords},
            key=lambda i: -len(tokens[i]),
        )[:MAX_WORDS_TO_TRY]
        variants = [" ".join(t for j, t in enumerate(tokens) if j != i) for i in candidates]
        readings = self.model.read_many([text, *variants]) if variants else self.model.read_many([text])
        base = readings[0].signals[evidence.signal]
        drops = sorted(((base - r.signals[evidence.signal], tokens[i]) for i, r in zip(candidates, readings[1:])), reverse=True)
        moved = tuple(dict.fromkeys(word for drop, word in drops if drop > 0.02))[:EXPLAINED_WORDS]
        sounds_like: tuple[str, ...] = ()
        if self.model.examples is not None:
            embedding = self.model.embed([text])
            if embedding is not None:
                sounds_like = self.model.examples.nearest(embedding[0], evidence.signal)
        what = evidence.what
        if moved:
            what += f"; words: {', '.join(moved)}"
        if sounds_like:
            what += f'; sounds like "{sounds_like[0]}"'
        return Evidence(evidence.signal, evidence.kind, what, evidence.weight, evidence.turn, evidence.probability, moved, sounds_like)

    def _read(self, text: str, tokens: Sequence[str]) -> _Read:
        """The whole turn and, for a long one, its halves and its last words: two things said in one breath are each heard in full.

        A request for a person is read in the last words only (where it tends to come), since a part of the
        turn alone can drop the words that take it back ("my boss said to ask for a person, but you can do it").
        """
        spoken = text.split()
        texts = [text]
        if len(spoken) > self.config.model.window_words:
            middle = len(spoken) // 2
            texts += [" ".join(spoken[:middle]), " ".join(spoken[middle:]), " ".join(spoken[-self.config.model.window_words :])]
        readings = self.model.read_many(texts)
        probability = {}
        source = {}
        for signal in SIGNALS:
            pool = (0, 3) if signal == "human_request" else range(3)
            best = max((i for i in pool if i < len(readings)), key=lambda i: readings[i].signals[signal])
            probability[signal] = readings[best].signals[signal]
            source[signal] = texts[best]
        return _Read(readings[0], probability, source)

    def _model_evidence(self, read: _Read, index: int) -> list[Evidence]:
        found = []
        for signal in SIGNALS:
            p = read.probability[signal]
            floor, alone = self.config.model.floor.get(signal), self.config.model.alone.get(signal)
            if p < floor:
                continue
            weight = round((p - floor) / (alone - floor), 3)
            found.append(Evidence(signal, "model", f'"{read.source[signal]}" (p {p:.2f})', weight, index, round(p, 3)))
        return found

    def _only_person_words(self, tokens: Sequence[str]) -> bool:
        rule = self.config.person_only
        allowed = rule.person_words | rule.fillers
        return all(t in allowed for t in tokens) and any(t in rule.needs for t in tokens)

    def _call_features(
        self,
        turn: TurnObservation,
        tokens: Sequence[str],
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
        read: _Read | None,
    ) -> list[Evidence]:
        c = self.config
        index = turn.index
        found: list[Evidence] = []
        if turn.silent and earlier and any(t.silent for t in earlier):
            found.append(Evidence("frustration", "silence", "silent again", c.silence.weight, index))
        if turn.confidence is not None and turn.confidence < c.low_confidence.below and not turn.silent:
            found.append(Evidence("frustration", "low_confidence", f"recogniser confidence {turn.confidence:.2f}", c.low_confidence.weight, index))
        if context.reprompts and (turn.misunderstood or turn.silent):
            found.append(Evidence("frustration", "reprompted", f"still not understood after {context.reprompts} re-prompt(s)", c.reprompted.weight, index))
        if read is None or read.reading.act in RESTATING_ACTS:
            found.extend(self._repetition(turn.text, tokens, earlier, context, index))
        raised = {e.kind for a in previous for e in a.evidence}
        if context.recent_calls >= c.recent_calls.at_least and "repeat_caller" not in raised:
            found.append(Evidence("frustration", "repeat_caller", f"{context.recent_calls + 1} calls about this recently", c.recent_calls.weight, index))
        if context.vip and "vip" not in raised and (tokens or turn.digits):
            found.append(Evidence("urgency", "vip", "VIP caller", c.vip.weight, index))
        impact = (context.incident_impact or "").lower()
        if impact in c.incident.impact and read is not None and read.probability["urgency"] >= c.model.floor.urgency:
            found.append(Evidence("urgency", "incident_impact", f"{impact} incident with business impact", c.incident.weight, index))
        found.extend(self._prosody(turn, earlier))
        return [e for e in found if e.weight != 0]

    def _repetition(self, text: str, tokens: Sequence[str], earlier: Sequence[TurnObservation], context: CallerContext, index: int) -> list[Evidence]:
        """The caller says again what they said before: once counts, twice counts double; in full after a re-prompt or an offer."""
        rule = self.config.repetition
        current = self._content(tokens)
        if not current:
            return []
        repeated = [
            before.index
            for before in earlier
            if (other := self._content(turn_words(before.text))) and _similarity(current, other) >= rule.similarity
        ]
        if not repeated:
            return []
        # Restating the problem instead of taking the person offered counts in full; answering a re-prompt as asked does not.
        weight = rule.after_reprompt if context.offered_person else rule.weight * min(len(repeated), 2)
        turns = ", ".join(str(i + 1) for i in repeated)
        return [Evidence("frustration", "repetition", f'"{text}" repeats turn {turns}', weight, index)]

    def _content(self, tokens: Sequence[str]) -> frozenset[str]:
        return frozenset(_stem(t) for t in tokens if t not in self.config.stopwords)

    def _prosody(self, turn: TurnObservation, earlier: Sequence[TurnObservation]) -> list[Evidence]:
        p = self.config.prosody
        audio = turn.audio
        baseline = [t.audio for t in earlier if t.audio is not None and not t.silent]
        if audio is None or not baseline:
            return []
        found = []
        loud = [a.rms_db for a in baseline if a.rms_db is not None]
        if audio.rms_db is not None and loud and audio.rms_db - fmean(loud) >= p.loudness_rise_db:
            found.append(Evidence("frustration", "prosody", f"{audio.rms_db - fmean(loud):.0f} dB louder than earlier", p.loudness_weight, turn.index))
        pitch = [a.pitch_hz for a in baseline if a.pitch_hz]
        if audio.pitch_hz and pitch and audio.pitch_hz / fmean(pitch) >= p.pitch_rise_ratio:
            found.append(Evidence("frustration", "prosody", f"pitch {audio.pitch_hz / fmean(pitch):.2f}x earlier turns", p.pitch_weight, turn.index))
        rate = [a.words_per_second for a in baseline if a.words_per_second]
        if audio.words_per_second and rate and audio.words_per_second / fmean(rate) >= p.rate_rise_ratio:
            what = f"speaking {audio.words_per_second / fmean(rate):.2f}x faster than earlier"
            found.append(Evidence("urgency", "prosody", what, p.rate_weight, turn.index))
        return found


_CLAUSE = re.compile(r"[.,;:!?]+")


def _clauses(text: str) -> list[str]:
    """The turn, and each part of it between punctuation marks ("that didn't work. agent please")."""
    parts = [part.strip() for part in _CLAUSE.split(text) if part.strip()]
    return [text, *parts] if len(parts) > 1 else [text]


def _stem(token: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Word-set similarity (Jaccard); a turn wholly inside the other counts as the same."""
    shared = len(a & b)
    return 1.0 if shared == min(len(a), len(b)) else shared / len(a | b)
