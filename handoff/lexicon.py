"""Lexicons: the words and weights the detector uses, loaded from a folder of YAML files.

``language.yaml`` holds word classes, spellings, negation, reported speech and hypotheticals;
``features.yaml`` the weights of signals that are not wording (repetition, silence, prosody, ...);
one file per signal (``signal: human_request`` ...) holds weighted phrases grouped by kind, and
look-alikes that only resemble triggers. Phrases are word patterns:

- ``word``: that word; ``(a|an|the)``: one of the alternatives (each may be several words);
- a ``?`` after a word or group makes it optional, a ``*`` makes it repeat zero or more times;
- ``<PERSON>``: any entry of the word class ``PERSON``;
- ``...``: up to three other words; ``^`` and ``$``: the turn starts / ends there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from frontdoor.handoff.signals import SIGNALS, Signal

DEFAULT_FOLDER = Path(str(files("frontdoor.config"))) / "lexicons"
FLAGS = ("security", "distress")


class LexiconError(Exception):
    """A lexicon file is missing, is not valid YAML, or holds an unknown key or a value of the wrong type."""


@dataclass(frozen=True)
class Pattern:
    """A compiled word pattern; ``text`` is the pattern as written."""

    text: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Kind:
    """How the phrases of one kind count: flags they raise, and what they need to count in full."""

    name: str
    flag: str | None = None
    needs: str | None = None
    without: float = 0.0
    reported_speech: float = 0.0
    negatable: bool = True


@dataclass(frozen=True)
class Phrase:
    pattern: Pattern
    weight: float
    kind: Kind


@dataclass(frozen=True)
class SignalLexicon:
    signal: Signal
    phrases: tuple[Phrase, ...]
    lookalikes: tuple[Pattern, ...]
    any_phrase: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """One pattern matching wherever any phrase does: most turns need no phrase-by-phrase scan."""
        combined = "|".join(f"(?:{phrase.pattern.regex.pattern})" for phrase in self.phrases) or "(?!)"
        object.__setattr__(self, "any_phrase", re.compile(combined))


@dataclass(frozen=True)
class Language:
    classes: Mapping[str, tuple[str, ...]]
    class_patterns: Mapping[str, Pattern]
    spellings: Mapping[str, str]
    negators: frozenset[str]
    negation_window: int
    new_clause: frozenset[str]
    raising: frozenset[str]
    scope_breakers: frozenset[str]
    reported_speech: tuple[Pattern, ...]
    reported_window: int
    hypothetical: tuple[Pattern, ...]
    hypothetical_window: int
    stopwords: frozenset[str]


@dataclass(frozen=True)
class Features:
    """Weights of the evidence that is not wording; see ``config/lexicons/features.yaml``."""

    decay: Mapping[str, float]
    repetition_similarity: float
    repetition_weight: float
    repetition_after_reprompt: float
    escalation_weight: float
    low_confidence_below: float
    low_confidence_weight: float
    reprompted_weight: float
    silence_weight: float
    keypad_digit: str
    keypad_weight: float
    recent_calls_at_least: int
    recent_calls_weight: float
    vip_weight: float
    incident_levels: frozenset[str]
    incident_weight: float
    incident_needs_kind: str
    loudness_rise_db: float
    loudness_weight: float
    pitch_rise_ratio: float
    pitch_weight: float
    rate_rise_ratio: float
    rate_weight: float


@dataclass(frozen=True)
class Lexicon:
    language: Language
    features: Features
    signals: tuple[SignalLexicon, ...]


def load_lexicon(folder: str | Path | None = None) -> Lexicon:
    """Read and compile every lexicon file in ``folder``; raise ``LexiconError`` naming the file and the problem."""
    root = Path(folder) if folder else DEFAULT_FOLDER
    if not root.is_dir():
        raise LexiconError(f"{root}: lexicon folder not found")
    language_file = root / "language.yaml"
    language = _language(language_file, _read(language_file))
    features_file = root / "features.yaml"
    features = _features(features_file, _read(features_file))
    signals = []
    for path in sorted(root.glob("*.yaml")):
        if path.name in {"language.yaml", "features.yaml"}:
            continue
        signals.append(_signal(path, _read(path), language))
    found = {s.signal for s in signals}
    missing = [s for s in SIGNALS if s not in found]
    if missing:
        raise LexiconError(f"{root}: no lexicon file for signal(s) {', '.join(missing)}")
    return Lexicon(language, features, tuple(signals))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LexiconError(f"{path}: lexicon file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read lexicon file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LexiconError(f"{path}: invalid YAML{f' (line {mark.line + 1})' if mark else ''}") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping of keys at the top level")
    return data


class _Section:
    """One mapping from a lexicon file, read key by key with type checks and unknown-key detection."""

    def __init__(self, path: Path, where: str, data: Any, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise LexiconError(f"{path}: {where or 'top level'}: expected a mapping")
        unknown = sorted(set(map(str, data)) - allowed)
        if unknown:
            raise LexiconError(f"{path}: {where + ': ' if where else ''}unknown key '{unknown[0]}'")
        self.path, self.where, self.data = path, where, data

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def number(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LexiconError(f"{self.path}: {self._name(key)}: expected a number")
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise LexiconError(f"{self.path}: {self._name(key)}: expected a whole number")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise LexiconError(f"{self.path}: {self._name(key)}: expected text")
        return value

    def texts(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise LexiconError(f"{self.path}: {self._name(key)}: expected a list of phrases")
        return value

    def section(self, key: str, allowed: set[str]) -> _Section:
        return _Section(self.path, self._name(key), self.data.get(key, {}), allowed)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise LexiconError(f"{self.path}: {self._name(key)}: expected a mapping")
        return {str(k): v for k, v in value.items()}


def _language(path: Path, data: dict[str, Any]) -> Language:
    top = _Section(path, "", data, {"classes", "spellings", "negation", "scope_breakers", "reported_speech", "hypothetical", "stopwords"})
    classes_data = top.mapping("classes")
    raw_classes: dict[str, list[str]] = {}
    for name, entries in classes_data.items():
        if not re.fullmatch(r"[A-Z_]+", name):
            raise LexiconError(f"{path}: classes.{name}: class names are upper case letters and underscores")
        if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
            raise LexiconError(f"{path}: classes.{name}: expected a list of words or phrases")
        raw_classes[name] = entries
    spellings = top.mapping("spellings")
    if not all(isinstance(v, str) for v in spellings.values()):
        raise LexiconError(f"{path}: spellings: expected word: spelling pairs")
    negation = top.section("negation", {"words", "window", "new_clause", "raising"})
    reported = top.section("reported_speech", {"markers", "window"})
    hypothetical = top.section("hypothetical", {"markers", "window"})
    compile_ = _compiler(path, raw_classes)
    return Language(
        classes={name: tuple(entries) for name, entries in raw_classes.items()},
        class_patterns={name: compile_(f"<{name}>") for name in raw_classes},
        spellings={k.lower(): v.lower() for k, v in spellings.items()},
        negators=frozenset(w.lower() for w in negation.texts("words")),
        negation_window=negation.integer("window", 4),
        new_clause=frozenset(w.lower() for w in negation.texts("new_clause", [])),
        raising=frozenset(w.lower() for w in negation.texts("raising", [])),
        scope_breakers=frozenset(w.lower() for w in top.texts("scope_breakers", [])),
        reported_speech=tuple(compile_(m) for m in reported.texts("markers", [])),
        reported_window=reported.integer("window", 8),
        hypothetical=tuple(compile_(m) for m in hypothetical.texts("markers", [])),
        hypothetical_window=hypothetical.integer("window", 6),
        stopwords=frozenset(w.lower() for w in top.texts("stopwords", [])),
    )


def _features(path: Path, data: dict[str, Any]) -> Features:
    top = _Section(
        path, "", data,
        {"decay", "repetition", "escalation", "low_confidence", "reprompted", "silence", "keypad", "recent_calls", "vip", "incident", "prosody"},
    )
    decay = top.section("decay", set(SIGNALS))
    repetition = top.section("repetition", {"similarity", "weight", "after_reprompt"})
    low = top.section("low_confidence", {"below", "weight"})
    keypad = top.section("keypad", {"digit", "weight"})
    recent = top.section("recent_calls", {"at_least", "weight"})
    incident = top.section("incident", {"impact", "weight", "needs_kind"})
    prosody = top.section(
        "prosody", {"loudness_rise_db", "loudness_weight", "pitch_rise_ratio", "pitch_weight", "rate_rise_ratio", "rate_weight"}
    )
    return Features(
        decay={signal: decay.number(signal, 0.0) for signal in SIGNALS},
        repetition_similarity=repetition.number("similarity", 0.5),
        repetition_weight=repetition.number("weight", 0.0),
        repetition_after_reprompt=repetition.number("after_reprompt", 0.0),
        escalation_weight=top.section("escalation", {"weight"}).number("weight", 0.0),
        low_confidence_below=low.number("below", 0.0),
        low_confidence_weight=low.number("weight", 0.0),
        reprompted_weight=top.section("reprompted", {"weight"}).number("weight", 0.0),
        silence_weight=top.section("silence", {"weight"}).number("weight", 0.0),
        keypad_digit=keypad.text("digit", "0"),
        keypad_weight=keypad.number("weight", 0.0),
        recent_calls_at_least=recent.integer("at_least", 2),
        recent_calls_weight=recent.number("weight", 0.0),
        vip_weight=top.section("vip", {"weight"}).number("weight", 0.0),
        incident_levels=frozenset(v.lower() for v in incident.texts("impact", ["major", "critical"])),
        incident_weight=incident.number("weight", 0.0),
        incident_needs_kind=incident.text("needs_kind", ""),
        loudness_rise_db=prosody.number("loudness_rise_db", 6.0),
        loudness_weight=prosody.number("loudness_weight", 0.0),
        pitch_rise_ratio=prosody.number("pitch_rise_ratio", 1.2),
        pitch_weight=prosody.number("pitch_weight", 0.0),
        rate_rise_ratio=prosody.number("rate_rise_ratio", 1.3),
        rate_weight=prosody.number("rate_weight", 0.0),
    )


def _signal(path: Path, data: dict[str, Any], language: Language) -> SignalLexicon:
    top = _Section(path, "", data, {"signal", "kinds", "phrases", "lookalikes"})
    signal = top.text("signal")
    if signal not in SIGNALS:
        raise LexiconError(f"{path}: signal: expected one of {', '.join(SIGNALS)}, not '{signal}'")
    compile_ = _compiler(path, language.classes)
    kinds: dict[str, Kind] = {}
    for name, options in top.mapping("kinds").items():
        section = _Section(path, f"kinds.{name}", options or {}, {"flag", "needs", "without", "reported_speech", "negatable"})
        flag = section.data.get("flag")
        if flag is not None and flag not in FLAGS:
            raise LexiconError(f"{path}: kinds.{name}.flag: expected one of {', '.join(FLAGS)}")
        needs = section.data.get("needs")
        if needs is not None and needs not in language.classes:
            raise LexiconError(f"{path}: kinds.{name}.needs: unknown word class '{needs}'")
        negatable = section.data.get("negatable", True)
        if not isinstance(negatable, bool):
            raise LexiconError(f"{path}: kinds.{name}.negatable: expected true or false")
        kinds[name] = Kind(name, flag, needs, section.number("without", 0.0), section.number("reported_speech", 0.0), negatable)
    phrases = []
    for kind_name, entries in top.mapping("phrases").items():
        if kind_name not in kinds:
            kinds[kind_name] = Kind(kind_name)
        if not isinstance(entries, dict):
            raise LexiconError(f"{path}: phrases.{kind_name}: expected phrase: weight pairs")
        for text, weight in entries.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise LexiconError(f"{path}: phrases.{kind_name}.'{text}': weight must be a number")
            phrases.append(Phrase(compile_(str(text)), float(weight), kinds[kind_name]))
    lookalikes = tuple(compile_(text) for text in top.texts("lookalikes", []))
    return SignalLexicon(signal, tuple(phrases), lookalikes)  # type: ignore[arg-type]


_TOKEN = re.compile(r"\((?P<group>[^()]*)\)(?P<gq>[?*]?)|<(?P<cls>[A-Za-z_]+)>(?P<cq>[?*]?)|(?P<dots>\.\.\.)|(?P<anchor>[\^$])|(?P<word>[a-z0-9']+)(?P<wq>[?*]?)|(?P<space>\s+)")


def _alternative(entry: str, class_body: Callable[[str], str] | None = None) -> str:
    """One alternative as regex: its words separated by single spaces; ``<NAME>`` expands a word class."""
    pieces = []
    for word in entry.split():
        name = re.fullmatch(r"<([A-Za-z_]+)>", word)
        pieces.append(class_body(name.group(1).upper()) if name and class_body else re.escape(word.lower()))
    return " ".join(pieces)


def _compiler(path: Path, raw_classes: Mapping[str, Sequence[str]]) -> Callable[[str], Pattern]:
    """A function that compiles word patterns, expanding the given word classes."""

    def class_body(name: str) -> str:
        name = name.upper()
        if raw_classes.get(name):
            return "(?:" + "|".join(_alternative(e) for e in raw_classes[name]) + ")"
        raise LexiconError(f"{path}: unknown word class <{name}>")

    def compile_pattern(text: str) -> Pattern:
        source = text.strip().lower().replace("’", "'")
        pieces: list[str] = []
        position = 0
        while position < len(source):
            match = _TOKEN.match(source, position)
            if match is None:
                raise LexiconError(f"{path}: cannot read the pattern '{text}' at '{source[position:]}'")
            position = match.end()
            if match.group("space"):
                continue
            if match.group("anchor") == "^":
                pieces.append(r"\A")
                continue
            if match.group("anchor") == "$":
                pieces.append(r"\Z")
                continue
            if match.group("dots"):
                pieces.append(r"(?: [a-z0-9']+){0,3}")
                continue
            if match.group("group") is not None:
                alternatives = [a for a in match.group("group").split("|")]
                if not all(a.strip() for a in alternatives):
                    raise LexiconError(f"{path}: empty alternative in the pattern '{text}'")
                body, quantifier = "(?:" + "|".join(_alternative(a, class_body) for a in alternatives) + ")", match.group("gq")
            elif match.group("cls"):
                body, quantifier = class_body(match.group("cls")), match.group("cq")
            else:
                body, quantifier = re.escape(match.group("word")), match.group("wq")
            piece = f"(?: {body})"
            pieces.append(piece + quantifier if quantifier else piece)
        if not any(p not in (r"\A", r"\Z") for p in pieces):
            raise LexiconError(f"{path}: the pattern '{text}' has no words")
        try:
            return Pattern(text, re.compile("".join(pieces) + "(?= |$)"))
        except re.error as exc:
            raise LexiconError(f"{path}: cannot compile the pattern '{text}' ({exc})") from None

    return compile_pattern
