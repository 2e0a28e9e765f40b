"""Redaction of secrets a caller may say aloud: card, bank and social security numbers, passwords, one-time codes.

Two readings of the words, each marking spans of the text to replace with ``[redacted]``:

- **numbers**: runs of digits and number words ("4111, 1111", "four eight two nine one three", "forty one
  eleven", "double one") are secret when a word nearby says so (card, code, pin, text, social, account,
  routing, ...), or when they look like a card (12 or more digits) or a US social security number
  (3-2-4 digits), and never when the nearest word says they are ordinary (ticket, extension, room,
  error, asset tag, model, ...);
- **what is said after a password**: "my password's Hunter2!", "the password I use is correct horse
  battery staple", "it's p a s s w o r d one two three", "I typed Autumn#55 as my password", an IBAN:
  the words up to the end of the clause, unless they describe the password instead of being it
  ("my password is wrong apparently", "... is not working", "... has to be 14 characters").

The lead words ("my password is", "the code they sent is") stay, so agents can read what was said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

REDACTED = "[redacted]"

_UNITS = frozenset("zero oh one two three four five six seven eight nine".split())
_TEENS = frozenset("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())
_TENS = frozenset("twenty thirty forty fifty sixty seventy eighty ninety".split())
_REPEATS = {"double": 2, "triple": 3}

_SECRET_NUMBER_WORDS = frozenset(
    "card cards credit debit visa mastercard amex discover cvv cvc cv2 csc security code codes passcode pin pins otp "
    "token verification verify authenticator authentication 2fa mfa text texts texted txt sms message messaged "
    "sent emailed password passwords pw pwd passphrase social ssn ss routing aba sort account acct accounts iban bank "
    "checking savings tax tin ein".split()
)
"""Words that say a nearby number is a secret."""
_ORDINARY_NUMBER_WORDS = frozenset(
    "ticket tickets incident incidents inc case cases request requests req change problem order orders po invoice "
    "reference ref extension ext room rooms floor level building suite desk bay cube asset tag tags serial imei mac "
    "device hostname host badge employee staff user id model version build kb firmware error errors status event "
    "exit fault port vlan ip gateway option press pressed dial call reach cell mobile zip postcode street".split()
)
"""Words that say a nearby number is an ordinary one."""
_ORDINARY_CODES = frozenset(
    "error status area zip postal post exit fault stop product promo country qr source tracking reference event http "
    "dial short colour color".split()
)
"""A ``code`` after these is not a secret ("error code 404", "zip code 94107")."""
_ORDINARY_CARDS = frozenset("badge access id sd sim graphics video sound network memory key gift business".split())
_SECRET_IDS = frozenset("tax".split())
_REACH_ME = frozenset("text txt sms message email".split())
"""``text me at`` a number: a phone number, not a code."""

CARD_DIGITS = 12
"""A run this long is a card or account number even when followed by a noun."""
_SECRET_NOUNS = frozenset("password passwords passphrase passcode pw pwd pin".split())
_TWO_WORD_NOUNS = {("pass", "word"), ("pass", "phrase"), ("pass", "code")}
_CODE_NOUNS = frozenset("code iban".split())
"""After these, only something with a digit in it is a secret ("the reset code is K7Q2MX", an IBAN)."""
_SAYING = frozenset("is was equals =".split())
_SAYING_PAIRS = {("would", "be"), ("will", "be")}
_IT_IS = {("it", "is"), ("it", "was")}
_NEW_SUBJECT = frozenset("and but so because cause though although if when since while".split())
"""After these only "it's" still names the password ("I reset my password and now it's ..."), not "somebody ... is"."""
_SETTING = frozenset("set changed change reset updated update switched made".split())
_NOT_ABOUT_THE_SECRET = frozenset(
    "policy policies reset resets link links requirement requirements rule rules field box page screen prompt manager "
    "expiry expiration length hint question questions strength history complexity lockout attempts change changes "
    "portal issue issues problem problems error errors".split()
)
"""Words between "password" and "is" that mean the sentence is about something else ("the password reset link is broken")."""
_DESCRIBING = frozenset(
    "wrong incorrect invalid expired expiring expires expire locked blocked rejected rejecting correct right fine ok "
    "okay good bad weak strong long short old new same different changed changing reset resetting working broken not "
    "no never being getting too case required needed missing empty blank stuck there saved stored written somewhere "
    "something nothing definitely probably apparently really very also only all about like over under more less "
    "supposed meant hard easy complicated simple gone unknown forgotten lost compromised leaked hacked stolen the a "
    "an my your our his her their this that in on at for of to from with by up down out off what how why where who "
    "set updated synced syncing sensitive showing shown visible hidden asking prompting coming going due already "
    "disabled enabled accepted recognised recognized failing".split()
)
"""First words that describe a password instead of being one ("my password is wrong apparently")."""
_AFTERWORDS = _DESCRIBING | frozenset("apparently again anymore today yesterday now though either working after before until since because".split())
_UNITS_OF_MEASURE = frozenset("people gb mb tb kb percent dollars pounds euros inch inches".split())
_VERBS_IN_S = frozenset("says comes goes shows reads works".split())
_LOOK_BACK = 7
"""Words before a number searched for one that says what it is."""
_LOOK_AHEAD = 5
_MEASURES = frozenset("characters character chars letters letter digits digit numbers symbols days weeks months times attempts tries minutes hours long".split())
_LEADING_FILLERS = frozenset("now just literally basically actually like um uh erm still currently simply always".split())
_CLAUSE_ENDS = frozenset(
    "and but so because cause cos which though although if when then since while can could would will please thanks "
    "thank that's thats isn't doesn't won't didn't wasn't not no never last yesterday today again anymore".split()
)
_SPELLING = frozenset(
    "capital capitals caps lowercase uppercase small number symbol exclamation mark point at sign hash dollar underscore dash dot star".split()
)
_SPELLING_JOINS = frozenset("then and".split())
"""Words that join the parts of a spelt-out secret ("all caps TIGER then 88")."""
_GIVING = frozenset("it's typed type entered enter tried try used use put gave give is was".split())
_AS_THE = frozenset("as for".split())

_WORD = re.compile(r"\S+")
_DIGITS = re.compile(r"\d+(?:[-.,]\d+)*")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    raw: str
    said: str
    """Lower case, no surrounding punctuation, curly apostrophes straightened: "it's", "password's"."""
    bare: str
    """``said`` without a trailing 's: "password's" -> "password"."""
    ends_clause: bool
    """Followed by ``,`` ``;`` ``.`` ``?`` or ``!``: the end of a clause."""

    @cached_property
    def digits(self) -> int:
        """Digits this word stands for as part of a number: "4111" 4, "123-45-6789" 9, "four" 1, "eleven" 2."""
        if _DIGITS.fullmatch(self.bare):
            return sum(c.isdigit() for c in self.bare)
        if self.bare in _UNITS:
            return 1
        if self.bare in _TEENS or self.bare in _TENS:
            return 2
        return 0

    @cached_property
    def identifier(self) -> int:
        """Digits in a word that mixes them with letters ("G-482913" 6), when it has at least three."""
        if not any(c.isalpha() for c in self.bare):
            return 0
        count = sum(c.isdigit() for c in self.bare)
        return count if count >= 3 else 0

    @cached_property
    def mixed(self) -> bool:
        """Letters together with digits or symbols: "Hunter2!", "Tr0ub4dor&3", "G-482913"."""
        core = self.raw.strip(",.;:?\"'()")
        return any(c.isalpha() for c in core) and any(c.isdigit() or not c.isalnum() for c in core.replace("'", ""))


