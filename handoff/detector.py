"""The rule-based handoff detector: weighted lexicon phrases in their context, plus call features.

A phrase counts unless a look-alike covers it ("agent software"), a negator governs it ("not
urgent"), it is hypothetical ("do I need to talk to someone") or it sits in someone else's reported
words ("my boss said this is ridiculous"). Repetition, escalation, silence, low confidence,
keypad 0, caller history, VIP, incident impact and prosody add evidence of their own. Scores of a
turn add to the call's running totals, which decay from turn to turn per signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Sequence

from frontdoor.handoff.lexicon import DEFAULT_FOLDER, Language, Lexicon, LexiconError, Pattern, Phrase, SignalLexicon, load_lexicon
from frontdoor.handoff.signals import (
    SIGNALS,
    Assessment,
    CallerContext,
    Evidence,
    Scores,
    TurnObservation,
)

__all__ = ["DEFAULT_FOLDER", "LexiconDetector", "LexiconError", "load_detector"]


@dataclass(frozen=True)
class _Turn:
    """One turn's words as the rules read them."""

    tokens: tuple[str, ...]
    text: str

    @classmethod
    def read(cls, raw: str, language: Language) -> _Turn:
        tokens = []
        for word in raw.lower().replace("’", "'").split():
            word = "".join(c for c in word if c.isalnum() or c == "'").strip("'")
            possessive = word.endswith("'s") and word[:-2] not in _S_CONTRACTIONS
            if possessive:
                word = word[:-2]
            if word:
                tokens.extend(language.spellings.get(word, word).split())
            if possessive:
                tokens.append("'s")
        return cls(tuple(tokens), "".join(f" {t}" for t in tokens))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Token span [first, last) of a regex match's character span."""
        return self.text.count(" ", 0, start + 1) - 1, self.text.count(" ", 0, end)

    def quote(self, first: int, last: int) -> str:
        """The words from ``first`` to ``last``, carried past a dangling "to", "the", "i've"... so an agent can read it."""
        while last < len(self.tokens) and last - first < 12 and self.tokens[last - 1] in _DANGLING:
            last += 1
        return " ".join(self.tokens[first:last])


_DANGLING = frozenset("a an the to of for with my our your i i've i'm i'd we we've is are was it's and or but this that real live actual".split())


@dataclass(frozen=True)
class _Hit:
    phrase: Phrase
    first: int
    last: int
    weight: float
    note: str

    def within(self, other: _Hit) -> bool:
        return other.first <= self.first and self.last <= other.last


