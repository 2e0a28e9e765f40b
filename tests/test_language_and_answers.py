"""Small readings of caller words, the answer book and the employee directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdoor import CONFIG_DIR
from frontdoor.answers import load_answer_book
from frontdoor.conversation.language import (
    is_affirmative,
    says_something,
    is_bot_check,
    is_closing,
    is_greeting,
    is_negative,
    survey_score,
)
from frontdoor.directory import load_directory, normalise_number
from frontdoor.errors import ConfigError


@pytest.mark.parametrize("text", ["yes", "yeah please", "sure", "yes please text me", "go ahead", "okay do that"])
def test_affirmative(text: str) -> None:
    assert is_affirmative(text)


@pytest.mark.parametrize("text", ["no", "no thanks", "nope i'm good", "not now", "the printer is broken"])
def test_not_affirmative(text: str) -> None:
    assert not is_affirmative(text)


@pytest.mark.parametrize("text", ["no", "no thanks", "nah", "i'm all set", "that's all"])
def test_negative(text: str) -> None:
    assert is_negative(text)


@pytest.mark.parametrize("text", ["thanks bye", "got it", "okay thanks a lot", "perfect", "alright i'll try that thank you"])
def test_closing(text: str) -> None:
    assert is_closing(text)


@pytest.mark.parametrize("text", ["how do i clear my cache thanks", "thanks but the printer is still broken and i need it for the board meeting today"])
def test_not_closing_when_asking_or_long(text: str) -> None:
    assert not is_closing(text)


@pytest.mark.parametrize("text", ["hi", "good morning", "um hello", "hey there"])
def test_greeting(text: str) -> None:
    assert is_greeting(text)


@pytest.mark.parametrize("text", ["hi my laptop is broken", "yes", "okay"])
def test_not_greeting(text: str) -> None:
    assert not is_greeting(text)


def test_bot_check() -> None:
    assert is_bot_check("um is this a recording")
    assert not is_bot_check("the recording in teams won't play")


@pytest.mark.parametrize(("text", "digits", "score"), [("five", "", 5), ("i'd say a four", "", 4), ("", "3", 3), ("2 out of 5", "", 2), ("great", "", None)])
def test_survey_score(text: str, digits: str, score: int | None) -> None:
    assert survey_score(text, digits) == score


def test_answer_book_matches_all_word_groups_and_tolerates_split_words() -> None:
    book = load_answer_book(CONFIG_DIR / "answers.yaml")
    assert book.find("how do i set an out of office reply").id == "out-of-office"
    assert book.find("how do i get my email on my android phone").id == "email-on-phone"
    assert book.find("how do i get out look on my phone").id == "email-on-phone"
    assert book.find("where do i find the guest wi fi terms for a vendor").id == "guest-wifi"
    assert book.find("my office chair squeaks") is None


def test_answer_book_errors_name_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("answers:\n  - id: a\n    say: hello\n")
    with pytest.raises(ConfigError, match=r"answers\[0\]\.when: required"):
        load_answer_book(path)


def test_directory_lookup_normalises_numbers(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text('employees:\n  - {number: "+1 (555) 123-0001", name: Dana Whitfield, department: Finance, vip: true}\n')
    directory = load_directory(path)
    assert directory.lookup("+15551230001").name == "Dana Whitfield"
    assert directory.lookup("5551230001").vip is True
    assert directory.lookup("+15559999999") is None
    assert directory.lookup(None) is None
    assert normalise_number("anonymous") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("employees:\n  - {name: Dana}\n", r"employees\[0\]\.number: required"),
        ("employees:\n  - {number: '+15551230001', name: Dana, vip: maybe}\n", r"employees\[0\]\.vip: expected true or false"),
        ("employees: [unclosed\n", "invalid YAML"),
        ("employees: 5\n", "employees: expected a list"),
    ],
)
def test_directory_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_directory(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes please", True), ("okay", True), ("ok sure", True), ("sure go ahead", True), ("okay thanks", False),
     ("okay it's being looked at", False), ("okay the out look app", False), ("yes but the app is still broken and i need", False)],
)
def test_only_a_real_yes_accepts_an_offer(text: str, expected: bool) -> None:
    assert is_affirmative(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("when does tonight's maintenance window start", True), ("i have a question about my loaner laptop", True),
     ("yeah so the thing", False), ("about the about the on my", False), ("i was wondering um", False)],
)
def test_says_something_separates_a_statement_from_filler(text: str, expected: bool) -> None:
    assert says_something(text) is expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("directory.yaml", "employees:\n  - {number: '+15551230001', name: Dana, departmnet: Finance}\n", "employees[0].departmnet: unknown key (did you mean 'department'?)"),
        ("directory.yaml", "employes:\n  - {number: '+15551230001', name: Dana}\n", "employes: unknown key (did you mean 'employees'?)"),
        ("answers.yaml", "answers:\n  - {id: a, when: [[vpn]], say: Use the app., sya: x}\n", "answers[0].sya: unknown key (did you mean 'say'?)"),
        ("answers.yaml", "answers:\n  - {id: a, when: [[]], say: Use the app.}\n", "answers[0].when[0]: must not be empty"),
    ],
)
def test_unknown_keys_in_the_directory_and_answers_name_the_file_and_key(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        (load_directory if name == "directory.yaml" else load_answer_book)(path)
    assert str(raised.value) == f"{path}: {message}"