def redact(text: str) -> str:
    """``text`` with spoken secrets replaced by ``[redacted]``; everything else as it was."""
    words = _words(text)
    spans = _secret_numbers(words) + _secrets_after_leads(words) + _secrets_before_leads(words) + _written_ibans(text)
    return _replace(text, spans)


def _words(text: str) -> list[_Word]:
    found = []
    for match in _WORD.finditer(text):
        raw = match.group().replace("’", "'")
        said = raw.strip(",.;:?!\"()[]").lower()
        bare = said[:-2] if said.endswith("'s") and len(said) > 2 else said
        found.append(_Word(match.start(), match.end(), raw, said, bare, raw[-1] in ",;.?!"))
    return found


# --- numbers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    first: int
    last: int
    digits: int
    shape: tuple[int, ...]
    identifier: bool = False
    """A code written with letters ("G-482913", "INC0012345"): a secret only when a word nearby says so."""


def _number_runs(words: list[_Word]) -> list[_Run]:
    """Neighbouring number words and digit groups, read as one number ("4111, 1111", "forty one eleven")."""
    runs: list[_Run] = []
    index = 0
    while index < len(words):
        if words[index].identifier:
            runs.append(_Run(index, index, words[index].identifier, (), identifier=True))
            index += 1
            continue
        if not _starts_number(words, index):
            index += 1
            continue
        first, digits, shape = index, 0, []
        while index < len(words) and (words[index].digits or _repeats(words, index)):
            word = words[index]
            if _repeats(words, index):
                digits += _REPEATS[word.bare] - 1
            elif word.bare in _TENS and index + 1 < len(words) and words[index + 1].bare in _UNITS and words[index + 1].bare not in {"zero", "oh"}:
                digits += 2
                shape.append(2)
                index += 2
                continue
            else:
                digits += word.digits
                shape.extend(_groups(word))
            index += 1
            if word.raw[-1] in ";?!":
                break
        runs.append(_Run(first, index - 1, digits, tuple(shape)))
    return runs


