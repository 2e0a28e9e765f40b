"""The handoff detector: the trained model's reading of each turn, plus what is known about the call.

Per turn, the model (``understanding.model``) gives each signal's probability; above a floor it
becomes evidence (``config/detector.yaml``). (Long turns need no special reading: the model is
trained on long turns too, with a request at the end or two things said in one breath.) Call
features add evidence of their own: the caller repeating themselves, silence, low recogniser confidence, re-prompts, repeat calls,
VIP callers, a matched major incident, prosody. Each signal's running total decays from turn to turn. One rule does
not wait for the model: a turn, or a part of it between punctuation marks, made only of person words
("agent agent", "a real person please", "that didn't work. agent") is a request for a person.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from statistics import fmean
from typing import Sequence

import numpy as np

from frontdoor.handoff.detector_config import DetectorConfig
from frontdoor.handoff.redaction import REDACTED
from frontdoor.handoff.signals import SIGNALS, Assessment, CallerContext, Evidence, Scores, TurnObservation
from frontdoor.handoff.understanding.model import Reading, UnderstandingModel
from frontdoor.handoff.understanding.ngrams import words as turn_words

DISTRESS_PROBABILITY = 0.5
RESTATING_ACTS = frozenset({"report_problem", "inform", "unclear", "request_service"})
"""Acts of a turn that restates the problem; a question, a yes or a goodbye that shares words with an earlier turn is no repetition."""
EXPLAINED_WORDS = 3
REMEMBERED_TURNS = 64
_NOT_SEEN = object()


class ModelDetector:
    """Scores caller turns with the understanding model and the call's features."""

    def __init__(self, model: UnderstandingModel, config: DetectorConfig) -> None:
        self.model = model
        self.config = config
        self._embeddings: OrderedDict[str, np.ndarray | None] = OrderedDict()
        """The latest turns' embeddings, so explaining a handoff never runs the encoder again."""

    def assess(
        self,
        turn: TurnObservation,
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
    ) -> Assessment:
        tokens = turn_words(turn.text)
        read_text = " ".join(turn.text.replace(REDACTED, " ").split())
        read = self._read(read_text) if tokens else None
        evidence: list[Evidence] = []
        if read is not None:
            evidence.extend(self._model_evidence(read, read_text, turn.index))
            asked = next((part for part in _clauses(turn.text) if self._only_person_words(turn_words(part))), None)
            if asked is not None:
                evidence.append(Evidence("human_request", "person_words", f'"{asked}"', 1.0, turn.index))
        evidence.extend(self._call_features(turn, tokens, earlier, previous, context, read))
        scores = Scores(**{s: sum(e.weight for e in evidence if e.signal == s) for s in SIGNALS})
        before = previous[-1].totals if previous else Scores()
        totals = Scores(**{s: before.get(s) * self.config.decay.get(s) + scores.get(s) for s in SIGNALS})
        probabilities = Scores(**{s: read.signals[s] for s in SIGNALS}) if read is not None else Scores()
        return Assessment(
            turn=turn.index,
            scores=scores,
            totals=totals,
            evidence=tuple(evidence),
            security=scores.security > 0,
            distress=read is not None and read.signals["distress"] >= DISTRESS_PROBABILITY,
            topics=tuple(sorted(self._content(tokens)))[:8],
            act=read.act if read is not None else ("unclear" if not turn.silent else ""),
            act_probability=read.acts[read.act] if read is not None else 0.0,
            probabilities=probabilities,
        )

    def explain(self, evidence: Evidence, text: str) -> Evidence:
        """The model evidence with the words that moved it most (each left out in turn) and what it sounds like."""
        if evidence.kind != "model" or evidence.probability is None:
            return evidence
        read_text = " ".join(text.replace(REDACTED, " ").split())
        embedding = self._embeddings.get(read_text, _NOT_SEEN)
        if embedding is _NOT_SEEN:
            embedding = self.model.read_embedded(read_text)[1]
        words = read_text.split()
        base = evidence.probability
        drops = sorted(zip((base - p for p in self.model.without_each_word(words, evidence.signal, embedding)), words), reverse=True)
        moved = tuple(dict.fromkeys(w for drop, w in drops if drop > 0.02 and w.lower() not in self.config.stopwords))[:EXPLAINED_WORDS]
        sounds_like = self.model.examples.nearest(embedding, evidence.signal) if self.model.examples is not None and embedding is not None else ()
        what = evidence.what
        if moved:
            what += f"; words: {', '.join(moved)}"
        if sounds_like:
            what += f'; sounds like "{sounds_like[0]}"'
        return Evidence(evidence.signal, evidence.kind, what, evidence.weight, evidence.turn, evidence.probability, moved, sounds_like)

    def _read(self, text: str) -> Reading:
        reading, embedding = self.model.read_embedded(text)
        self._embeddings[text] = embedding
        while len(self._embeddings) > REMEMBERED_TURNS:
            self._embeddings.pop(next(iter(self._embeddings)), None)
        return reading

    def _model_evidence(self, read: Reading, text: str, index: int) -> list[Evidence]:
        found = []
        for signal in SIGNALS:
            p = read.signals[signal]
            floor, alone = self.config.model.floor.get(signal), self.config.model.alone.get(signal)
            if p < floor:
                continue
            weight = round((p - floor) / (alone - floor), 3)
            found.append(Evidence(signal, "model", f'"{text}" (p {p:.2f})', weight, index, round(p, 3)))
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
        read: Reading | None,
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
        if read is None or read.act in RESTATING_ACTS:
            found.extend(self._repetition(turn.text, tokens, earlier, context, index))
        raised = {e.kind for a in previous for e in a.evidence}
        if context.recent_calls >= c.recent_calls.at_least and "repeat_caller" not in raised:
            found.append(Evidence("frustration", "repeat_caller", f"{context.recent_calls + 1} calls about this recently", c.recent_calls.weight, index))
        if context.vip and "vip" not in raised and (tokens or turn.digits):
            found.append(Evidence("urgency", "vip", "VIP caller", c.vip.weight, index))
        impact = (context.incident_impact or "").lower()
        if impact in c.incident.impact and read is not None and read.signals["urgency"] >= c.model.floor.urgency:
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
