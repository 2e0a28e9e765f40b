"""Redaction of spoken secrets, measured on corpora of spoken PII and of ordinary numbers (``tests/data/pii/``).

Targets: every secret in ``spoken_pii.txt`` redacted; at most 2% of ``calm.txt`` changed. The held-out
files were written after the redactor was tuned on the other two; their first run redacted 55 of 59
secrets (93%) and changed 1 of 73 calm lines (1.4%); the misses were then fixed, so now they are
tuned on as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontdoor.handoff.redaction import REDACTED, redact

CORPORA = Path(__file__).parent / "data" / "pii"
SECRET = re.compile(r"\[\[(.+?)\]\]")
CALM_LIMIT = 0.02


def lines(name: str) -> list[str]:
    text = (CORPORA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def leaked(marked: str) -> tuple[str, list[str]]:
    """What ``redact`` made of the line, and the secret words and digits still in it (lead words may stay)."""
    said = SECRET.sub(r"\1", marked)
    around = tokens(SECRET.sub(" ", marked))
    kept = tokens(redact(said).replace(REDACTED, " "))
    return redact(said), [token for secret in SECRET.findall(marked) for token in sorted(tokens(secret)) if token not in around and token in kept]


PII = lines("spoken_pii.txt") + lines("held_out_pii.txt")
CALM = lines("calm.txt") + lines("held_out_calm.txt")


def test_the_corpora_are_big_enough() -> None:
    assert len(lines("spoken_pii.txt")) >= 200 and len(lines("calm.txt")) >= 200
    assert all(SECRET.search(line) for line in PII)
    assert not any(SECRET.search(line) for line in CALM)


@pytest.mark.parametrize("marked", PII)
def test_every_spoken_secret_is_redacted(marked: str) -> None:
    redacted, left = leaked(marked)
    assert REDACTED in redacted and not left, f"{redacted!r} still says {left}"


def test_ordinary_numbers_are_left_alone() -> None:
    changed = [(line, redact(line)) for line in CALM if redact(line) != line]
    assert len(changed) / len(CALM) <= CALM_LIMIT, changed


@pytest.mark.parametrize(
    ("said", "secret"),
    [
        ("4111, 1111, 1111, 1111", "1111"),
        ("my password's Hunter2!", "Hunter2"),
        ("the password I use is correct horse battery staple", "horse battery"),
        ("my passphrase is purple monkey dishwasher", "monkey"),
        ("I got 482913 by text", "482913"),
        ("123-45-6789", "6789"),
        ("SSN 123 45 6789", "6789"),
    ],
)
def test_what_issue_13_found_unredacted_is_redacted(said: str, secret: str) -> None:
    assert secret not in redact(said) and REDACTED in redact(said)


def test_keypad_digits_and_the_lead_words_survive() -> None:
    assert redact("my password is Hunter2!") == f"my password is {REDACTED}"
    assert redact("ticket 482913, the code they sent is 663 201") == f"ticket 482913, the code they sent is {REDACTED}"
    assert redact(redact("my card is 4111 1111 1111 1111")) == f"my card is {REDACTED}"
    assert redact("1") == "1" and redact("0") == "0"