def _groups(word: _Word) -> list[int]:
    """Digits per group: "123-45-6789" [3, 2, 4], "four" [1]."""
    if word.bare[:1].isdigit():
        return [len(part) for part in re.split(r"[-.,]", word.bare) if part]
    return [word.digits]


def _starts_number(words: list[_Word], index: int) -> bool:
    word = words[index]
    if word.bare == "oh":
        return index + 1 < len(words) and bool(words[index + 1].digits)
    return bool(word.digits) or _repeats(words, index)


def _repeats(words: list[_Word], index: int) -> bool:
    return words[index].bare in _REPEATS and index + 1 < len(words) and words[index + 1].bare in _UNITS


def _number_kind(words: list[_Word], index: int) -> str | None:
    """``"secret"``, ``"ordinary"`` or None: what ``words[index]`` says about a number next to it."""
    bare = words[index].bare
    before = words[index - 1].bare if index > 0 else ""
    if bare in {"code", "codes"}:
        return "ordinary" if before in _ORDINARY_CODES else "secret"
    if bare in {"card", "cards"}:
        return "ordinary" if before in _ORDINARY_CARDS else "secret"
    if bare == "email":
        return "secret" if before in {"by", "an", "via"} else None
    if bare in _REACH_ME and [w.bare for w in words[index + 1 : index + 3]] in (["me", "at"], ["me", "on"]):
        return "ordinary"
    if bare == "id" and before in _SECRET_IDS:
        return "secret"
    if bare == "n" and before == "s" and index > 1 and words[index - 2].bare == "s":
        return "secret"
    if bare in _SECRET_NUMBER_WORDS:
        return "secret"
    if bare in _ORDINARY_NUMBER_WORDS:
        return "ordinary"
    return None