class LexiconDetector:
    """Scores caller turns for human requests, frustration and urgency from a ``Lexicon``."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.language = lexicon.language
        self.features = lexicon.features

    def assess(
        self,
        turn: TurnObservation,
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
    ) -> Assessment:
        words = _Turn.read(turn.text, self.language)
        evidence: list[Evidence] = []
        for lexicon in self.lexicon.signals:
            evidence.extend(self._wording(lexicon, words, turn.index))
        kinds = {(e.signal, e.kind) for e in evidence if e.weight > 0}
        evidence.extend(self._call_features(turn, words, earlier, previous, context, kinds))
        scores = Scores(**{s: max(0.0, sum(e.weight for e in evidence if e.signal == s)) for s in SIGNALS})
        evidence.extend(self._escalation(scores, previous, turn.index))
        scores = Scores(**{s: max(0.0, sum(e.weight for e in evidence if e.signal == s)) for s in SIGNALS})
        before = previous[-1].totals if previous else Scores()
        totals = Scores(**{s: before.get(s) * self.features.decay[s] + scores.get(s) for s in SIGNALS})
        security = any(e.kind == "security" and e.weight > 0 for e in evidence)
        distress = any(e.kind == "distress" and e.weight > 0 for e in evidence)
        return Assessment(
            turn=turn.index,
            scores=scores,
            totals=totals,
            evidence=tuple(evidence),
            security=security,
            distress=distress,
            topics=self._topics(words),
        )

    def _wording(self, lexicon: SignalLexicon, words: _Turn, index: int) -> list[Evidence]:
        if not words.tokens or not lexicon.any_phrase.search(words.text):
            return []
        covered = [words.span(*m.span()) for p in lexicon.lookalikes for m in p.regex.finditer(words.text)]
        reported = self._scopes(self.language.reported_speech, self.language.reported_window, words)
        hypothetical = self._scopes(self.language.hypothetical, self.language.hypothetical_window, words)
        hits: list[_Hit] = []
        for phrase in lexicon.phrases:
            for match in phrase.pattern.regex.finditer(words.text):
                first, last = words.span(*match.span())
                if last <= first or any(first < b and a < last for a, b in covered):
                    continue
                hits.append(self._weigh(phrase, words, first, last, reported, hypothetical))
        chosen: list[_Hit] = []
        for hit in sorted(hits, key=lambda h: (-abs(h.weight), h.first, h.first - h.last)):
            if not any(hit.within(c) or c.within(hit) for c in chosen):
                chosen.append(hit)
        return [
            Evidence(lexicon.signal, hit.note or hit.phrase.kind.name, f'"{words.quote(hit.first, hit.last)}"', round(hit.weight, 3), index)
            for hit in sorted(chosen, key=lambda h: h.first)
        ]

    def _weigh(
        self,
        phrase: Phrase,
        words: _Turn,
        first: int,
        last: int,
        reported: list[tuple[int, int]],
        hypothetical: list[tuple[int, int]],
    ) -> _Hit:
        kind = phrase.kind
        if kind.negatable and self._negated(words.tokens, first):
            return _Hit(phrase, first, last, 0.0, "negated")
        if kind.negatable and _inside(first, hypothetical):
            return _Hit(phrase, first, last, 0.0, "hypothetical")
        weight = phrase.weight
        note = ""
        if _inside(first, reported):
            weight *= kind.reported_speech
            note = "reported"
        if kind.needs and not self.language.class_patterns[kind.needs].regex.search(words.text):
            weight *= kind.without
        return _Hit(phrase, first, last, weight, note)

    def _negated(self, tokens: tuple[str, ...], first: int) -> bool:
        """Whether a negator governs the phrase at ``first``: close before it, with no clause break between."""
        language = self.language
        new_clause = False
        for position in range(first - 1, max(-1, first - 1 - language.negation_window), -1):
            following = tokens[position + 1]
            if following in language.scope_breakers:
                return False
            new_clause = new_clause or following in language.new_clause
            if tokens[position] in language.negators:
                raising = position + 1 < len(tokens) and tokens[position + 1] in language.raising
                return raising or not new_clause
        return False

    def _scopes(self, markers: Sequence[Pattern], window: int, words: _Turn) -> list[tuple[int, int]]:
        """Token spans governed by each marker: from the marker to a scope breaker or the window's end."""
        scopes = []
        for marker in markers:
            for match in marker.regex.finditer(words.text):
                start, end = words.span(*match.span())
                stop = end
                while stop < len(words.tokens) and stop < end + window and words.tokens[stop] not in self.language.scope_breakers:
                    stop += 1
                scopes.append((start, stop))
        return scopes

    def _call_features(
        self,
        turn: TurnObservation,
        words: _Turn,
        earlier: Sequence[TurnObservation],
        previous: Sequence[Assessment],
        context: CallerContext,
        kinds: set[tuple[str, str]],
    ) -> list[Evidence]:
        f = self.features
        index = turn.index
        found: list[Evidence] = []
        if f.keypad_digit and f.keypad_digit in turn.digits:
            found.append(Evidence("human_request", "keypad", f"pressed {f.keypad_digit}", f.keypad_weight, index))
        if turn.silent and earlier and any(t.silent for t in earlier):
            found.append(Evidence("frustration", "silence", "silent again", f.silence_weight, index))
        if turn.confidence is not None and turn.confidence < f.low_confidence_below and not turn.silent:
            found.append(Evidence("frustration", "low_confidence", f"recogniser confidence {turn.confidence:.2f}", f.low_confidence_weight, index))
        if context.reprompts and (turn.misunderstood or turn.silent):
            found.append(Evidence("frustration", "reprompted", f"still not understood after {context.reprompts} re-prompt(s)", f.reprompted_weight, index))
        found.extend(self._repetition(words, earlier, context, index))
        raised = {e.kind for a in previous for e in a.evidence}
        if context.recent_calls >= f.recent_calls_at_least and "repeat_caller" not in raised:
            found.append(Evidence("frustration", "repeat_caller", f"{context.recent_calls + 1} calls about this recently", f.recent_calls_weight, index))
        if context.vip and "vip" not in raised and (words.tokens or turn.digits):
            found.append(Evidence("urgency", "vip", "VIP caller", f.vip_weight, index))
        impact = (context.incident_impact or "").lower()
        if impact in f.incident_levels and ("urgency", f.incident_needs_kind) in kinds:
            found.append(Evidence("urgency", "incident_impact", f"{impact} incident with business impact", f.incident_weight, index))
        found.extend(self._prosody(turn, earlier))
        return [e for e in found if e.weight != 0]

    def _repetition(self, words: _Turn, earlier: Sequence[TurnObservation], context: CallerContext, index: int) -> list[Evidence]:
        """The caller says again what they said before: once counts, twice counts double.

        After a re-prompt a shorter restatement counts too ("one drive isn't syncing" -> "it isn't syncing").
        """
        f = self.features
        current = self._content(words.tokens)
        if not current:
            return []
        repeated = []
        for before in earlier:
            other = self._content(_Turn.read(before.text, self.language).tokens)
            if other and _similarity(current, other, contained=True) >= f.repetition_similarity:
                repeated.append(before.index)
        if not repeated:
            return []
        insisting = context.reprompts or context.offered_person
        weight = f.repetition_after_reprompt if insisting else f.repetition_weight * min(len(repeated), 2)
        turns = ", ".join(str(i) for i in repeated)
        return [Evidence("frustration", "repetition", f'"{words.quote(0, len(words.tokens))}" repeats turn {turns}', weight, index)]

    def _content(self, tokens: Sequence[str]) -> frozenset[str]:
        return frozenset(_stem(t) for t in tokens if t not in self.language.stopwords)

    def _escalation(self, scores: Scores, previous: Sequence[Assessment], index: int) -> list[Evidence]:
        if not previous or scores.frustration <= 0:
            return []
        last = previous[-1].scores.frustration
        if 0 < last <= scores.frustration:
            return [Evidence("frustration", "escalation", "frustration rising turn after turn", self.features.escalation_weight, index)]
        return []

    def _prosody(self, turn: TurnObservation, earlier: Sequence[TurnObservation]) -> list[Evidence]:
        f = self.features
        audio = turn.audio
        baseline = [t.audio for t in earlier if t.audio is not None and not t.silent]
        if audio is None or not baseline:
            return []
        found = []
        loud = [a.rms_db for a in baseline if a.rms_db is not None]
        if audio.rms_db is not None and loud and audio.rms_db - fmean(loud) >= f.loudness_rise_db:
            found.append(Evidence("frustration", "prosody", f"{audio.rms_db - fmean(loud):.0f} dB louder than earlier", f.loudness_weight, turn.index))
        pitch = [a.pitch_hz for a in baseline if a.pitch_hz]
        if audio.pitch_hz and pitch and audio.pitch_hz / fmean(pitch) >= f.pitch_rise_ratio:
            found.append(Evidence("frustration", "prosody", f"pitch {audio.pitch_hz / fmean(pitch):.2f}x earlier turns", f.pitch_weight, turn.index))
        rate = [a.words_per_second for a in baseline if a.words_per_second]
        if audio.words_per_second and rate and audio.words_per_second / fmean(rate) >= f.rate_rise_ratio:
            what = f"speaking {audio.words_per_second / fmean(rate):.2f}x faster than earlier"
            found.append(Evidence("urgency", "prosody", what, f.rate_weight, turn.index))
        return found

    def _topics(self, words: _Turn) -> tuple[str, ...]:
        return tuple(sorted(self._content(words.tokens)))[:8]


_S_CONTRACTIONS = frozenset("it that what he she there here who where let how everyone everybody nobody someone somebody".split())


def _inside(position: int, scopes: list[tuple[int, int]]) -> bool:
    return any(start <= position < stop for start, stop in scopes)


def _stem(token: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def _similarity(a: frozenset[str], b: frozenset[str], contained: bool = False) -> float:
    """Token-set similarity (Jaccard); with ``contained``, a turn wholly inside the other counts as the same."""
    shared = len(a & b)
    jaccard = shared / len(a | b)
    return 1.0 if contained and shared == min(len(a), len(b)) else jaccard


def load_detector(path: str | Path | None = None) -> LexiconDetector:
    """The detector built from the lexicon folder ``path`` (default: ``config/lexicons``)."""
    return LexiconDetector(load_lexicon(path))
