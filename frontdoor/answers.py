"""Short answers the assistant can give by itself, from ``config/answers.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from frontdoor.conversation.language import words
from frontdoor.errors import ConfigError
from frontdoor.schemas import AnswerFile, check
from frontdoor.yamlfile import read_yaml


@dataclass(frozen=True)
class Answer:
    id: str
    type: str
    when: tuple[frozenset[str], ...]
    say: str


def spoken_forms(text: str) -> set[str]:
    """Each word and its stems ("adding" -> "add"), plus each pair of neighbours written together ("out look" -> "outlook")."""
    tokens = words(text)
    return set(tokens) | {stem for t in tokens for stem in _stems(t)} | {a + b for a, b in zip(tokens, tokens[1:])}


def _stems(word: str) -> set[str]:
    """"adding" -> add, "setting" -> sett and set, "installed" -> install."""
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            return {stem, stem[:-1]} if stem[-1] == stem[-2] else {stem}
    return set()


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
    if data is None:
        return AnswerBook()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'answers:' followed by a list")
    return AnswerBook(
        tuple(
            Answer(entry.id, entry.type, tuple(frozenset(word.lower() for word in group) for group in entry.when), entry.say)
            for entry in check(AnswerFile, data, str(path)).answers or []
        )
    )