def _secret_numbers(words: list[_Word]) -> list[tuple[int, int]]:
    runs = _number_runs(words)
    in_run = {i for run in runs for i in range(run.first, run.last + 1)}
    claimed: set[int] = set()
    secret: list[tuple[int, int]] = []
    for run in runs:
        if run.digits < CARD_DIGITS and _counts_something(words, run.last + 1):
            continue  # "the bank by five or 400 people don't get paid": a count, whatever is said nearby
        kind = None
        for index in range(run.first - 1, max(-1, run.first - 1 - _LOOK_BACK), -1):
            if index in in_run or index in claimed:
                continue
            kind = _number_kind(words, index)
            if kind == "ordinary":
                claimed.add(index)
            if kind is not None:
                break
        if kind is None and not words[run.last].ends_clause and not _counts_something(words, run.last + 1):
            for index in range(run.last + 1, min(len(words), run.last + 1 + _LOOK_AHEAD)):
                if index in in_run:
                    break
                if _number_kind(words, index) == "secret":
                    kind = "secret"
                    break
                if words[index].ends_clause:
                    break
        if _is_secret_number(run, kind):
            secret.append(_span(words, run.first, run.last))
    return secret


def _counts_something(words: list[_Word], index: int) -> bool:
    """The number is followed by what it counts or measures ("300 people", "12 GB", "4 times")."""
    if index >= len(words):
        return False
    bare = words[index].bare
    return bare in _MEASURES or bare in _UNITS_OF_MEASURE or (len(bare) > 3 and bare.endswith("s") and bare not in _VERBS_IN_S)


def _is_secret_number(run: _Run, kind: str | None) -> bool:
    if kind == "ordinary":
        return False
    if kind == "secret":
        return run.digits >= 3
    return not run.identifier and (run.digits >= 12 or run.shape == (3, 2, 4))


# --- what is said after (or before) a password ------------------------------------------------


def _secrets_after_leads(words: list[_Word]) -> list[tuple[int, int]]:
    secret = []
    mentioned_password = False
    index = 0
    while index < len(words):
        noun_end = _noun_at(words, index, mentioned_password)
        if noun_end is None:
            index += 1
            continue
        mentioned_password = True
        is_code = words[index].bare in _CODE_NOUNS
        start, said = _after_saying(words, index, noun_end)
        if start is not None:
            end = _clause_end(words, start)
            if end >= start and _is_secret(words[start : end + 1], said=said, needs_digit=is_code):
                secret.append(_span(words, start, end))
                index = end + 1
                continue
        index = noun_end + 1
    return secret


def _noun_at(words: list[_Word], index: int, mentioned_password: bool) -> int | None:
    """The index of the last word of a password noun starting at ``index`` ("password", "pass word", "the new one")."""
    bare = words[index].bare
    before = words[index - 1].bare if index > 0 else ""
    if bare in _SECRET_NOUNS:
        return index
    if bare in _CODE_NOUNS and (bare != "code" or before not in _ORDINARY_CODES):
        return index
    if index + 1 < len(words) and (bare, words[index + 1].bare) in _TWO_WORD_NOUNS:
        return index + 1
    if bare == "one" and mentioned_password and before in {"new", "old", "other", "current", "temporary"}:
        return index
    return None


def _after_saying(words: list[_Word], noun: int, noun_end: int) -> tuple[int | None, bool]:
    """Where the secret starts after the noun, and whether the caller said what it is ("is", "'s", ":", "to")."""
    raw = words[noun_end].raw
    if raw.lower().endswith(("'s", ":")) or raw.endswith("="):
        return noun_end + 1, True
    setting = any(w.bare in _SETTING for w in words[max(0, noun - 3) : noun])
    new_subject = False
    for index in range(noun_end + 1, min(len(words), noun_end + 7)):
        word = words[index]
        pair = tuple(w.bare for w in words[index : index + 2])
        if word.said == "it's":
            return index + 1, True
        if pair in _IT_IS:
            return index + 2, True
        new_subject = new_subject or word.bare in _NEW_SUBJECT
        if new_subject:
            continue
        if word.bare in _SAYING or word.raw.endswith(":"):
            return index + 1, True
        if pair in _SAYING_PAIRS:
            return index + 2, True
        if word.bare == "to" and index == noun_end + 1 and setting:
            return index + 1, True
        if index == noun_end + 1 and not words[noun_end].ends_clause and word.mixed:
            return index, False
        if word.bare in _NOT_ABOUT_THE_SECRET or word.bare in {"has", "have", "needs", "should", "must", "expires"}:
            return None, False
    return None, False


