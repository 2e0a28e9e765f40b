"""The frontdoor command line, run as a user runs it: a real process, real files, real exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, stdin: str | bytes = "", env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", *args], input=data, capture_output=True, env=environment, timeout=timeout
    )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    return {"FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_chat_answers_an_incident_question_with_status_eta_and_both_offers(db_env: dict[str, str]) -> None:
    result = run("chat", "--caller", "+15551230001", stdin="is email down\n", env=db_env)
    assert result.returncode == 0, result.stderr
    reply = [line for line in result.stdout.splitlines() if line.startswith("frontdoor>")][1]
    assert "2:30 PM" in reply and "text message when it's fixed" in reply and "person" in reply


def test_chat_hands_off_on_a_request_for_a_person_and_prints_the_summary(db_env: dict[str, str]) -> None:
    result = run("chat", "--caller", "+15551230001", stdin="let me talk to a person\nthis line is never read\n", env=db_env)
    assert result.returncode == 0, result.stderr
    assert "connecting you to a person" in result.stdout
    assert "warm-transfer summary" in result.stdout
    assert "Dana Whitfield" in result.stdout
    assert "Whisper:" in result.stdout
    assert "this line is never read" not in result.stdout


def test_chat_end_of_input_hangs_up_cleanly(db_env: dict[str, str]) -> None:
    result = run("chat", stdin="", env=db_env)
    assert result.returncode == 0
    assert "hung up" in result.stdout


def test_assess_outputs_one_result_per_conversation(db_env: dict[str, str]) -> None:
    lines = [
        {"id": "a", "caller": "+15551230001", "turns": ["is email down", "let me talk to a person"], "expect": {"handoff": True}},
        {"id": 7, "caller": None, "turns": ["how do i set an out of office reply", "thanks"], "note": "ignored"},
    ]
    result = run("assess", "--jsonl", "-", stdin="\n".join(json.dumps(line) for line in lines) + "\n", env=db_env)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["id"], first["handoff"], first["handoff_turn"], first["reason"]) == ("a", True, 1, "human_request")
    assert first["summary"]["caller"]["name"] == "Dana Whitfield"
    assert first["evidence"] and all({"signal", "kind", "what", "weight", "turn"} <= set(e) for e in first["evidence"])
    assert len(first["replies"]) == 3
    assert (second["id"], second["handoff"], second["handoff_turn"], second["reason"], second["summary"]) == (7, False, None, None, None)


def test_assess_reports_bad_lines_and_processes_the_rest(db_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "ok1", "turns": ["agent"]}\n'
        b"not json\n"
        b'{"id": "x", "turns": "agent"}\n'
        b"\xff\xfe\x00\x01\n"
        b'{"turns": ["hi"]}\n'
        b'{"id": "ok2", "turns": ["representative"]}\n'
    )
    result = run("assess", "--jsonl", str(path), env=db_env)
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok1", "ok2"]
    assert f"{path}: line 2: not valid JSON" in result.stderr
    assert f"{path}: line 3: 'turns' must be a list of strings" in result.stderr
    assert f"{path}: line 4: not UTF-8 text" in result.stderr
    assert f"{path}: line 5: 'id' must be a non-empty string or number" in result.stderr
    assert "4 line(s) failed, 2 processed" in result.stderr
    assert "Traceback" not in result.stderr


def test_assess_rejects_a_huge_line_without_reading_it_whole(db_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"id": "big", "turns": ["' + b"a" * 3_000_000 + b'"]}\n')
        handle.write(b'{"id": "after", "turns": ["agent"]}\n')
    result = run("assess", "--jsonl", str(path), env=db_env)
    assert result.returncode == 1
    assert "line 1: line is longer than 1,000,000 bytes" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["after"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("assess", "--jsonl", "/nonexistent/file.jsonl"), "frontdoor: error: /nonexistent/file.jsonl: no such file"),
        (("assess", "--jsonl", "/"), "frontdoor: error: /: is a folder, not a file"),
    ],
)
def test_assess_file_errors(db_env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    result = run(*args, env=db_env)
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_assess_empty_input_says_so(db_env: dict[str, str]) -> None:
    result = run("assess", "--jsonl", "-", stdin="\n\n", env=db_env)
    assert result.returncode == 1
    assert "no conversations in the input" in result.stderr


def test_every_command_accepts_config(db_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('[general]\norganisation = "Acme help desk"\n')
    result = run("chat", "--config", str(config), stdin="", env=db_env)
    assert "it's the Acme help desk assistant" in result.stdout
    for command in (["assess", "--jsonl", "-"], ["serve"], ["incidents", "list"]):
        help_text = run(*command, "--help", env=db_env).stdout
        assert "--config" in help_text, command


def test_chat_survives_binary_and_huge_input_without_a_traceback(db_env: dict[str, str]) -> None:
    garbage = b"\xff\xfe\x00\x1b[31m not text\n" + b"a" * 200_000 + b"\n"
    result = run("chat", stdin=garbage, env=db_env)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "went wrong" not in result.stdout
    assert result.stdout.count("frontdoor>") == 3
