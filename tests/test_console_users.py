"""Console users: ``frontdoor console add-user|list-users|remove-user`` and password checking."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from frontdoor.cli import main
from frontdoor.errors import InputError
from frontdoor.storage.database import Database
from frontdoor.storage.schema import ConsoleUser
from frontdoor.console.cli import prompt_password
from frontdoor.console.sessions import ConsoleSessions, SessionCheck
from frontdoor.console.users import ConsoleUsers

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    monkeypatch.setenv("FRONTDOOR_DATABASE_URL", url)
    return url


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_add_user_stores_a_salted_hash_that_verifies(database_file: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = run(monkeypatch, capsys, "correct horse battery\n", "console", "add-user", "alex", "--password-stdin")
    assert (status, out.strip()) == (0, "console user alex added")
    database = Database(database_file)
    with database.session() as session:
        stored = session.scalar(select(ConsoleUser.password_hash).where(ConsoleUser.name == "alex"))
    assert stored is not None and stored.startswith(("scrypt:", "pbkdf2:")) and "correct horse" not in stored
    users = ConsoleUsers(database)
    assert users.verify("alex", "correct horse battery") is True
    assert users.verify("alex", "correct horse batterY") is False
    assert users.verify("nobody", "correct horse battery") is False


def test_existing_user_needs_replace_and_replacing_ends_their_sessions(database_file: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    run(monkeypatch, capsys, "first password 123\n", "console", "add-user", "alex", "--password-stdin")
    run(monkeypatch, capsys, "other password 789\n", "console", "add-user", "sam", "--password-stdin")
    database = Database(database_file)
    users, sessions = ConsoleUsers(database), ConsoleSessions(database, timedelta(hours=8))
    alex_tokens = [sessions.start("alex", NOW), sessions.start("alex", NOW)]
    sam_token = sessions.start("sam", NOW)
    assert [sessions.check(token, NOW).user for token in alex_tokens] == ["alex", "alex"]
    status, _, err = run(monkeypatch, capsys, "second password 456\n", "console", "add-user", "alex", "--password-stdin")
    assert status == 2
    assert err.strip() == "frontdoor: error: console user 'alex' already exists: pass --replace to set a new password"
    status, out, _ = run(monkeypatch, capsys, "second password 456\n", "console", "add-user", "alex", "--password-stdin", "--replace")
    assert (status, out.strip()) == (0, "console user alex has a new password")
    assert users.verify("alex", "first password 123") is False
    assert users.verify("alex", "second password 456") is True
    assert [sessions.check(token, NOW) for token in alex_tokens] == [SessionCheck(None, True)] * 2
    assert sessions.check(sam_token, NOW) == SessionCheck("sam", False)


@pytest.mark.parametrize(
    ("password", "message"),
    [("\n", "the password is empty"), ("   \n", "the password is empty"), ("short\n", "the password is too short: use at least 12 characters")],
)
def test_empty_and_short_passwords_are_refused(database_file: str, monkeypatch, capsys, password: str, message: str) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run(monkeypatch, capsys, password, "console", "add-user", "alex", "--password-stdin")
    assert status == 2
    assert err.strip() == f"frontdoor: error: {message}"
    assert ConsoleUsers(Database(database_file)).listing() == []


def test_bad_user_names_are_refused(database_file: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run(monkeypatch, capsys, "correct horse battery\n", "console", "add-user", "al ex", "--password-stdin")
    assert status == 2
    assert "user name 'al ex'" in err


def test_without_a_terminal_the_password_must_come_from_stdin(database_file: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run(monkeypatch, capsys, "correct horse battery\n", "console", "add-user", "alex")
    assert status == 2
    assert "--password-stdin" in err


def test_prompt_asks_twice_and_refuses_a_mismatch() -> None:
    answers = iter(["correct horse battery", "correct horse battery"])
    assert prompt_password(lambda prompt: next(answers)) == "correct horse battery"
    answers = iter(["correct horse battery", "correct horse batter"])
    with pytest.raises(InputError, match="do not match"):
        prompt_password(lambda prompt: next(answers))
    prompts: list[str] = []
    with pytest.raises(InputError, match="too short"):
        prompt_password(lambda prompt: prompts.append(prompt) or "short")
    assert prompts == ["New password: "]


def test_list_and_remove_users(database_file: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = run(monkeypatch, capsys, "", "console", "list-users")
    assert (status, "no console users yet" in out) == (0, True)
    run(monkeypatch, capsys, "correct horse battery\n", "console", "add-user", "sam", "--password-stdin")
    run(monkeypatch, capsys, "correct horse battery\n", "console", "add-user", "alex", "--password-stdin")
    status, out, _ = run(monkeypatch, capsys, "", "console", "list-users")
    assert [line.split("\t")[0] for line in out.splitlines()] == ["alex", "sam"]
    sessions = ConsoleSessions(Database(database_file), timedelta(hours=8))
    token = sessions.start("sam", NOW)
    status, out, _ = run(monkeypatch, capsys, "", "console", "remove-user", "sam")
    assert (status, out.strip()) == (0, "console user sam removed")
    assert ConsoleUsers(Database(database_file)).verify("sam", "correct horse battery") is False
    assert sessions.check(token, NOW) == SessionCheck(None, True)
    status, _, err = run(monkeypatch, capsys, "", "console", "remove-user", "sam")
    assert status == 1 and "no console user named 'sam'" in err


def test_users_on_both_backends(database: Database) -> None:
    users = ConsoleUsers(database)
    assert users.add("alex", "correct horse battery", NOW) is True
    assert users.add("alex", "another long password", NOW, replace=True) is False
    assert users.verify("alex", "another long password") is not None
    assert [u.name for u in users.listing()] == ["alex"]
