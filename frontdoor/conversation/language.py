"""Small, pure readings of what a caller said: yes, no, goodbye, a greeting, a score."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")

_YES = {"yes", "yeah", "yep", "yup", "sure", "please", "absolutely", "definitely", "correct"}
_WEAK_YES = {"ok", "okay", "alright", "right", "fine"}
_FILLERS = frozenset(
    "a an the and or but so um uh erm er oh ah hmm like just well i i'm me my you your it it's is are was this that "
    "what to of in on for with at be do does can could would please yes yeah no ok okay hi hello hey there thing things "
    "stuff whatsit whatever something about from before wondering was were been have has had".split()
)
_YES_PHRASES = ("go ahead", "sounds good", "that would be great", "that'd be great", "do that", "text me", "why not", "i would", "i'd like that")
_NO = {"no", "nope", "nah"}
_NO_PHRASES = ("not now", "no thanks", "no thank you", "i'm good", "im good", "i'm fine", "that's all", "thats all", "nothing else", "don't bother", "not really", "i'm all set", "all set")
_CLOSING_PHRASES = (
    "thank you", "thanks", "bye", "goodbye", "that's all", "thats all", "that's it", "got it", "perfect", "that works",
    "makes sense", "i'll try that", "ill try that", "i'll do that", "all set", "no worries", "great", "cool", "awesome",
    "have a good", "appreciate it", "cheers", "no problem",
)
_GREETING_WORDS = {"hi", "hello", "hey", "hiya", "morning", "afternoon", "evening", "good", "there", "um", "uh", "erm", "so", "yes", "yeah", "oh", "ok", "okay"}
_HELLO_WORDS = {"hi", "hello", "hey", "hiya", "morning", "afternoon", "evening"}
_QUESTION_STARTS = {"how", "what", "when", "where", "why", "who", "which", "is", "are", "can", "could", "do", "does", "did", "will", "would", "should", "any", "anything"}
_BOT_CHECK = ("is this a recording", "is this a robot", "is this a machine", "is this a bot", "am i talking to a", "is this automated", "are you a robot", "are you a bot", "are you real", "are you a person")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {' '.join(words(text))} "
    return any(f" {phrase} " in padded for phrase in phrases)


def is_affirmative(text: str) -> bool:
    """A yes to the question just asked: "yes please", "sure", "okay" alone, "go ahead" (not "okay, the app says...")."""
    tokens = words(text)
    if not tokens or is_negative(text):
        return False
    if _has_phrase(text, _YES_PHRASES):
        return True
    return (tokens[0] in _YES and len(tokens) <= 5) or (tokens[0] in _WEAK_YES and all(token in _YES or token in _WEAK_YES for token in tokens[1:3]) and len(tokens) <= 3)


def says_something(text: str) -> bool:
    """At least two words beyond fillers: a request the assistant can acknowledge, even if it has no answer."""
    return sum(1 for token in words(text) if token not in _FILLERS) >= 2


def is_negative(text: str) -> bool:
    tokens = words(text)
    return bool(tokens) and (tokens[0] in _NO or _has_phrase(text, _NO_PHRASES))


def is_closing(text: str) -> bool:
    """The caller is wrapping up ("thanks", "got it", "that's all") and asks nothing new."""
    tokens = words(text)
    if not tokens or len(tokens) > 12 or is_question(text):
        return False
    return _has_phrase(text, _CLOSING_PHRASES)


def is_greeting(text: str) -> bool:
    """Only greeting and filler words: 'hi', 'good morning', 'um hello'."""
    tokens = words(text)
    return bool(tokens) and all(token in _GREETING_WORDS for token in tokens) and bool(set(tokens) & _HELLO_WORDS)


def is_question(text: str) -> bool:
    tokens = words(text)
    return bool(tokens) and (tokens[0] in _QUESTION_STARTS or text.strip().endswith("?"))


def is_bot_check(text: str) -> bool:
    """'Is this a recording?', 'am I talking to a machine?'"""
    return _has_phrase(text, _BOT_CHECK)


def survey_score(text: str, digits: str = "") -> int | None:
    """A 1–5 rating from keypad digits or speech ('four', 'a five', '4 out of 5')."""
    for source in (digits.strip(), *words(text)):
        if source in _NUMBER_WORDS:
            return _NUMBER_WORDS[source]
    return None


MAX_TURN_CHARS = 5_000


def clean_text(text: str) -> str:
    """Caller text safe to store and show: no undecodable bytes or control characters, bounded length."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(ch if ch.isprintable() else " " for ch in text[:MAX_TURN_CHARS])
    return " ".join(text.split())