def _clause_end(words: list[_Word], start: int) -> int:
    """The last word of the clause that starts at ``start`` (spelt-out secrets run on past commas)."""
    opening = words[start : start + 6]
    spelling = sum(1 for w in opening if len(w.bare) == 1 and w.bare.isalpha()) >= 2 or any(w.bare in _SPELLING for w in opening[:3])
    limit = 16 if spelling else 8
    index = start
    while index < len(words) and index - start < limit:
        word = words[index]
        if index > start and word.bare in _CLAUSE_ENDS and not (spelling and word.bare in _SPELLING_JOINS):
            return index - 1
        if word.ends_clause:
            following = words[index + 1] if index + 1 < len(words) else None
            if following is None or not word.raw.endswith(","):
                return index
            if not (_spelt(following) or _restated(words, index + 1)):
                return index
        index += 1
    return index - 1


def _restated(words: list[_Word], start: int) -> bool:
    """After a comma, the secret itself once more, with digits in it ("my dog's name plus 123, buster123")."""
    if words[start].bare in _CLAUSE_ENDS:
        return False
    rest = words[start : start + 6]
    cut = next((i for i, w in enumerate(rest) if w.bare in _CLAUSE_ENDS or w.ends_clause), len(rest) - 1)
    return any(w.mixed or w.digits for w in rest[: cut + 1])


def _spelt(word: _Word) -> bool:
    return (len(word.bare) == 1 and word.bare.isalnum()) or word.bare in _UNITS or word.bare in _SPELLING


def _is_secret(clause: list[_Word], *, said: bool, needs_digit: bool) -> bool:
    while clause and clause[0].bare in _LEADING_FILLERS:
        clause = clause[1:]
    if not clause:
        return False
    if needs_digit:
        return any(any(c.isdigit() for c in w.raw) or w.digits for w in clause)
    first = clause[0]
    if first.digits and len(clause) > 1 and clause[1].bare in _MEASURES:
        return False
    if sum(1 for w in clause if len(w.bare) == 1 and w.bare.isalpha()) >= 3:
        return True
    if first.bare in _DESCRIBING and (len(clause) == 1 or clause[1].bare in _AFTERWORDS):
        return False
    return said or any(w.mixed for w in clause)


def _secrets_before_leads(words: list[_Word]) -> list[tuple[int, int]]:
    """ "it's Winter2023, that's my password", "I typed Autumn#55 as my password"."""
    secret = []
    for index in range(1, len(words) - 2):
        lead = words[index].said
        rest = [w.bare for w in words[index + 1 : index + 4]]
        if lead == "that" and rest[:1] == ["is"]:
            rest = rest[1:]
        elif lead not in _AS_THE and lead != "that's":
            continue
        if len(rest) < 2 or rest[0] not in {"my", "the"} or rest[1] not in _SECRET_NOUNS:
            continue
        start = next((i + 1 for i in range(index - 1, max(-1, index - 10), -1) if words[i].said in _GIVING), None)
        if start is None or start >= index:
            continue
        clause = words[start:index]
        if _is_secret(clause, said=True, needs_digit=False):
            secret.append(_span(words, start, index - 1))
    return secret


def _written_ibans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _IBAN.finditer(text)]


# --- putting it together ----------------------------------------------------------------------


def _span(words: list[_Word], first: int, last: int) -> tuple[int, int]:
    """The characters of ``words[first..last]``, without the punctuation around them."""
    start = words[first].start + (len(words[first].raw) - len(words[first].raw.lstrip("\"'(")))
    end = words[last].end - (len(words[last].raw) - len(words[last].raw.rstrip(",.;:?\"')")))
    return start, max(start + 1, end)


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(text[position:start])
        out.append(REDACTED)
        position = end
    out.append(text[position:])
    return "".join(out)
