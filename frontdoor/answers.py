"""Short answers the assistant can give by itself, from ``config/answers.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from frontdoor.conversation.language import words
from frontdoor.errors import ConfigError
from frontdoor.yamlfile import read_yaml


@dataclass(frozen=True)
class Answer:
    id: str
    type: str
    when: tuple[frozenset[str], ...]
    say: str


def spoken_forms(text: str) -> set[str]:
    """Each word, plus each pair of neighbours written together ("out look" -> "outlook", "wi fi" -> "wifi")."""
    tokens = words(text)
    return set(tokens) | {a + b for a, b in zip(tokens, tokens[1:])}


@dataclass(frozen=True)
class AnswerBook:
    answers: tuple[Answer, ...] = ()

    def find(self, text: str) -> Answer | None:
        """The answer whose every word group is met by the caller's words (most groups wins)."""
        forms = spoken_forms(text)
        best: Answer | None = None
        for answer in self.answers:
            if all(group & forms for group in answer.when) and (best is None or len(answer.when) > len(best.when)):
                best = answer
        return best


def load_answer_book(path: Path) -> AnswerBook:
    data = read_yaml(path, "answers file")
    entries = (data or {}).get("answers", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected 'answers:' followed by a list")
    answers = []
    for index, entry in enumerate(entries):
        where = f"{path}: answers[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with id, when and say")
        for key in ("id", "say"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ConfigError(f"{where}.{key}: required text")
        groups = entry.get("when")
        if not isinstance(groups, list) or not groups or not all(isinstance(g, list) and g and all(isinstance(w, str) for w in g) for g in groups):
            raise ConfigError(f"{where}.when: expected a list of word lists")
        answers.append(
            Answer(entry["id"], str(entry.get("type", "how_to")), tuple(frozenset(w.lower() for w in g) for g in groups), entry["say"].strip())
        )
    return AnswerBook(tuple(answers))
