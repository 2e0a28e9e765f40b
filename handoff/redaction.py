"""Redaction of secrets a caller may say aloud: card numbers, passwords, one-time codes."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_NUMBER_WORDS = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
_DIGIT = rf"(?:\d|\b(?:{_NUMBER_WORDS})\b)"
_SEP = r"[\s.-]*"

_CARD_DIGITS = re.compile(r"\b\d(?:[\s-]*\d){11,18}\b")
_SPOKEN_DIGITS = re.compile(rf"\b(?:{_NUMBER_WORDS})(?:{_SEP}(?:{_NUMBER_WORDS}|\d)){{5,}}\b", re.IGNORECASE)
_SECRET_AFTER = re.compile(
    r"\b(?P<lead>(?:pass ?word|passcode|pin|pin code|one[- ]time (?:code|password)|verification code|security code|"
    r"auth(?:entication)? code|otp|code|cvv|cvc)\s*(?:is|was|it's|its|of|:|=)?\s*)"
    r"(?P<secret>(?:\"[^\"]+\"|'[^']+'|\S+)(?:\s+(?:\d+|" + _NUMBER_WORDS + r"))*)",
    re.IGNORECASE,
)
_CODE_LATER = re.compile(
    rf"\b(?P<lead>(?:code|pin|password|passcode)\b(?:\s+\w+){{1,4}}?\s+(?:is|was|:)\s+)(?P<secret>{_DIGIT}(?:{_SEP}{_DIGIT}){{3,}})",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(rf"{_DIGIT}(?:{_SEP}{_DIGIT}){{3,}}", re.IGNORECASE)
_NOT_A_SECRET = frozenset(
    "reset expired expires expiring doesn't does isn't not won't for to and on in wrong incorrect locked blocked invalid "
    "rejected correct right still the a my being getting too no never always working broken".split()
)


def redact(text: str) -> str:
    """``text`` with card numbers, spoken digit strings, passwords and codes replaced by ``[redacted]``."""
    text = _CARD_DIGITS.sub(REDACTED, text)
    text = _SECRET_AFTER.sub(_redact_secret, text)
    text = _CODE_LATER.sub(lambda m: f"{m.group('lead')}{REDACTED}", text)
    return _SPOKEN_DIGITS.sub(REDACTED, text)


def _redact_secret(match: re.Match[str]) -> str:
    secret = match.group("secret")
    first = secret.split()[0].strip("\"'").lower()
    if first in _NOT_A_SECRET or first == REDACTED.lower():
        return match.group(0)
    has_digits = bool(_DIGIT_RUN.search(secret)) or any(c.isdigit() for c in secret)
    said_what_it_is = re.search(r"(?:is|was|it's|its|:|=)\s*$", match.group("lead"), re.IGNORECASE) is not None
    if not has_digits and ("code" in match.group("lead").lower() or not said_what_it_is):
        return match.group(0)
    return f"{match.group('lead')}{REDACTED}"
